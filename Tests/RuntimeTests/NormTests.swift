// LayerNorm, RMSNorm, BatchNorm (training and evaluation; [N, C], [N, C, L], [N, C, H, W]).
import XCTest
@testable import Runtime

final class NormTests: XCTestCase {
    func testLayerNormValues() {
        let x = T([2, 4], [1, 2, 3, 4, -1, -1, -1, -1])
        // Row 1: mean 2.5, variance 1.25. Row 2: constant → 0 (variance 0, eps keeps it finite).
        let rs = 1 / (1.25 + 1e-5).squareRoot()
        let row1 = [-1.5, -0.5, 0.5, 1.5].map { Float($0 * rs) }
        assertClose(layerNorm(x, weight: nil, bias: nil), shape: [2, 4], row1 + [0, 0, 0, 0])
        let w = T([4], [1, 2, 3, 4]), b = T([4], [0.5, 0, 0, -0.5])
        let expected = (0..<8).map { i -> Float in (i < 4 ? row1[i] : 0) * w.data[i % 4] + b.data[i % 4] }
        assertClose(layerNorm(x, weight: w, bias: b), shape: [2, 4], expected)
        assertClose(layerNorm(x, weight: w, bias: nil), shape: [2, 4], (0..<8).map { i in (i < 4 ? row1[i] : 0) * w.data[i % 4] })
        assertClose(layerNorm(x, weight: nil, bias: b), shape: [2, 4], (0..<8).map { i in (i < 4 ? row1[i] : 0) + b.data[i % 4] })
        // eps is added to the variance: eps = 1 on [0, 2] (variance 1) gives ±1/√2.
        assertClose(layerNorm(T([2], [0, 2]), weight: nil, bias: nil, eps: 1), shape: [2], [-0.70710678, 0.70710678])
    }

    func testRMSNormValues() {
        let x = T([1, 4], [1, 2, 3, 4])
        let rs = Float(1 / (7.5 + 1e-6).squareRoot())
        assertClose(rmsNorm(x, weight: nil), shape: [1, 4], [1, 2, 3, 4].map { $0 * rs })
        assertClose(rmsNorm(x, weight: T([4], [2, 2, 1, 0])), shape: [1, 4], [2 * rs, 4 * rs, 3 * rs, 0])
        assertClose(rmsNorm(T([2], [3, 4]), weight: nil, eps: 3.5), shape: [2], [0.75, 1])  // mean x² 12.5 + 3.5 = 16
    }

    func testBatchNormValuesAndRunningStats() {
        // x: [N 2, C 2, L 2]. Channel 0: 1, 3, 5, 7 (mean 4, var 5, unbiased 20/3). Channel 1: all 2.
        let x = T([2, 2, 2], [1, 3, 2, 2, 5, 7, 2, 2])
        let rm = T([2], [0, 1]), rv = T([2], [1, 2])
        let w = T([2], [2, 1]), b = T([2], [0, 1])
        let y = batchNorm(x, runningMean: rm, runningVar: rv, weight: w, bias: b, training: true, momentum: 0.1)
        let r = Float(1 / (5 + 1e-5).squareRoot())
        assertClose(y, shape: [2, 2, 2], [-3 * r * 2, -1 * r * 2, 1, 1, 1 * r * 2, 3 * r * 2, 1, 1])
        assertClose(rm, shape: [2], [0.4, 0.9 * 1 + 0.1 * 2])
        assertClose(rv, shape: [2], [0.9 * 1 + 0.1 * 20 / 3, 0.9 * 2 + 0])
        // Evaluation uses the running statistics and leaves them alone.
        let e = batchNorm(x, runningMean: rm, runningVar: rv, weight: w, bias: b, training: false)
        let xs = x.scalars, m = rm.scalars, v = rv.scalars
        let expected = (0..<8).map { i -> Float in
            let c = (i / 2) % 2
            return (xs[i] - m[c]) / (v[c] + 1e-5).squareRoot() * w.data[c] + b.data[c]
        }
        assertClose(e, shape: [2, 2, 2], expected)
        assertClose(rm, shape: [2], [0.4, 1.1])
        // [N, C] input; momentum 1 replaces the running stats with the batch ones.
        let x2 = T([3, 1], [1, 2, 6]), rm2 = T([1], [9]), rv2 = T([1], [9])
        _ = batchNorm(x2, runningMean: rm2, runningVar: rv2, weight: nil, bias: nil, training: true, momentum: 1)
        assertClose(rm2, shape: [1], [3]); assertClose(rv2, shape: [1], [7])  // unbiased: (4 + 1 + 9) / 2
        // No running stats: batch statistics even outside training.
        let y3 = batchNorm(x2, runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: false)
        let r3 = Float(1 / (14.0 / 3 + 1e-5).squareRoot())
        assertClose(y3, shape: [3, 1], [-2 * r3, -1 * r3, 3 * r3])
    }

    func testLayerNormGradients() {
        let x = randn([3, 6], seed: 71, std: 2), w = randn([6], seed: 72), b = randn([6], seed: 73)
        gradCheck("layerNorm", [x, w, b], eps: 1e-3) { layerNorm($0[0], weight: $0[1], bias: $0[2]) }
        gradCheck("layerNorm no affine", [x], eps: 1e-3) { layerNorm($0[0], weight: nil, bias: nil) }
        gradCheck("layerNorm weight only", [x, w], eps: 1e-3) { layerNorm($0[0], weight: $0[1], bias: nil) }
        gradCheck("layerNorm bias only", [x, b], eps: 1e-3) { layerNorm($0[0], weight: nil, bias: $0[1]) }
        gradCheck("layerNorm rank 3", [randn([2, 2, 5], seed: 74), randn([5], seed: 75), randn([5], seed: 76)], eps: 1e-3) {
            layerNorm($0[0], weight: $0[1], bias: $0[2], eps: 1e-3)
        }
    }

    func testRMSNormGradients() {
        let x = randn([3, 6], seed: 77, std: 2), w = randn([6], seed: 78)
        gradCheck("rmsNorm", [x, w], eps: 1e-3) { rmsNorm($0[0], weight: $0[1]) }
        gradCheck("rmsNorm no weight", [x], eps: 1e-3) { rmsNorm($0[0], weight: nil) }
        gradCheck("rmsNorm rank 3", [randn([2, 3, 4], seed: 79), w.slice(axis: 0, 0, 4).copy()], eps: 1e-3) {
            rmsNorm($0[0], weight: $0[1], eps: 1e-2)
        }
    }

    func testBatchNormGradients() {
        for shape in [[5, 3], [3, 2, 4], [2, 2, 3, 2]] {
            let c = shape[1]
            let x = randn(shape, seed: 80, std: 1.5), w = randn([c], seed: 81), b = randn([c], seed: 82)
            // Training: fresh running stats on every call (the op updates them in place).
            gradCheck("batchNorm train \(shape)", [x, w, b], eps: 1e-3) {
                batchNorm($0[0], runningMean: Tensor.zeros([c]), runningVar: Tensor.ones([c]), weight: $0[1], bias: $0[2],
                          training: true)
            }
            gradCheck("batchNorm train no affine \(shape)", [x], eps: 1e-3) {
                batchNorm($0[0], runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true)
            }
            let rm = randn([c], seed: 83, std: 0.3), rv = uniform([c], seed: 84, 0.5, 2)
            gradCheck("batchNorm eval \(shape)", [x, w, b], eps: 1e-3) {
                batchNorm($0[0], runningMean: rm, runningVar: rv, weight: $0[1], bias: $0[2], training: false)
            }
            gradCheck("batchNorm eval no affine \(shape)", [x], eps: 1e-3) {
                batchNorm($0[0], runningMean: rm, runningVar: rv, weight: nil, bias: nil, training: false)
            }
        }
    }
}
