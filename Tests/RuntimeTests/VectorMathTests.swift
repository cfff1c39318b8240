// The vectorized exp and erf against libm over dense grids, and the edge values they must get right.
import Foundation
import XCTest
@testable import Runtime

final class VectorMathTests: XCTestCase {
    func testExpAgainstLibm() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let want = Foundation.exp(x), got = vexp(x)
            worst = max(worst, Swift.abs(got - want) / want)
            x += 0.0137
        }
        XCTAssertLessThan(worst, 4e-7, "max relative error \(worst)")
        XCTAssertEqual(vexp(0), 1)
        XCTAssertEqual(vexp(-Float.infinity), 0)
        XCTAssertEqual(vexp(-100), 0)
        XCTAssertTrue(vexp(100).isFinite)  // saturates (2.4e38) instead of overflowing
    }

    func testErfAgainstLibm() {
        var worst: Float = 0
        var x: Float = -6
        while x < 6 {
            worst = max(worst, Swift.abs(verf(x) - Foundation.erf(x)))
            x += 0.001
        }
        XCTAssertLessThan(worst, 5e-7, "max abs error \(worst)")  // a few ULP near ±1
        XCTAssertEqual(verf(0), 0)
        XCTAssertEqual(verf(10), 1, accuracy: 1e-7)
        XCTAssertEqual(verf(-10), -1, accuracy: 1e-7)
    }

    func testVectorMapHandlesTailsAndThreads() {
        for n in [0, 1, 7, 8, 9, 100_003] {
            let x = Tensor.randn([n], seed: UInt64(n))
            let y = vectorMap(x) { $0 * 2 + 1 }
            XCTAssertEqual(y.scalars, x.scalars.map { $0 * 2 + 1 }, "n \(n)")
        }
    }
}
