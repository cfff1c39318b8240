// The multi-label report against scikit-learn on the reference repository's stored predictions
// (data/fixtures/ptec/reports.json from scripts/fixtures/ptec_reports.py): its LLaMA-7B frozen-embedding
// head (macro-F1 0.3699, micro 0.4302, Jaccard-samples 0.3272), its gzip baseline, its prompt-tuning
// run, and a synthetic case with empty rows, a label that never occurs and scores exactly 0.5.
import Foundation
import XCTest
import ToolTestSupport
@testable import Runtime

struct ReportCase: Decodable {
    struct Avg: Decodable {
        let precision: Double, recall: Double, f1: Double, support: Double
        enum CodingKeys: String, CodingKey { case precision, recall, f1 = "f1-score", support }
    }
    let source: String
    let labels: [String]
    let gold: [[Int]]
    let scores: [[Double]]
    let threshold: Double
    let report: [String: Avg]
    let jaccard: [String: Double]
    let avg_n_predicted: Double
    let avg_n_labels: Double
}

final class MultiLabelReportTests: XCTestCase {
    func testEqualsScikitLearnOnTheReferencePredictions() throws {
        let cases = try JSONDecoder().decode([ReportCase].self, from: Data(contentsOf: URL(fileURLWithPath: Repo.path("data/fixtures/ptec/reports.json"))))
        XCTAssertGreaterThanOrEqual(cases.count, 3)
        for c in cases {
            let gold = c.gold.map { row in Set(row.indices.filter { row[$0] == 1 }) }
            let predicted = c.scores.map { row in Set(row.indices.filter { row[$0] > c.threshold }) }
            let r = MultiLabelReport(labels: c.labels, gold: gold, predicted: predicted)
            func check(_ a: Double, _ b: Double, _ what: String) { XCTAssertEqual(a, b, accuracy: 1e-12, "\(c.source): \(what)") }
            for (l, s) in zip(c.labels, r.perLabel) {
                let e = try XCTUnwrap(c.report[l], "\(c.source): no report for \(l)")
                check(s.precision, e.precision, "\(l) precision"); check(s.recall, e.recall, "\(l) recall")
                check(s.f1, e.f1, "\(l) f1"); check(Double(s.support), e.support, "\(l) support")
            }
            for (name, s) in [("micro avg", r.micro), ("macro avg", r.macro), ("weighted avg", r.weighted), ("samples avg", r.samples)] {
                let e = try XCTUnwrap(c.report[name])
                check(s.precision, e.precision, "\(name) precision"); check(s.recall, e.recall, "\(name) recall"); check(s.f1, e.f1, "\(name) f1")
            }
            check(r.jaccardMicro, c.jaccard["micro"]!, "jaccard micro"); check(r.jaccardMacro, c.jaccard["macro"]!, "jaccard macro")
            check(r.jaccardWeighted, c.jaccard["weighted"]!, "jaccard weighted"); check(r.jaccardSamples, c.jaccard["samples"]!, "jaccard samples")
            check(r.meanPredicted, c.avg_n_predicted, "avg_n_predicted"); check(r.meanGold, c.avg_n_labels, "avg_n_labels")
        }
        // The published figures of the frozen-embedding head on LLaMA-7B.
        let ch = try XCTUnwrap(cases.first { $0.source.contains("/CH/") })
        let r = MultiLabelReport(labels: ch.labels, gold: ch.gold.map { row in Set(row.indices.filter { row[$0] == 1 }) },
                                 predicted: ch.scores.map { row in Set(row.indices.filter { row[$0] > 0.5 }) })
        XCTAssertEqual(r.macro.f1, 0.3699, accuracy: 5e-5)
        XCTAssertEqual(r.micro.f1, 0.4302, accuracy: 5e-5)
        XCTAssertEqual(r.jaccardSamples, 0.3272, accuracy: 5e-5)
    }
}
