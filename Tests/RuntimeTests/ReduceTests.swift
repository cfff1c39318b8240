// Reductions: sum, mean, max, min, argmax, logsumexp; values and gradients.
import XCTest
@testable import Runtime

final class ReduceTests: XCTestCase {
    func testSumMeanValues() {
        let x = T([2, 3], [1, 2, 3, 4, 5, 6])
        assertClose(x.sum(), shape: [], [21])
        assertClose(x.mean(), shape: [], [3.5])
        assertClose(x.sum(axis: 0), shape: [3], [5, 7, 9])
        assertClose(x.sum(axis: 1), shape: [2], [6, 15])
        assertClose(x.sum(axis: -1, keepDims: true), shape: [2, 1], [6, 15])
        assertClose(x.mean(axis: 0, keepDims: true), shape: [1, 3], [2.5, 3.5, 4.5])
        let y = T([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])
        assertClose(y.sum(axis: 1), shape: [2, 2], [4, 6, 12, 14])
        assertClose(y.mean(axis: 2), shape: [2, 2], [1.5, 3.5, 5.5, 7.5])
        assertClose(y.sum(axis: 0), shape: [2, 2], [6, 8, 10, 12])
    }

    func testMaxMinValues() {
        let x = T([2, 3], [1, 7, 3, 9, -2, 9])
        assertClose(x.max(axis: 1), shape: [2], [7, 9])
        assertClose(x.min(axis: 0), shape: [3], [1, -2, 3])
        assertClose(x.max(axis: 0, keepDims: true), shape: [1, 3], [9, 7, 9])
        XCTAssertEqual(x.argmax(axis: 1), [1, 0])  // first of the tie
        XCTAssertEqual(x.argmin(axis: 1), [0, 1])
        XCTAssertEqual(x.maxValue(), 9)
        // At a tie the gradient goes to the first maximal element.
        let t = x.copy().requiringGrad()
        t.max(axis: 1).sum().backward()
        assertClose(t.grad!, shape: [2, 3], [0, 1, 0, 1, 0, 0])
    }

    func testLogsumexpValues() {
        let x = T([2, 3], [0, 0, 0, 1000, 1000, -.infinity])
        assertClose(x.logsumexp(axis: 1), shape: [2], [Float(Foundation.log(3.0)), 1000 + Float(Foundation.log(2.0))])
        let allInf = T([1, 2], [-.infinity, -.infinity])
        XCTAssertEqual(allInf.logsumexp(axis: 1).scalars, [-.infinity])
        let y = T([2, 2], [1, 2, 3, 4])
        let e = Foundation.log(Foundation.exp(1.0) + Foundation.exp(3.0)), f = Foundation.log(Foundation.exp(2.0) + Foundation.exp(4.0))
        assertClose(y.logsumexp(axis: 0, keepDims: true), shape: [1, 2], [Float(e), Float(f)])
    }

    func testSumMeanGradients() {
        let x = randn([2, 3, 4], seed: 11)
        gradCheck("sum all", [x]) { $0[0].sum() }
        gradCheck("mean all", [x]) { $0[0].mean() }
        for axis in [0, 1, 2, -1] {
            for keep in [false, true] {
                gradCheck("sum axis \(axis) keep \(keep)", [x]) { $0[0].sum(axis: axis, keepDims: keep) }
                gradCheck("mean axis \(axis) keep \(keep)", [x]) { $0[0].mean(axis: axis, keepDims: keep) }
            }
        }
        gradCheck("sum of rank 0", [T([], [2])]) { $0[0].sum() }
    }

    func testMaxMinGradients() {
        let x = distinct([3, 4, 2], seed: 12)
        for axis in [0, 1, 2] {
            for keep in [false, true] {
                gradCheck("max axis \(axis) keep \(keep)", [x]) { $0[0].max(axis: axis, keepDims: keep) }
                gradCheck("min axis \(axis) keep \(keep)", [x]) { $0[0].min(axis: axis, keepDims: keep) }
            }
        }
    }

    func testLogsumexpGradients() {
        let x = randn([3, 4, 2], seed: 13, std: 2)
        for axis in [0, 1, 2] {
            for keep in [false, true] {
                gradCheck("logsumexp axis \(axis) keep \(keep)", [x]) { $0[0].logsumexp(axis: axis, keepDims: keep) }
            }
        }
    }
}
