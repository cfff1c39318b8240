// Losses with all their options: hand-computed values and gradient checks.
import XCTest
@testable import Runtime

final class LossTests: XCTestCase {
    let logits = T([2, 3], [0, 0, 0, 1, 2, 3])
    // -log softmax: row 0 is log 3 everywhere; row 1 is lse(1, 2, 3) − x = 3.40760596 − x.
    let ln3: Float = 1.0986123, lse: Float = 3.4076059

    func testCrossEntropyValues() {
        let r0 = ln3, r1 = lse - 3
        assertClose(crossEntropy(logits, targets: [0, 2]), shape: [], [(r0 + r1) / 2])
        assertClose(crossEntropy(logits, targets: [0, 2], reduction: .sum), shape: [], [r0 + r1])
        assertClose(crossEntropy(logits, targets: [0, 0], reduction: .none), shape: [2], [r0, lse - 1])
        // Ignored rows drop out of the numerator and the denominator.
        assertClose(crossEntropy(logits, targets: [0, -100]), shape: [], [r0])
        assertClose(crossEntropy(logits, targets: [1, 2], ignoreIndex: 1), shape: [], [r1])
        assertClose(crossEntropy(logits, targets: [-100, 2], reduction: .none), shape: [2], [0, r1])
        XCTAssertTrue(crossEntropy(logits, targets: [-100, -100]).item().isNaN, "all ignored: 0/0 as PyTorch")
        // Class weights: the mean divides by the targets' weights.
        let w = T([3], [1, 2, 3])
        assertClose(crossEntropy(logits, targets: [0, 2], weights: w), shape: [], [(1 * r0 + 3 * r1) / 4])
        assertClose(crossEntropy(logits, targets: [0, 2], weights: w, reduction: .none), shape: [2], [r0, 3 * r1])
        // Label smoothing ε: (1 − ε)(−log p_t) + ε/C Σ_c (−log p_c).
        let eps: Float = 0.1
        let smooth1 = (1 - eps) * r1 + eps / 3 * (3 * lse - 6)
        assertClose(crossEntropy(logits, targets: [0, 2], labelSmoothing: eps), shape: [], [(r0 + smooth1) / 2])
        // Smoothing with weights: the uniform part is weighted by the class weights, the mean by the targets' weights.
        let ws1 = (1 - eps) * 3 * r1 + eps / 3 * (1 * (lse - 1) + 2 * (lse - 2) + 3 * (lse - 3))
        let ws0 = (1 - eps) * 1 * r0 + eps / 3 * 6 * ln3
        assertClose(crossEntropy(logits, targets: [0, 2], weights: w, labelSmoothing: eps), shape: [], [(ws0 + ws1) / 4])
        // Stable for large logits.
        assertClose(crossEntropy(T([1, 2], [1000, 0]), targets: [1]), shape: [], [1000])
    }

    func testBCEWithLogitsValues() {
        let x = T([2], [0, 2]), y = T([2], [1, 0])
        assertClose(bceWithLogits(x, targets: y), shape: [], [(0.6931472 + 2.1269280) / 2])
        assertClose(bceWithLogits(x, targets: y, reduction: .none), shape: [2], [0.6931472, 2.1269280])
        assertClose(bceWithLogits(x, targets: y, posWeight: T([1], [3]), reduction: .none), shape: [2], [3 * 0.6931472, 2.1269280])
        assertClose(bceWithLogits(x, targets: y, weight: T([2], [2, 0.5]), reduction: .sum), shape: [], [2 * 0.6931472 + 0.5 * 2.1269280])
        // Soft targets; pos_weight one per label (last axis).
        assertClose(bceWithLogits(T([1], [0]), targets: T([1], [0.5])), shape: [], [0.6931472])
        let x2 = T([2, 2], [0, 0, 0, 0]), y2 = T([2, 2], [1, 1, 0, 1])
        assertClose(bceWithLogits(x2, targets: y2, posWeight: T([2], [2, 5]), reduction: .none), shape: [2, 2],
                    [2, 5, 1, 5].map { $0 * 0.6931472 })
        // Stable at large logits.
        assertClose(bceWithLogits(T([2], [100, -100]), targets: T([2], [0, 1]), reduction: .none), shape: [2], [100, 100])
        assertClose(bceWithLogits(T([2], [100, -100]), targets: T([2], [1, 0]), reduction: .none), shape: [2], [0, 0])
    }

    func testKLValues() {
        let logq = T([2, 2], [Float(Foundation.log(0.5)), Float(Foundation.log(0.5)), Float(Foundation.log(0.25)), Float(Foundation.log(0.75))])
        let p = T([2, 2], [1, 0, 0.5, 0.5])
        // Row 0: 1·(0 − log ½) + 0 = log 2. Row 1: ½ log(½/¼) + ½ log(½/¾) = ½ log(4/3).
        let r0: Float = 0.6931472, r1: Float = 0.5 * 0.2876821
        assertClose(klDivergence(input: logq, target: p), shape: [], [(r0 + r1) / 2])
        assertClose(klDivergence(input: logq, target: p, reduction: .sum), shape: [], [r0 + r1])
        assertClose(klDivergence(input: logq, target: p, reduction: .mean), shape: [], [(r0 + r1) / 4])
        let none = klDivergence(input: logq, target: p, reduction: .none)
        assertClose(none, shape: [2, 2], [r0, 0, 0.5 * 0.6931472, 0.5 * -0.4054651])
        // log_target: the same with log p given. (As in PyTorch, a target of log 0 = -inf gives NaN there:
        // exp(-inf)·(-inf − x); only the plain form has the 0·log 0 = 0 convention.)
        let logp = T([1, 2], [Float(Foundation.log(0.5)), Float(Foundation.log(0.5))])
        assertClose(klDivergence(input: logq.slice(axis: 0, 1, 2), target: logp, logTarget: true), shape: [], [r1])
        XCTAssertTrue(klDivergence(input: logq, target: T([2, 2], [0, -.infinity, 0, 0]), logTarget: true).item().isNaN)
        // Distillation: T² KL(softmax(t/T) ‖ softmax(s/T)); zero when student = teacher.
        let s = T([2, 3], [1, 2, 3, 0, -1, 1]), t = T([2, 3], [3, 1, 0, 0.5, 0.5, 0])
        assertClose(distillationKL(student: s, teacher: s, temperature: 2), shape: [], [0], atol: 1e-6)
        let temp: Float = 2
        let expected = temp * temp * klDivergence(input: logSoftmax(s / temp), target: softmax(t / temp)).item()
        assertClose(distillationKL(student: s, teacher: t, temperature: temp), shape: [], [expected])
    }

    func testRegressionAndSimilarityValues() {
        let a = T([2], [1, 2]), b = T([2], [3, 5])
        assertClose(mseLoss(a, b), shape: [], [6.5]); assertClose(mseLoss(a, b, reduction: .sum), shape: [], [13])
        assertClose(l1Loss(a, b), shape: [], [2.5]); assertClose(l1Loss(a, b, reduction: .none), shape: [2], [2, 3])
        let x = T([4, 2], [1, 0, 1, 2, 1, 0, 0, 0]), y = T([4, 2], [0, 1, 2, 4, -3, 0, 1, 1])
        assertClose(cosineSimilarity(x, y), shape: [4], [0, 1, -1, 0])
        assertClose(cosineSimilarity(x, y, axis: 0), shape: [2],
                    [-1 / (3 * 14 as Float).squareRoot(), 8 / (4 * 18 as Float).squareRoot()])  // columns: dot −1 and 8
        assertClose(cosineLoss(x, y), shape: [], [1])
        assertClose(cosineLoss(x, y, reduction: .none), shape: [4], [1, 0, 2, 1])
        assertClose(softplus(T([4], [0, 1, -100, 100])), shape: [4], [0.6931472, 1.3132616, 0, 100])
        assertClose(xlogx(T([4], [0, 1, 0.5, Float(M_E)])), shape: [4], [0, 0, -0.3465736, Float(M_E)])
    }

    func testCrossEntropyGradients() {
        let x = randn([4, 5], seed: 140, std: 2), w = uniform([5], seed: 141, 0.5, 2)
        let targets = [3, 0, 4, 3], withIgnored = [3, -100, 4, 1]
        gradCheck("crossEntropy", [x], eps: 1e-3) { crossEntropy($0[0], targets: targets) }
        gradCheck("crossEntropy sum", [x], eps: 1e-3) { crossEntropy($0[0], targets: targets, reduction: .sum) }
        gradCheck("crossEntropy none", [x], eps: 1e-3) { crossEntropy($0[0], targets: targets, reduction: .none) }
        gradCheck("crossEntropy ignoreIndex", [x], eps: 1e-3) { crossEntropy($0[0], targets: withIgnored) }
        gradCheck("crossEntropy custom ignoreIndex", [x], eps: 1e-3) { crossEntropy($0[0], targets: targets, ignoreIndex: 3) }
        gradCheck("crossEntropy weights", [x], eps: 1e-3) { crossEntropy($0[0], targets: targets, weights: w) }
        gradCheck("crossEntropy smoothing", [x], eps: 1e-3) { crossEntropy($0[0], targets: targets, labelSmoothing: 0.2) }
        gradCheck("crossEntropy all options", [x], eps: 1e-3) {
            crossEntropy($0[0], targets: withIgnored, weights: w, labelSmoothing: 0.15)
        }
        gradCheck("crossEntropy all options none", [x], eps: 1e-3) {
            crossEntropy($0[0], targets: withIgnored, weights: w, labelSmoothing: 0.15, reduction: .none)
        }
    }

    func testBCEGradients() {
        let x = randn([3, 4], seed: 150, std: 2), soft = uniform([3, 4], seed: 151, 0.05, 0.95)
        let hard = Tensor(shape: [3, 4], scalars: uniform([3, 4], seed: 152, 0, 1).scalars.map { $0 < 0.5 ? 0 : 1 })
        let pw = uniform([4], seed: 153, 0.5, 3), w = uniform([3, 4], seed: 154, 0.5, 2)
        gradCheck("bce hard targets", [x, hard], eps: 1e-3, wrt: [0]) { bceWithLogits($0[0], targets: $0[1]) }
        gradCheck("bce soft targets (both)", [x, soft], eps: 1e-3) { bceWithLogits($0[0], targets: $0[1]) }
        gradCheck("bce posWeight (all)", [x, soft, pw], eps: 1e-3) { bceWithLogits($0[0], targets: $0[1], posWeight: $0[2]) }
        gradCheck("bce weight", [x, soft, w], eps: 1e-3) {
            bceWithLogits($0[0], targets: $0[1], posWeight: pw, weight: $0[2], reduction: .sum)
        }
        gradCheck("bce none", [x], eps: 1e-3) { bceWithLogits($0[0], targets: hard, posWeight: pw, reduction: .none) }
    }

    func testKLGradients() {
        let logq = logSoftmax(randn([3, 4], seed: 160)), p = softmax(randn([3, 4], seed: 161))
        for r in [KLReduction.batchMean, .mean, .sum, .none] {
            gradCheck("kl \(r)", [logq, p], eps: 1e-3) { klDivergence(input: $0[0], target: $0[1], reduction: r) }
            gradCheck("kl logTarget \(r)", [logq, log(p)], eps: 1e-3) {
                klDivergence(input: $0[0], target: $0[1], logTarget: true, reduction: r)
            }
        }
        let s = randn([3, 5], seed: 162, std: 2), t = randn([3, 5], seed: 163, std: 2)
        for temp: Float in [1, 2, 4] {
            gradCheck("distillationKL T \(temp)", [s, t], eps: 1e-3, wrt: [0]) {
                distillationKL(student: $0[0], teacher: $0[1], temperature: temp)
            }
        }
        // The teacher gets no gradient.
        let st = s.copy().requiringGrad(), te = t.copy().requiringGrad()
        distillationKL(student: st, teacher: te, temperature: 2).backward()
        XCTAssertNotNil(st.grad); XCTAssertNil(te.grad)
    }

    func testOtherLossGradients() {
        let a = randn([3, 4], seed: 170), b = randn([3, 4], seed: 171)
        let bFar = add(a, awayFromZero([3, 4], seed: 172))
        for r in [Reduction.mean, .sum, .none] {
            gradCheck("mse \(r)", [a, b]) { mseLoss($0[0], $0[1], reduction: r) }
            gradCheck("l1 \(r)", [a, bFar]) { l1Loss($0[0], $0[1], reduction: r) }
            gradCheck("cosineLoss \(r)", [a, b], eps: 1e-3) { cosineLoss($0[0], $0[1], reduction: r) }
        }
        gradCheck("cosineSimilarity axis 0", [a, b], eps: 1e-3) { cosineSimilarity($0[0], $0[1], axis: 0) }
        gradCheck("cosineSimilarity broadcast", [a, randn([4], seed: 173)], eps: 1e-3) { cosineSimilarity($0[0], $0[1]) }
        gradCheck("softplus", [randn([3, 4], seed: 174, std: 3)], eps: 1e-3) { softplus($0[0]) }
        // A zero vector: similarity 0 and finite gradients (x: y/(ε‖y‖) through the dot product; y: 0).
        let z = Tensor.zeros([1, 3]).requiringGrad(), w = T([1, 3], [3, 0, 4]).requiringGrad()
        let c = cosineSimilarity(z, w)
        XCTAssertEqual(c.scalars, [0])
        c.sum().backward()
        assertClose(z.grad!, shape: [1, 3], [0.6e8, 0, 0.8e8])
        assertClose(w.grad!, shape: [1, 3], [0, 0, 0])
        gradCheck("xlogx", [uniform([3, 4], seed: 175, 0.2, 2)], eps: 1e-3) { xlogx($0[0]) }
    }
}
