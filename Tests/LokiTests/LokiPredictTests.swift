// Tier 1 for the prediction rule and its inputs: the blocked GEMM path against the plain loops
// (minimum, ties, top k), probability parsing (arrays, score objects, logits, errors), evaluation sums.
import Foundation
import XCTest
import Runtime
@testable import LokiCore

final class LokiPredictTests: XCTestCase {
    /// Random probabilities (a softmax of Gaussian logits), rows back to back.
    func randomProbs(_ rows: Int, _ k: Int, seed: UInt64, scale: Float = 2) -> [Float] {
        softmax(RandomGenerator(seed: seed, stream: 4).normal([rows, k], std: scale), axis: 1).scalars
    }

    func testGEMMPathMatchesLoopsAcrossColumnBlocks() {
        for (k, n, rows) in [(7, 50, 13), (3, 3000, 1000), (1, 20, 2)] {
            let d2 = square(RandomGenerator(seed: UInt64(n), stream: 5).uniform([k, n], low: 0, high: 10))
            let distances = ObservedDistances(classes: (0..<n).map { "c\($0)" }, observed: Array(0..<k), squared: d2)
            let probs = randomProbs(rows, k, seed: UInt64(k))
            let got = FrechetPredictor(distances).predict(probs, rows: rows, top: 4)
            for r in 0..<rows {
                let p = Array(probs[(r * k)..<((r + 1) * k)])
                let want = FrechetPredictor.naive(p, squared: d2)
                XCTAssertEqual(got[r].best, want.best, "k \(k) n \(n) row \(r)")
                XCTAssertEqual(Double(got[r].bestScore), want.score, accuracy: 1e-4 * Swift.max(1, want.score))
                // Top 4: the 4 smallest expected squared distances, ascending.
                var all: [(Int, Double)] = []
                for y in 0..<n {
                    var s = 0.0
                    for i in 0..<k { s += Double(p[i]) * Double(d2.data[i * n + y]) }
                    all.append((y, s))
                }
                all.sort { $0.1 < $1.1 }
                XCTAssertEqual(got[r].top.map(\.index), all.prefix(Swift.min(4, n)).map(\.0), "top, k \(k) n \(n) row \(r)")
                XCTAssertEqual(got[r].top.first?.index, got[r].best)
            }
        }
    }

    func testTiesGoToTheFirstClassAndOneHotRowsPredictTheirClass() {
        // Two identical columns (classes 1 and 2): the minimum is shared, the first wins, as np.argmin.
        let d2 = Tensor(shape: [2, 4], scalars: [4, 1, 1, 0, 0, 1, 1, 4])
        let p = FrechetPredictor(ObservedDistances(classes: ["a", "b", "c", "d"], observed: [3, 0], squared: d2))
        let got = p.predict([0.5, 0.5, 1, 0, 0, 1], rows: 3, top: 3)
        XCTAssertEqual(got.map(\.best), [1, 3, 0])
        XCTAssertEqual(got[0].top.map(\.index), [1, 2, 0])
        XCTAssertEqual(got[0].top.map(\.score), [1, 1, 2])
    }

    func testProbabilityInput() throws {
        var input = ProbabilityInput(observedNames: ["a", "b", "c"])
        XCTAssertEqual(try input.read(Record(parsing: #"{"probs":[1,1,2]}"#)), [0.25, 0.25, 0.5], "normalized")
        XCTAssertEqual(try input.read(Record(parsing: #"{"scores":{"c":0.5,"a":0.5}}"#)), [0.5, 0, 0.5], "absent classes get 0")
        func message(_ line: String) -> String {
            do { _ = try input.read(Record(parsing: line)); return "no error" } catch let e as RecordError { return e.message } catch { return "\(error)" }
        }
        XCTAssertTrue(message(#"{"probs":[1,2]}"#).contains("2 probabilities for 3"))
        XCTAssertTrue(message(#"{"probs":[1,-2,3]}"#).contains("--softmax"))
        XCTAssertTrue(message(#"{"probs":[0,0,0]}"#).contains("sum to 0"))
        XCTAssertTrue(message(#"{"scores":{"zebra":1}}"#).contains("'zebra' is not an observed class"))
        XCTAssertTrue(message(#"{"scores":[1]}"#).contains("object"))
        XCTAssertTrue(message(#"{"other":1}"#).contains("missing field 'probs' (or 'scores')"))
        // Logits with a temperature: softmax(x / T); classes missing from a score object get 0.
        input.temperature = 0.5
        let p = try input.read(Record(parsing: #"{"probs":[0,1,-1]}"#))
        let e: [Float] = [1, Foundation.exp(Float(2)), Foundation.exp(Float(-2))]
        let s = e.reduce(0, +)
        for (a, b) in zip(p, e.map { $0 / s }) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        XCTAssertEqual(try input.read(Record(parsing: #"{"scores":{"b":-3}}"#)), [0, 1, 0])
    }

    func testEvaluationSums() {
        let e = LokiEvaluation(classCount: 5, observed: [0, 2])
        e.add(gold: 0, argmax: 0, loki: 0, argmaxSq: 0, lokiSq: 0)
        e.add(gold: 1, argmax: 2, loki: 1, argmaxSq: 4, lokiSq: 0)
        e.add(gold: 3, argmax: 2, loki: 4, argmaxSq: 9, lokiSq: 1)
        XCTAssertEqual(e.all.count, 3)
        XCTAssertEqual(e.all.argmaxMeanSquared, 13.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(e.all.lokiMeanSquared, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(e.all.relativeImprovement, 12.0 / 13, accuracy: 1e-12)
        XCTAssertEqual(e.seen.count, 1)
        XCTAssertEqual(e.unseen.lokiCorrect, 1)
        XCTAssertEqual(e.lokiUnobservedPredictions, 2)
        XCTAssertEqual(e.report()["unobserved"]?["loki"]?["accuracy"], .number(JSONNumber(0.5)!))
        XCTAssertTrue(e.table().contains("| unobserved (3) | 2 | 0.000 | 0.500 | 6.500 | 0.500 | 92.3% |"), e.table())
    }
}
