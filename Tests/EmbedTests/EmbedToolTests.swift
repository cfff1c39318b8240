// The `embed` program end to end (tier 3): real JSONL through the built binary, against
// sentence-transformers' embeddings of the same texts (data/fixtures/bert), and bad input.
import Foundation
import XCTest
import ToolTestSupport
import Runtime
@testable import EmbedCore

final class EmbedToolTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Repo.haveModels, "run `make models` first (make test does)")
    }

    private func jsonLine(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    func testMatchesSentenceTransformersEndToEnd() throws {
        struct Line: Decodable { let text: String }
        let lines = try String(contentsOfFile: Repo.path("data/fixtures/bert/sentences.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)).text }
        let want = try Data(contentsOf: URL(fileURLWithPath: Repo.path("data/fixtures/bert/minilm.f32")))
            .withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let input = lines.enumerated().map { jsonLine(["id": $0.offset, "text": $0.element]) }.joined(separator: "\n") + "\n"
        let r = try runTool("embed", ["--model", Repo.minilm, "--batch", "16"], stdin: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines.count, lines.count)
        var worst: Float = 0
        for (i, line) in r.lines.enumerated() {
            let rec = try Record(parsing: line)
            XCTAssertEqual(try rec.int("id"), i, "output order")
            let v = try rec.floats("embedding")
            XCTAssertEqual(v.count, 384)
            for j in 0..<384 { worst = max(worst, Swift.abs(v[j] - want[i * 384 + j])) }
        }
        XCTAssertLessThan(worst, 1e-4, "max |diff| against sentence-transformers \(worst)")
    }

    func testPassThroughOptionsAndBadRecords() throws {
        let dir = try temporaryDirectory("embed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = [
            #"{"keep":1.0E2,"text":"a good film","nested":{"x":[1,2]}}"#,
            #"not json"#,
            #"{"text":42}"#,
            #"{"other":"no text"}"#,
            #"{"text":"another one","id":"é"}"#,
        ].joined(separator: "\n") + "\n"
        let r = try runTool("embed", ["--model", Repo.minilm, "--out-field", "v", "--rejects", dir + "/rejects.jsonl"], stdin: input)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.lines.count, 2)
        XCTAssertTrue(r.lines[0].hasPrefix(#"{"keep":1.0E2,"text":"a good film","nested":{"x":[1,2]},"v":["#), r.lines[0])
        XCTAssertTrue(r.lines[1].hasPrefix(#"{"text":"another one","id":"é","v":["#))
        XCTAssertTrue(r.stderr.contains("embed:<stdin>:2:"), r.stderr)
        XCTAssertTrue(r.stderr.contains("embed:<stdin>:3:") && r.stderr.contains("'text'"), r.stderr)
        XCTAssertTrue(r.stderr.contains("embed:<stdin>:4:"), r.stderr)
        XCTAssertEqual(try String(contentsOfFile: dir + "/rejects.jsonl", encoding: .utf8),
                       "not json\n{\"text\":42}\n{\"other\":\"no text\"}\n")
        // Normalized by default (modules.json has Normalize); --no-normalize and --pooling change that.
        let norm = try Record(parsing: r.lines[0]).floats("v")
        XCTAssertEqual(norm.map { $0 * $0 }.reduce(0, +), 1, accuracy: 1e-5)
        let raw = try runTool("embed", ["--model", Repo.minilm, "--no-normalize", "--pooling", "cls"], stdin: #"{"text":"a good film"}"# + "\n")
        let v = try Record(parsing: raw.lines[0]).floats("embedding")
        XCTAssertGreaterThan(Swift.abs(v.map { $0 * $0 }.reduce(0, +) - 1), 1e-3)
    }

    func testLoadAndUsageErrors() throws {
        let missing = try runTool("embed", ["--model", "/nonexistent/model"], stdin: "")
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("embed: cannot load /nonexistent/model"), missing.stderr)
        XCTAssertTrue(missing.stderr.contains("hint:"), missing.stderr)
        let usage = try runTool("embed", ["--model", Repo.minilm, "--pooling", "median"], stdin: "")
        XCTAssertEqual(usage.status, 64)
        XCTAssertTrue(usage.stderr.contains("--pooling"), usage.stderr)
        let noModel = try runTool("embed", [], stdin: "")
        XCTAssertEqual(noModel.status, 64)
    }

    func testLongTextsAreTruncatedAndGGUFModelsWork() throws {
        let long = String(repeating: "word ", count: 2000)
        let r = try runTool("embed", ["--model", Repo.minilm], stdin: jsonLine(["text": long]) + "\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        let enc = try SentenceEncoder(path: Repo.minilm)
        XCTAssertEqual(enc.maxLength, 256)
        XCTAssertEqual(try enc.tokenize([long])[0].count, 256)
        let g = try runTool("embed", ["--model", Repo.smollm2, "--batch", "2"], stdin: #"{"text":"hello"}"# + "\n" + #"{"text":"a longer sentence here"}"# + "\n")
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertEqual(try Record(parsing: g.lines[1]).floats("embedding").count, 576)
    }
}
