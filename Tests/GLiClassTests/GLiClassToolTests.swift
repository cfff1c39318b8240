// gliclass as a user runs it (tier 3): predict on a model the reference saved, with label files,
// single-label, examples, error records and the loki chain; our own behaviour where it departs from the
// reference (a record's scores do not depend on its batch; truncation never drops a label); train →
// the saved model loads back, a killed run resumes to the same weights.
import Foundation
import XCTest
import ToolTestSupport
@testable import GLiClassCore
@testable import Runtime

final class GLiClassToolTests: XCTestCase {
    let model = Repo.path("data/fixtures/gliclass/bert-avg-mlp")
    let records = Repo.path("data/fixtures/gliclass/records.jsonl")

    func lines(_ r: ToolResult) throws -> [JSONValue] { try r.lines.map { try JSONValue(parsing: Array($0.utf8)) } }

    func testPredictWritesScoresPredictionsAndErrorRecords() throws {
        let input = """
        {"text": "The match ended 2-1 after extra time.", "labels": ["sports", "politics", "music"]}
        {"text": "no labels here"}
        {"text": "Shares fell sharply.", "labels": {"topic": ["business", "science"]}}

        """
        let r = try runTool("gliclass", ["predict", "--model", model, "--quiet", "--threshold", "0.3", "--on-error", "pass"], stdin: input)
        XCTAssertEqual(r.status, 0, r.stderr)   // --on-error pass: the bad record goes on with an error, the others are scored
        let out = try lines(r)
        XCTAssertEqual(out.count, 3)
        let scores = try XCTUnwrap(out[0]["scores"]?.objectValue)
        XCTAssertEqual(scores.members.map(\.key), ["sports", "politics", "music"])
        let probs = try scores.members.map { try $0.value.numberValue!.float() }
        XCTAssertTrue(probs.allSatisfy { $0 > 0 && $0 < 1 })
        let best = ["sports", "politics", "music"][probs.indices.max { probs[$0] < probs[$1] }!]
        XCTAssertEqual(out[0]["prediction"]?.stringValue, best)
        let chosen = try XCTUnwrap(out[0]["predictions"]?.arrayValue).map { $0.stringValue! }
        XCTAssertEqual(chosen, zip(["sports", "politics", "music"], probs).filter { $0.1 >= 0.3 }.map(\.0))
        XCTAssertNotNil(out[1]["error"], "the record without labels carries an error")
        XCTAssertEqual(try XCTUnwrap(out[2]["scores"]?.objectValue).members.map(\.key), ["topic.business", "topic.science"])
    }

    func testSingleLabelSoftmaxAndLabelFile() throws {
        let dir = try temporaryDirectory("gliclass-labels")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "sports\npolitics\nworld news\n".write(toFile: dir + "/labels.txt", atomically: true, encoding: .utf8)
        let r = try runTool("gliclass", ["predict", "--model", model, "--labels", dir + "/labels.txt", "--single-label", "--quiet"],
                            stdin: "{\"text\": \"Parliament votes today.\"}\n{\"text\": \"A late goal.\"}\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        for o in try lines(r) {
            let s = try XCTUnwrap(o["scores"]?.objectValue).members.map { try $0.value.numberValue!.float() }
            XCTAssertEqual(s.count, 3)
            XCTAssertEqual(s.reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertNil(o["predictions"])
        }
    }

    /// The reference pools over its batch's padding; here a record scores the same alone and beside
    /// longer records (every pooler and scorer of the fixtures).
    func testScoresDoNotDependOnTheBatch() throws {
        let inputs = try GLiClassParityTests.records().prefix(12).map(\.input)
        for name in GLiClassParityTests.names {
            let bundle = try GLiClassCheckpoint.load(directory: Repo.path("data/fixtures/gliclass/" + name))
            var one = PredictOptions(), many = PredictOptions()
            (one.batch, many.batch) = (1, 12)
            let alone = Predictor(bundle: bundle, maxLength: 512, options: one).predict(Array(inputs))
            let together = Predictor(bundle: bundle, maxLength: 512, options: many).predict(Array(inputs))
            var worst: Float = 0
            for (a, b) in zip(alone, together) {
                let (x, y) = (try a.get(), try b.get())
                for (p, q) in zip(x.logits!, y.logits!) { worst = max(worst, Swift.abs(p - q) / max(1, Swift.abs(p))) }
            }
            XCTAssertLessThan(worst, 1e-5, "\(name): logits alone vs batched differ by \(worst)")
        }
    }

    /// A text longer than --max-length loses its end, never a label (the reference cuts from the right).
    func testTruncationKeepsEveryLabel() throws {
        let bundle = try GLiClassCheckpoint.load(directory: model)
        let labels = ["sports", "politics", "business", "science", "world news"]
        let long = String(repeating: "the match ended in a draw after a long season of football. ", count: 40)
        for promptFirst in [false, true] {
            let enc = InputEncoder(tokenizer: bundle.tokenizer, maxLength: 48, promptFirst: promptFirst)
            let ids = try enc.encode(ClassificationInput(text: long, labels: labels))
            XCTAssertLessThanOrEqual(ids.count, 48)
            XCTAssertEqual(ids.filter { $0 == bundle.model.config.classTokenIndex }.count, labels.count, "promptFirst \(promptFirst)")
            XCTAssertEqual(ids.filter { $0 == bundle.model.config.textTokenIndex }.count, 1)
            let ref = InputEncoder(tokenizer: bundle.tokenizer, maxLength: 48, promptFirst: false, referenceTruncation: true)
            XCTAssertEqual(try ref.encode(ClassificationInput(text: long, labels: labels)).filter { $0 == bundle.model.config.classTokenIndex }.count, 0,
                           "the reference's truncation cuts the labels after a long text")
        }
    }

    func testChunkingScoresLongTextsInWindows() throws {
        let long = String(repeating: "Stocks and bonds moved as markets opened. ", count: 60)
        let input = "{\"text\": \"\(long)\", \"labels\": [\"business\", \"sports\"]}\n"
        let plain = try runTool("gliclass", ["predict", "--model", model, "--max-length", "64", "--logits", "--quiet"], stdin: input)
        let chunked = try runTool("gliclass", ["predict", "--model", model, "--max-length", "64", "--chunk", "--logits", "--quiet"], stdin: input)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(chunked.status, 0, chunked.stderr)
        let p = try lines(plain)[0], c = try lines(chunked)[0]
        XCTAssertNotNil(p["logits"])
        XCTAssertNil(c["logits"], "several windows: no single row of logits")
        let ps = try p["scores"]!.objectValue!.members.map { try $0.value.numberValue!.float() }
        let cs = try c["scores"]!.objectValue!.members.map { try $0.value.numberValue!.float() }
        for (a, b) in zip(ps, cs) { XCTAssertGreaterThanOrEqual(b, a - 1e-6, "the maximum over windows includes the first window") }
    }

    func testScoresChainIntoLoki() throws {
        let dir = try temporaryDirectory("gliclass-loki")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "root\tsports\nroot\tpolitics\nroot\tmusic\n".write(toFile: dir + "/tree.tsv", atomically: true, encoding: .utf8)
        let g = try runTool("gliclass", ["predict", "--model", model, "--quiet"],
                            stdin: "{\"text\": \"A late goal.\", \"labels\": [\"sports\", \"politics\", \"music\"]}\n")
        XCTAssertEqual(g.status, 0, g.stderr)
        let l = try runTool("loki", ["predict", "--metric", dir + "/tree.tsv", "--quiet"], stdin: g.stdout)
        XCTAssertEqual(l.status, 0, l.stderr)
        XCTAssertEqual(try lines(l).count, 1)
    }
}
