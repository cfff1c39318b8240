// labo against the reference (data/fixtures/labo from scripts/fixtures/labo.py): the concept bank as
// data.py builds it, clip_score and mi_score, group_mi_select, submodular_select as the reference calls
// apricot 0.6.1 (code coverage) and the paper's facility location, for four (w0, β); the bottleneck's
// initial logits and W after three Adam steps (torch).
import Foundation
import XCTest
import ToolTestSupport
@testable import LaboCore
import Runtime

struct ProbeFit: Decodable {
    let coef: [[Double]]
    let intercept: [Double]
    let proba: [[Double]]
}

struct ProbeFixture: Decodable {
    let one: ProbeFit
    let hundredth: ProbeFit
    let reference_c: Double
    let accuracies: [[Double]]
    enum CodingKeys: String, CodingKey { case one = "1.0", hundredth = "0.01", reference_c, accuracies }
}

struct LaboFixture: Decodable {
    let probe: ProbeFixture
    let classes: [String]
    let concepts: [String]
    let concept_classes: [Int]
    let k: Int
    let concept_features: [[Float]]
    let images: [[Float]]
    let labels: [Int]
    let clip_score: [[Double]]
    let mi: [Double]
    let rankings: [String: [[Int]]]
    let val_images: [[Float]]
    let val_labels: [Int]
    let selected: [Int]
    let init_logits: [Float]
    let batches: [[Int]]
    let w_after: [Float]
    let losses: [Float]
    let first_grad: [Float]
}

final class LaboParityTests: XCTestCase {
    static let dir = Repo.path("data/fixtures/labo")
    let fx = try! JSONDecoder().decode(LaboFixture.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/fixture.json")))

    func testBankAsTheReferenceBuildsIt() throws {
        let bank = try ConceptBank.read(Self.dir + "/class2concepts.json")
        XCTAssertEqual(bank.classes, fx.classes)
        XCTAssertEqual(bank.concepts, fx.concepts)
        XCTAssertEqual(bank.conceptClass, fx.concept_classes)
        let pruned = try ConceptBank.read(Self.dir + "/class2concepts.json", removeClassNames: true)
        XCTAssertEqual(pruned.concepts.count, fx.concepts.count - 1)
        XCTAssertFalse(pruned.concepts.contains("an apple on a tree"))
        XCTAssertTrue(ConceptBank.containsWord("a Kite string", "kite"))
        XCTAssertFalse(ConceptBank.containsWord("located", "cat"))
    }

    func testScoresAndRankings() throws {
        let s = clipScores(concepts: fx.concept_features, images: fx.images, labels: fx.labels, classes: fx.classes.count)
        for (a, b) in zip(s.joined(), fx.clip_score.joined()) { XCTAssertEqual(a, b, accuracy: 1e-9 * abs(b)) }
        let mi = try miScores(s)
        for (a, b) in zip(mi, fx.mi) { XCTAssertEqual(a, b, accuracy: 1e-9 * abs(b) + 1e-15) }
        let bank = ConceptBank(classes: fx.classes, concepts: fx.concepts, conceptClass: fx.concept_classes)
        for (name, expected) in fx.rankings {
            var o = SelectionOptions()
            o.perClass = fx.k
            let parts = name.split(separator: "-")
            if parts[0] == "mi" { o.method = .mi } else {
                o.method = .submodular
                o.coverage = parts[0] == "code" ? .code : .paper
                o.w0 = Double(parts[1])!
                o.beta = Double(parts[2])!
            }
            let got = try selectConcepts(bank: bank, conceptEmbeddings: fx.concept_features, images: fx.images, labels: fx.labels, options: o)
            XCTAssertEqual(got, expected, name)
        }
        XCTAssertThrowsError(try miScores([[1, -0.5], [2, 1]]))
    }

    func testBottleneckLogitsAndAdamSteps() throws {
        let m = ConceptBottleneck(classes: fx.classes, conceptNames: fx.selected.map { fx.concepts[$0] },
                                  conceptClass: fx.selected.map { fx.concept_classes[$0] }, conceptVectors: fx.selected.map { fx.concept_features[$0] })
        let x = Tensor(shape: [fx.val_images.count, 16], scalars: Array(fx.val_images.joined()))
        let l = withoutGrad { m.logits(scores: m.scores(x)) }.scalars
        for (a, b) in zip(l, fx.init_logits) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
        var o = BottleneckTrainOptions()
        o.lr = 1e-3
        let t = try BottleneckTraining(model: m, features: fx.images, targets: fx.labels, options: o)
        for (i, b) in fx.batches.enumerated() {
            XCTAssertEqual(try t.step(rows: b), fx.losses[i], accuracy: 1e-4 * max(1, abs(fx.losses[i])), "loss of step \(i + 1)")
            // Float32 logits of ~100s: the gradient agrees to ~1e-4 of its largest entry (enough to see a
            // wrong reduction or scale, which Adam's update would hide).
            if i == 0 {
                let scale = fx.first_grad.map(abs).max()!
                for (a, g) in zip(m.w.grad!.scalars, fx.first_grad) { XCTAssertEqual(a, g, accuracy: 1e-3 * scale) }
            }
        }
        for (a, b) in zip(m.w.scalars, fx.w_after) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
    }

    /// scikit-learn's LogisticRegression (lbfgs, L2) at C 1 and 0.01: probabilities within 1e-3 of its
    /// (both stop at a gradient tolerance of 1e-4, so the optima agree to about that); the C search,
    /// given scikit-learn's validation accuracies, lands on the reference's C.
    func testLinearProbeMatchesScikitLearn() {
        for (c, fit) in [(1.0, fx.probe.one), (0.01, fx.probe.hundredth)] {
            let m = LogisticRegression.fit(fx.images, fx.labels, classes: 4, c: c)
            for (x, expected) in zip(fx.val_images, fit.proba) {
                let z = m.logits(x), mx = z.max()!
                let e = z.map { Foundation.exp($0 - mx) }, sum = e.reduce(0, +)
                for (p, q) in zip(e.map { $0 / sum }, expected) { XCTAssertEqual(p, q, accuracy: 1e-3, "C \(c)") }
            }
        }
        // The search over scikit-learn's own validation accuracies lands on the reference's C.
        let s = searchC { c in fx.probe.accuracies.first { abs($0[0] - c) <= 1e-9 * c }?[1] ?? -1 }
        XCTAssertEqual(s.referenceC, fx.probe.reference_c, accuracy: 1e-9 * fx.probe.reference_c)
        XCTAssertEqual(s.initial.count + 2 * s.rounds.count, fx.probe.accuracies.count)
    }

    /// The bottleneck on LaBo's shipped CIFAR-10 selection (10 classes × 50 concepts): W starts at 1 on
    /// each concept's class, softmax rows sum to 1, an own concept weighs e/(50e + 450) ≈ 0.00464 and
    /// another 1/(50e + 450) ≈ 0.00171 (their ratio e), as the reference's scatter_ and softmax give.
    func testShippedCIFAR10Selection() throws {
        let (classes, names, owner) = try readSelectedConcepts(Repo.path("data/labo/CIFAR10_selected_concepts.json"))
        XCTAssertEqual(classes, ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])
        XCTAssertEqual(names.count, 500)
        let m = ConceptBottleneck(classes: classes, conceptNames: names, conceptClass: owner, conceptVectors: names.map { _ in [1, 0] })
        let a = m.association.scalars, n = names.count
        let e = Float(M_E), own = e / (50 * e + 450), other = 1 / (50 * e + 450)
        for y in 0..<10 {
            XCTAssertEqual(a[(y * n)..<((y + 1) * n)].reduce(0, +), 1, accuracy: 1e-5)
            for j in 0..<n { XCTAssertEqual(a[y * n + j], owner[j] == y ? own : other, accuracy: 1e-7) }
        }
        XCTAssertEqual(own, 0.00464, accuracy: 1e-5)
        XCTAssertEqual(other, 0.00171, accuracy: 1e-5)
    }
}
