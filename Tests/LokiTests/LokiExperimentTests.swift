// The acceptance experiments, small enough for `make test` (the README's full runs are
// `make exp-loki-grid` and `make exp-loki-select`):
// - the grid: 100 classes on a 10×10 grid, softmax regression on 9 observed classes; Loki must cut
//   E[d²] by 30% against argmax and predict some unobserved classes exactly;
// - calibration: when the gold class is distributed as the probabilities say, Loki's expected squared
//   distance never exceeds argmax's (Loki minimizes exactly that expectation);
// - active selection covers random 20-node trees in fewer picks than random selection (10 repeats).
import Foundation
import XCTest
import Runtime
@testable import LokiCore

final class LokiExperimentTests: XCTestCase {
    func testGridExperiment() throws {
        let grid = GridData(side: 10)
        let observed = grid.observed(lines: [1, 4, 7])
        let classes = grid.classes
        let position = Dictionary(uniqueKeysWithValues: observed.enumerated().map { ($1, $0) })
        let train = try grid.records(perClass: 200, sigma: 0.4, seed: 1).filter { position[try! $0.string("label")] != nil }
        let x = Tensor(shape: [train.count, 2], scalars: train.flatMap { try! $0.floats("features") })
        let y = train.map { position[try! $0.string("label")]! }
        var options = FitOptions()
        (options.epochs, options.learningRate) = (50, 0.01)
        let model = try FeatureClassifier.fit(features: x, labels: y, classes: observed, options: options)

        let metric = EmbeddingMetric(classes: classes, embeddings: Tensor(shape: [100, 2], scalars: (0..<100).flatMap { [Float($0 / 10), Float($0 % 10)] }),
                                     kind: .euclidean)
        let distances = try ObservedDistances(metric: metric, observedNames: observed, observedPath: "")
        let test = try grid.records(perClass: 30, sigma: 0.4, seed: 2)
        let probs = model.probabilities(Tensor(shape: [test.count, 2], scalars: test.flatMap { try! $0.floats("features") }))
        let predictions = FrechetPredictor(distances).predict(probs.scalars, rows: test.count)
        let evaluation = LokiEvaluation(classCount: 100, observed: distances.observed)
        for (i, r) in test.enumerated() {
            let gold = classes.firstIndex(of: try r.string("label"))!
            let argmax = distances.observed[argmaxIndex(Array(probs.scalars[(i * 9)..<((i + 1) * 9)]))]
            let loki = predictions[i].best
            let sq = { (a: Int) in Double(metric.distance(a, gold) * metric.distance(a, gold)) }
            evaluation.add(gold: gold, argmax: argmax, loki: loki, argmaxSq: sq(argmax), lokiSq: sq(loki))
        }
        let all = evaluation.all
        print(evaluation.table())
        XCTAssertGreaterThanOrEqual(all.relativeImprovement, 0.30, "Loki E[d²] \(all.lokiMeanSquared) vs argmax \(all.argmaxMeanSquared)")
        XCTAssertGreaterThan(evaluation.unseen.lokiCorrect, 0, "Loki predicts unobserved classes exactly")
        XCTAssertEqual(evaluation.unseen.argmaxCorrect, 0, "argmax never can")
    }

    func testCalibratedProbabilitiesNeverLoseToArgmax() {
        // Random metrics of all three kinds, random observed subsets, random (peaked or flat)
        // probabilities. Under calibration the gold class is λ_i with probability p_i, so the expected
        // squared distance of a prediction ŷ is Σ_i p_i d²(λ_i, ŷ): Loki's choice minimizes it.
        let g = RandomGenerator(seed: 11, stream: 1)
        var strictlyBetter = 0
        for trial in 0..<30 {
            let metric: LabelMetric
            switch trial % 3 {
            case 0:
                let n = 25
                let edges = randomTree(nodes: n, generator: g).map { ($0.0, $0.1, Float(1 + g.nextInt(below: 3))) }
                metric = GraphMetric(nodeNames: (0..<n).map(String.init), edges: edges, weighted: true, classNodes: Array(0..<n))
            case 1:
                metric = EmbeddingMetric(classes: (0..<40).map(String.init), embeddings: g.normal([40, 5]), kind: .euclidean)
            default:
                metric = EmbeddingMetric(classes: (0..<40).map(String.init), embeddings: g.normal([40, 8]), kind: .cosine)
            }
            let n = metric.classes.count, k = 2 + g.nextInt(below: 6)
            let observed = Array(g.permutation(n).prefix(k))
            let distances = try! ObservedDistances(metric: metric, observedNames: observed.map { metric.classes[$0] }, observedPath: "")
            let rows = 64
            let probs = softmax(g.normal([rows, k], std: Float(1 + trial % 4)), axis: 1).scalars
            let predictions = FrechetPredictor(distances).predict(probs, rows: rows)
            var lokiTotal = 0.0, argmaxTotal = 0.0
            for r in 0..<rows {
                let p = Array(probs[(r * k)..<((r + 1) * k)])
                func expected(_ y: Int) -> Double {
                    (0..<k).reduce(0.0) { $0 + Double(p[$1]) * Double(distances.squared.data[$1 * n + y]) }
                }
                let loki = expected(predictions[r].best), argmax = expected(observed[argmaxIndex(p)])
                XCTAssertLessThanOrEqual(loki, argmax + 1e-5 * Swift.max(1, argmax), "trial \(trial) row \(r)")
                lokiTotal += loki
                argmaxTotal += argmax
            }
            if lokiTotal < argmaxTotal * 0.999 { strictlyBetter += 1 }
        }
        XCTAssertGreaterThan(strictlyBetter, 20, "and it usually wins outright")
    }

    func testActiveSelectionCoversTreesFasterThanRandom() {
        var activePicks = 0, randomPicks = 0
        for rep in 0..<10 {
            let g = RandomGenerator(seed: UInt64(100 + rep), stream: 2)
            let n = 20
            let edges = randomTree(nodes: n, generator: g).map { ($0.0, $0.1, Float(1)) }
            let tree = GraphMetric(nodeNames: (0..<n).map(String.init), edges: edges, weighted: false, classNodes: Array(0..<n))
            XCTAssertTrue(tree.isTree)
            let start = Array(g.permutation(n).prefix(3))
            let active = LocusSelector(tree: tree, observed: start).run(.active, generator: g)
            let random = LocusSelector(tree: tree, observed: start).run(.random, generator: g)
            XCTAssertEqual(active.last?.locusClasses, n)
            XCTAssertEqual(random.last?.locusClasses, n)
            // Farthest first: the distances picked never increase.
            XCTAssertEqual(active.map(\.distance), active.map(\.distance).sorted(by: >))
            activePicks += active.count
            randomPicks += random.count
        }
        print("picks to cover 20-node trees, mean of 10: active \(Double(activePicks) / 10), random \(Double(randomPicks) / 10)")
        XCTAssertLessThan(activePicks, randomPicks)
    }
}
