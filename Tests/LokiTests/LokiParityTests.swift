// Tier 2: parity with the reference's computations (data/fixtures/loki/reference.json, made by
// scripts/fixtures/loki.py with networkx/numpy): tree distances on CIFAR-100's parent-child tree,
// Fréchet-mean predictions and mean squared distances, active selection orders on random trees.
import Foundation
import XCTest
import ToolTestSupport
import Runtime
@testable import LokiCore

private struct Reference: Decodable {
    struct Tree: Decodable { let leaves: [String]; let distances: [Int] }
    struct Predict: Decodable {
        let observed: [String], probs: [Double], loki: [String], min_expected_d2: [Double], gap: [Double]
        let argmax: [String], gold: [String], argmax_mean_d2: Double, loki_mean_d2: Double
    }
    struct Step: Decodable { let node: Int; let distance: Double; let locus_size: Int }
    struct Selection: Decodable { let edges: [[Int]]; let initial: [Int]; let initial_locus_size: Int; let order: [Step] }
    let tree: Tree
    let predict: Predict
    let select: [Selection]
}

final class LokiParityTests: XCTestCase {
    private func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: URL(fileURLWithPath: Repo.path("data/fixtures/loki/reference.json"))))
    }

    private func cifarTree() throws -> LabelMetric {
        try MetricFiles.load(MetricSpec(path: Repo.path("data/loki/cifar100_parent_child.txt")))
    }

    func testTreeDistancesMatchNetworkx() throws {
        let ref = try reference(), m = try cifarTree()
        XCTAssertEqual(m.classes, ref.tree.leaves, "leaves in networkx's node order")
        let n = m.classes.count
        let d2 = m.squaredDistanceRows(Array(0..<n))
        var worst = 0
        for i in 0..<n {
            for j in 0..<n {
                let want = ref.tree.distances[i * n + j]
                if Int(d2.data[i * n + j]) != want * want { worst += 1 }
                if i < 3 { XCTAssertEqual(m.distance(i, j), Float(want)) }
            }
        }
        XCTAssertEqual(worst, 0, "pairs whose squared distance differs from networkx's")
    }

    func testPredictionsMatchNumpy() throws {
        let ref = try reference(), m = try cifarTree()
        let distances = try ObservedDistances(metric: m, observedNames: ref.predict.observed, observedPath: "")
        let k = ref.predict.observed.count, rows = ref.predict.loki.count
        let got = FrechetPredictor(distances).predict(ref.predict.probs.map(Float.init), rows: rows)
        var argmaxSum = 0.0, lokiSum = 0.0
        for r in 0..<rows {
            let gold = m.classes.firstIndex(of: ref.predict.gold[r])!
            XCTAssertEqual(Double(got[r].bestScore), ref.predict.min_expected_d2[r], accuracy: 1e-4, "row \(r): the minimum itself")
            if ref.predict.gap[r] > 1e-4 { XCTAssertEqual(m.classes[got[r].best], ref.predict.loki[r], "row \(r)") }
            let p = (0..<k).map { Float(ref.predict.probs[r * k + $0]) }
            XCTAssertEqual(ref.predict.observed[argmaxIndex(p)], ref.predict.argmax[r])
            let a = m.distance(distances.observed[argmaxIndex(p)], gold), l = m.distance(got[r].best, gold)
            argmaxSum += Double(a * a)
            lokiSum += Double(l * l)
        }
        XCTAssertEqual(argmaxSum / Double(rows), ref.predict.argmax_mean_d2, accuracy: 1e-9)
        XCTAssertEqual(lokiSum / Double(rows), ref.predict.loki_mean_d2, accuracy: 1e-9)
    }

    func testActiveSelectionOrderMatchesReference() throws {
        for (t, case_) in try reference().select.enumerated() {
            let n = 20
            let tree = GraphMetric(nodeNames: (0..<n).map(String.init), edges: case_.edges.map { ($0[0], $0[1], 1) },
                                   weighted: false, classNodes: Array(0..<n))
            let selector = LocusSelector(tree: tree, observed: case_.initial)
            XCTAssertEqual(selector.locusNodeCount, case_.initial_locus_size, "tree \(t): initial locus")
            let steps = selector.run(.active, generator: RandomGenerator(seed: 0))
            XCTAssertEqual(steps.map(\.classIndex), case_.order.map(\.node), "tree \(t): order")
            XCTAssertEqual(steps.map { Double($0.distance) }, case_.order.map(\.distance), "tree \(t): distances")
            XCTAssertEqual(steps.map(\.locusNodes), case_.order.map(\.locus_size), "tree \(t): locus sizes")
        }
    }
}
