// labo against the reference (data/fixtures/labo from scripts/fixtures/labo.py): the concept bank as
// data.py builds it, clip_score and mi_score, group_mi_select, submodular_select as the reference calls
// apricot 0.6.1 (code coverage) and the paper's facility location, for four (w0, β); the bottleneck's
// initial logits and W after three Adam steps (torch).
import Foundation
import XCTest
import ToolTestSupport
@testable import LaboCore
import Runtime

struct LaboFixture: Decodable {
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
        for b in fx.batches { try t.step(rows: b) }
        for (a, b) in zip(m.w.scalars, fx.w_after) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
    }
}
