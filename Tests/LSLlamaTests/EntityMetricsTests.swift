// Entity scores equal seqeval's (data/fixtures/seqeval.json from scripts/fixtures/seqeval_scores.py),
// IOB1 → IOB2, and the data readers (CoNLL columns, TSV with CRLF, JSONL with integer labels).
import Foundation
import XCTest
import ToolTestSupport
@testable import LSLlamaCore
@testable import Runtime

struct SeqevalCase: Decodable {
    struct PerType: Decodable { let precision: Double, recall: Double, f1: Double, support: Int }
    let gold: [[String]], predicted: [[String]]
    let precision: Double, recall: Double, f1: Double, accuracy: Double, macro_f1: Double?, weighted_f1: Double
    let by_type: [String: PerType]
}

final class EntityMetricsTests: XCTestCase {
    func testScoresEqualSeqeval() throws {
        let cases = try JSONDecoder().decode([SeqevalCase].self, from: Data(contentsOf: URL(fileURLWithPath: Repo.path("data/fixtures/seqeval.json"))))
        XCTAssertEqual(cases.count, 40)
        for (i, c) in cases.enumerated() {
            let s = EntityScores.score(gold: c.gold, predicted: c.predicted)
            XCTAssertEqual(s.precision, c.precision, accuracy: 1e-12, "case \(i)")
            XCTAssertEqual(s.recall, c.recall, accuracy: 1e-12, "case \(i)")
            XCTAssertEqual(s.f1, c.f1, accuracy: 1e-12, "case \(i)")
            XCTAssertEqual(s.accuracy, c.accuracy, accuracy: 1e-12, "case \(i)")
            // seqeval's macro mean over no types at all is NaN (null here); ours is 0.
            XCTAssertEqual(s.macroF1, c.macro_f1 ?? 0, accuracy: 1e-12, "case \(i)")
            XCTAssertEqual(s.weightedF1, c.weighted_f1, accuracy: 1e-12, "case \(i)")
            XCTAssertEqual(Set(s.byType.keys), Set(c.by_type.keys), "case \(i)")
            for (t, p) in c.by_type {
                XCTAssertEqual(s.byType[t]?.f1 ?? -1, p.f1, accuracy: 1e-12, "case \(i) \(t)")
                XCTAssertEqual(s.byType[t]?.support, p.support, "case \(i) \(t)")
            }
        }
    }

    func testEntitiesAndIOB1() {
        let e = EntityScores.entities(flat: ["B-PER", "I-PER", "O", "I-LOC", "I-ORG", "B-ORG", "E-ORG", "S-MISC"])
        XCTAssertEqual(e.map { "\($0.type) \($0.start) \($0.end)" }, ["PER 0 1", "LOC 3 3", "ORG 4 4", "ORG 5 6", "MISC 7 7"])
        XCTAssertEqual(iob1ToIOB2(["I-ORG", "O", "I-MISC", "I-MISC", "B-MISC", "I-PER", "I-LOC"]),
                       ["B-ORG", "O", "B-MISC", "I-MISC", "B-MISC", "B-PER", "B-LOC"])
        XCTAssertEqual(iob1ToIOB2(["B-ORG", "I-ORG", "O"]), ["B-ORG", "I-ORG", "O"])
    }

    func testReaders() throws {
        let dir = try temporaryDirectory("ls-readers")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\n\nPeter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\n"
            .write(toFile: dir + "/a.conll", atomically: true, encoding: .utf8)
        let s = try readTaggedSentences(path: dir + "/a.conll")
        XCTAssertEqual(s, [TaggedSentence(words: ["EU", "rejects", "German"], tags: ["B-ORG", "O", "B-MISC"]),
                           TaggedSentence(words: ["Peter", "Blackburn"], tags: ["B-PER", "I-PER"])])
        try "label\tsentence\r\n0\tbad film\r\n1\tgood one\r\n".write(toFile: dir + "/a.tsv", atomically: true, encoding: .utf8)
        XCTAssertEqual(try readSequenceExamples(path: dir + "/a.tsv", labelNames: ["negative", "positive"]),
                       [SequenceExample(text: "bad film", label: "negative"), SequenceExample(text: "good one", label: "positive")])
        try "{\"text\": \"x\", \"label\": 1}\n{\"text\": \"y\", \"label\": \"neg\"}\n".write(toFile: dir + "/a.jsonl", atomically: true, encoding: .utf8)
        XCTAssertEqual(try readSequenceExamples(path: dir + "/a.jsonl", labelNames: ["neg", "pos"]).map(\.label), ["pos", "neg"])
        try "{\"text\": \"x\", \"label\": 5}\n".write(toFile: dir + "/b.jsonl", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try readSequenceExamples(path: dir + "/b.jsonl", labelNames: ["neg", "pos"]))
        try "{\"tokens\": [\"a\", \"b\"], \"tags\": [\"O\"]}\n".write(toFile: dir + "/c.jsonl", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try readTaggedSentences(path: dir + "/c.jsonl"))
        XCTAssertEqual(collectLabels(["I-PER", "O", "B-PER", "B-LOC"], tags: true), ["O", "B-LOC", "B-PER", "I-PER"])
    }
}
