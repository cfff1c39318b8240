// ProKD's prototype pieces against hand computations: class means and their gradient, the moving
// averages, the contrastive alignment loss (and a finite-difference check of its gradient), the
// fallback to moving averages, and the rectification of pseudo-labels by prototype distances.
import Foundation
import ProKDCore
import Runtime
import XCTest

final class PrototypeTests: XCTestCase {
    func testClassMeansAndTheirGradient() {
        let x = Tensor(shape: [4, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        x.requiresGrad = true
        let (m, counts) = classMeans(x, classes: [0, 1, 0, -1], count: 3)
        XCTAssertEqual(counts, [2, 1, 0])
        XCTAssertEqual(m.scalars, [3, 4, 3, 4, 0, 0])
        m.sum().backward()
        // Row 0 and 2 share class 0 (½ each), row 1 alone in class 1, row 3 in no class.
        XCTAssertEqual(x.grad!.scalars, [0.5, 0.5, 1, 1, 0.5, 0.5, 0, 0])
    }

    func testMovingAveragesAndTheirState() throws {
        var ema = EMAPrototypes(classes: 3, width: 2, momentum: 0.9)
        ema.update(Tensor(shape: [3, 2], scalars: [1, 1, 2, 2, 9, 9]), counts: [1, 3, 0])
        XCTAssertEqual(ema.values[0], [1, 1])
        XCTAssertNil(ema.values[2], "a class never seen has no prototype")
        ema.update(Tensor(shape: [3, 2], scalars: [11, 1, 0, 0, 0, 0]), counts: [2, 0, 0])
        XCTAssertEqual(ema.values[0]![0], 0.9 * 1 + 0.1 * 11, accuracy: 1e-6)
        XCTAssertEqual(ema.values[0]![1], 1, accuracy: 1e-6)
        XCTAssertEqual(ema.values[1], [2, 2], "a class absent from the batch keeps its average")
        var copy = EMAPrototypes(classes: 3, width: 2, momentum: 0.9)
        try copy.load(ema.tensor)
        XCTAssertEqual(copy.values.map { $0 ?? [] }, ema.values.map { $0 ?? [] })
        XCTAssertNil(copy.values[2])
        XCTAssertThrowsError(try copy.load(Tensor.zeros([2, 2])))
    }

    /// −1/K Σ_k log softmax_j(cos(s_k, t_j)/τ)[k], and the same with s and t swapped.
    func handLoss(_ s: [[Double]], _ t: [[Double]], _ tau: Double) -> Double {
        func cos(_ a: [Double], _ b: [Double]) -> Double {
            zip(a, b).map { $0 * $1 }.reduce(0, +) / (sqrt(a.map { $0 * $0 }.reduce(0, +)) * sqrt(b.map { $0 * $0 }.reduce(0, +)))
        }
        func nce(_ a: [[Double]], _ b: [[Double]]) -> Double {
            var total = 0.0
            for k in a.indices {
                let logits = b.map { cos(a[k], $0) / tau }
                let z = log(logits.map { Foundation.exp($0) }.reduce(0, +))
                total += z - logits[k]
            }
            return total / Double(a.count)
        }
        return nce(s, t) + nce(t, s)
    }

    func testAlignmentLossEqualsTheHandComputation() {
        let s: [[Double]] = [[1, 0.2, -0.3], [0.1, 1.5, 0.4], [-0.7, 0.3, 0.9]]
        let t: [[Double]] = [[0.8, 0.1, 0.0], [0.3, 1.0, -0.2], [0.2, -0.4, 1.1]]
        let loss = prototypeAlignmentLoss(source: Tensor(shape: [3, 3], scalars: s.flatMap { $0.map(Float.init) }),
                                          target: Tensor(shape: [3, 3], scalars: t.flatMap { $0.map(Float.init) }), temperature: 0.1)
        XCTAssertEqual(Double(loss.item()), handLoss(s, t, 0.1), accuracy: 1e-4)
        // Matched prototypes pointing the same way cost less than the same prototypes shuffled.
        let shuffled = prototypeAlignmentLoss(source: Tensor(shape: [3, 3], scalars: s.flatMap { $0.map(Float.init) }),
                                              target: Tensor(shape: [3, 3], scalars: [t[1], t[2], t[0]].flatMap { $0.map(Float.init) }), temperature: 0.1)
        XCTAssertGreaterThan(shuffled.item(), loss.item() + 1)
    }

    func testAlignmentGradientMatchesFiniteDifferences() {
        let s: [Float] = [1, 0.2, -0.3, 0.1, 1.5, 0.4, -0.7, 0.3, 0.9]
        let t: [Float] = [0.8, 0.1, 0.0, 0.3, 1.0, -0.2, 0.2, -0.4, 1.1]
        let tau: Float = 0.5
        let src = Tensor(shape: [3, 3], scalars: s), tgt = Tensor(shape: [3, 3], scalars: t)
        src.requiresGrad = true
        tgt.requiresGrad = true
        prototypeAlignmentLoss(source: src, target: tgt, temperature: tau).backward()
        func f(_ s: [Float], _ t: [Float]) -> Double {
            handLoss(stride(from: 0, to: 9, by: 3).map { s[$0..<($0 + 3)].map(Double.init) },
                     stride(from: 0, to: 9, by: 3).map { t[$0..<($0 + 3)].map(Double.init) }, Double(tau))
        }
        let h: Float = 1e-3
        for i in 0..<9 {
            var a = s, b = s
            a[i] += h; b[i] -= h
            XCTAssertEqual(Double(src.grad!.scalars[i]), (f(a, t) - f(b, t)) / Double(2 * h), accuracy: 2e-3, "d/ds[\(i)]")
            var c = t, d = t
            c[i] += h; d[i] -= h
            XCTAssertEqual(Double(tgt.grad!.scalars[i]), (f(s, c) - f(s, d)) / Double(2 * h), accuracy: 2e-3, "d/dt[\(i)]")
        }
    }

    func testAlignmentStepFallsBackToMovingAverages() {
        var es = EMAPrototypes(classes: 3, width: 2, momentum: 0.5), et = EMAPrototypes(classes: 3, width: 2, momentum: 0.5)
        // Source batch: classes 0 and 1; target batch: class 0 only. Class 1 on the target side has
        // no average yet, so only class 0 is on both sides: no loss.
        let src = Tensor(shape: [2, 2], scalars: [1, 0, 0, 1]), tgt = Tensor(shape: [1, 2], scalars: [1, 0.1])
        let first = alignmentStep(source: src, sourceClasses: [0, 1], target: tgt, targetClasses: [0], emaSource: &es, emaTarget: &et, temperature: 0.1)
        XCTAssertNil(first.loss)
        XCTAssertEqual(first.classes, 1)
        XCTAssertEqual(es.values[1], [0, 1])
        // Next: the target batch has classes 0 and 1, the source batch only class 1 → the source's class 0
        // comes from its average, and the loss covers both classes, its gradient reaching the batch rows.
        let tgt2 = Tensor(shape: [2, 2], scalars: [0.9, 0.2, 0.1, 1]), src2 = Tensor(shape: [1, 2], scalars: [0, 2])
        src2.requiresGrad = true
        tgt2.requiresGrad = true
        let second = alignmentStep(source: src2, sourceClasses: [1], target: tgt2, targetClasses: [0, 1], emaSource: &es, emaTarget: &et, temperature: 0.1)
        XCTAssertEqual(second.classes, 2)
        let expected = handLoss([[1, 0], [0, 2]], [[0.9, 0.2], [0.1, 1]], 0.1)
        XCTAssertEqual(Double(second.loss!.item()), expected, accuracy: 1e-4)
        second.loss!.backward()
        XCTAssertGreaterThan(src2.grad!.scalars.map(abs).max()!, 0)
        XCTAssertGreaterThan(tgt2.grad!.scalars.map(abs).max()!, 0)
        XCTAssertEqual(es.values[1]!, [0, 1.5], "the average moved after the step")
        // Both batches with class 1 only: class 0 has averages on both sides but no batch rows, so it
        // stays out of K′ and one class is left: no loss.
        let third = alignmentStep(source: src2.detach(), sourceClasses: [1], target: Tensor(shape: [1, 2], scalars: [0, 1]), targetClasses: [1],
                                  emaSource: &es, emaTarget: &et, temperature: 0.1)
        XCTAssertNil(third.loss)
        XCTAssertEqual(third.classes, 1)
    }

    func testRectificationFollowsThePrototypes() {
        // Tags O, B-PER, I-PER → classes O, PER (types). Prototypes: O at (1, 0), PER at (0, 1).
        let protos: [[Float]?] = [[1, 0], [0, 1]]
        let classOfTag = [0, 1, 1]
        // The teacher leans to O (0.6) but the word's features sit on the PER prototype: the rectified
        // label moves to B-PER; a word on the O prototype keeps O with high confidence.
        let r = rectifiedLabels(features: [0.05, 1, 1, 0.02], width: 2, teacher: [[0.6, 0.3, 0.1], [0.6, 0.3, 0.1]], prototypes: protos,
                                classOfTag: classOfTag, temperature: 0.1, distance: .cosine)
        XCTAssertEqual(r[0].label, 1)
        XCTAssertEqual(r[1].label, 0)
        XCTAssertGreaterThan(r[1].confidence, 0.99)
        // By hand, word 0 (cosine): w ∝ exp(−d/τ), q ∝ w_class · p.
        let h: [Double] = [0.05, 1], n = sqrt(0.05 * 0.05 + 1)
        let d = [1 - h[0] / n, 1 - h[1] / n].map { Foundation.exp(-$0 / 0.1) }
        let q = [d[0] * 0.6, d[1] * 0.3, d[1] * 0.1], z = q.reduce(0, +)
        XCTAssertEqual(Double(r[0].confidence), q[1] / z, accuracy: 1e-5)
        // Squared Euclidean, and a class without a prototype never wins.
        let l2 = rectifiedLabels(features: [0, 1], width: 2, teacher: [[0.1, 0.1, 0.8]], prototypes: [[0, 1], nil],
                                 classOfTag: classOfTag, temperature: 1, distance: .l2)
        XCTAssertEqual(l2[0].label, 0)
        XCTAssertEqual(l2[0].confidence, 1, accuracy: 1e-6)
    }

    func testDistillationLossIsTheMeanSquaredErrorOfSoftmaxes() {
        let logits: [Float] = [1, 0, -1, 0.5, 0.5, 2], teacher: [Float] = [0.7, 0.2, 0.1, 0.1, 0.1, 0.8]
        var total = 0.0
        for r in 0..<2 {
            let row = logits[(r * 3)..<(r * 3 + 3)].map(Double.init), z = row.map { Foundation.exp($0) }.reduce(0, +)
            for j in 0..<3 { total += pow(Foundation.exp(row[j]) / z - Double(teacher[r * 3 + j]), 2) }
        }
        let loss = distillationMSE(logits: Tensor(shape: [2, 3], scalars: logits), teacher: Tensor(shape: [2, 3], scalars: teacher))
        XCTAssertEqual(Double(loss.item()), total / 6, accuracy: 1e-7, "mean over words × tags")
    }

    func testPrototypeClassesMergeBAndI() {
        let c = ProKDConfig(tags: ["O", "B-LOC", "B-PER", "I-LOC", "I-PER"], baseModel: "m", maxLength: 8, freezeBottom: 0, role: .teacher)
        XCTAssertEqual(c.prototypeClasses(.types).ofTag, [0, 1, 2, 1, 2])
        XCTAssertEqual(c.prototypeClasses(.types).names, ["O", "LOC", "PER"])
        XCTAssertEqual(c.prototypeClasses(.tags).ofTag, [0, 1, 2, 3, 4])
    }

    func testPrototypesFromFeatureRows() {
        let p = prototypes(features: [1, 2, 3, 4, 5, 6], width: 2, classes: [1, 1, -1], count: 3)
        XCTAssertNil(p[0])
        XCTAssertEqual(p[1], [2, 3])
        XCTAssertNil(p[2])
    }
}
