// Weight normalization and the causal chomp: the identity at initialization, gradients by finite
// differences, and Conv1d(padding (K−1)d) + Chomp1d((K−1)d) equal to Conv1d(causal: true).
import XCTest
@testable import Runtime

final class WeightNormTests: XCTestCase {
    func testInitialWeightIsTheWrappedConvolutionsWeight() {
        let layer = WeightNormConv1d(3, 5, kernel: 3, dilation: 2, causal: true, generator: RandomGenerator(seed: 4, stream: 1))
        let plain = Conv1d(3, 5, kernel: 3, dilation: 2, causal: true, generator: RandomGenerator(seed: 4, stream: 1))
        XCTAssertEqual(layer.g.shape, [5, 1, 1])
        let w = layer.weight.scalars, v = plain.weight.scalars
        XCTAssertEqual(w.count, v.count)
        for (a, b) in zip(w, v) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
        XCTAssertEqual(Set(layer.namedParameters().map(\.0)), ["weight_g", "weight_v", "bias"])
    }

    func testWeightNormScalesEachOutputSliceToG() {
        let v = Tensor.randn([4, 2, 3], seed: 1, stream: 2)
        let g = Tensor(shape: [4, 1, 1], scalars: [0.5, 2, -1, 3])
        let w = weightNorm(v, g: g)
        for o in 0..<4 {
            let row = w.slice(axis: 0, o, o + 1).scalars, vr = v.slice(axis: 0, o, o + 1).scalars
            let norm = sqrt(row.reduce(0) { $0 + $1 * $1 }), vnorm = sqrt(vr.reduce(0) { $0 + $1 * $1 })
            XCTAssertEqual(norm, abs(g.scalars[o]), accuracy: 1e-5)
            // and the direction: w = g · v / ‖v‖ element by element
            for (a, b) in zip(row, vr) { XCTAssertEqual(a, g.scalars[o] * b / vnorm, accuracy: 1e-5) }
        }
    }

    func testWeightNormGradients() {
        let v = Tensor.randn([3, 2, 3], seed: 5, stream: 1)
        let g = Tensor(shape: [3, 1, 1], scalars: [0.7, 1.3, -0.4])
        gradCheck("weightNorm", [v, g], eps: 1e-3) { weightNorm($0[0], g: $0[1]) }
        let x = Tensor.randn([2, 2, 7], seed: 6, stream: 1), b = Tensor.randn([3], seed: 6, stream: 2)
        gradCheck("weight-normed causal conv1d", [x, v, g, b], eps: 1e-3) {
            conv1d($0[0], weight: weightNorm($0[1], g: $0[2]), bias: $0[3], dilation: 2, causal: true)
        }
    }

    func testChompAfterSymmetricPaddingIsCausal() {
        let x = Tensor.randn([2, 3, 9], seed: 7, stream: 1)
        for d in [1, 2, 4] {
            let w = Tensor.randn([4, 3, 3], seed: 8, stream: UInt64(d)), b = Tensor.randn([4], seed: 9, stream: 1)
            let pad = 2 * d
            let chomped = Chomp1d(pad)(conv1d(x, weight: w, bias: b, padding: pad, dilation: d))
            let causal = conv1d(x, weight: w, bias: b, dilation: d, causal: true)
            XCTAssertEqual(chomped.shape, causal.shape)
            for (a, c) in zip(chomped.scalars, causal.scalars) { XCTAssertEqual(a, c, accuracy: 1e-5) }
        }
        gradCheck("chomp", [x]) { Chomp1d(3)($0[0]) }
    }
}
