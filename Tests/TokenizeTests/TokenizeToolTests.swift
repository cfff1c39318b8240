// The `tokenize` program end to end (tier 3): ids identical to Hugging Face's (fixtures made by
// transformers), offsets, special tokens, --decode round trips, GGUF tokenizers, bad input.
import Foundation
import XCTest
import ToolTestSupport
import Runtime

final class TokenizeToolTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Repo.haveModels, "run `make models` first (make test does)")
    }

    func testWordPieceIdsMatchTransformers() throws {
        struct Line: Decodable { let text: String; let ids: [Int] }
        let lines = try String(contentsOfFile: Repo.path("data/fixtures/bert/sentences.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        let input = lines.map { #"{"text":"# + jsonString($0.text) + "}" }.joined(separator: "\n") + "\n"
        let r = try runTool("tokenize", ["--model", Repo.minilm, "--max-length", "256"], stdin: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        for (line, out) in zip(lines, r.lines) {
            XCTAssertEqual(try Record(parsing: out).ints("ids"), line.ids, line.text)
        }
    }

    func testGGUFTokenizerMatchesTransformersAndDecodes() throws {
        struct Fixture: Decodable { struct P: Decodable { let prompt: String; let ids: [Int] }; let prompts: [P] }
        let fx = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: Repo.path("data/fixtures/llama/smollm2.json"))))
        let input = fx.prompts.map { #"{"text":"# + jsonString($0.prompt) + "}" }.joined(separator: "\n") + "\n"
        let r = try runTool("tokenize", ["--model", Repo.smollm2, "--no-special"], stdin: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        for (p, out) in zip(fx.prompts, r.lines) { XCTAssertEqual(try Record(parsing: out).ints("ids"), p.ids, p.prompt) }
        // tokenize | tokenize --decode gives the text back.
        let back = try runTool("tokenize", ["--decode", "--model", Repo.smollm2, "--field", "decoded"], stdin: r.stdout)
        XCTAssertEqual(back.status, 0, back.stderr)
        for (p, out) in zip(fx.prompts, back.lines) { XCTAssertEqual(try Record(parsing: out).string("decoded"), p.prompt) }
    }

    func testOffsetsSpecialTokensAndTokens() throws {
        let r = try runTool("tokenize", ["--model", Repo.minilm, "--offsets"], stdin: #"{"text":"Héllo, wörld!"}"# + "\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        let rec = try Record(parsing: r.lines[0])
        XCTAssertEqual(try rec.strings("tokens"), ["[CLS]", "hello", ",", "world", "!", "[SEP]"])
        guard case .array(let offs)? = rec.value("offsets") else { return XCTFail("no offsets") }
        let pairs = try offs.map { v -> [Int] in try v.arrayValue!.map { try $0.numberValue!.int() } }
        XCTAssertEqual(pairs, [[0, 0], [0, 5], [5, 6], [7, 12], [12, 13], [0, 0]])
        let plain = try runTool("tokenize", ["--model", Repo.minilm, "--no-special"], stdin: #"{"text":"Héllo"}"# + "\n")
        XCTAssertEqual(try Record(parsing: plain.lines[0]).strings("tokens"), ["hello"])
        let kept = try runTool("tokenize", ["--decode", "--model", Repo.minilm], stdin: r.stdout)
        XCTAssertEqual(try Record(parsing: kept.lines[0]).string("text"), "[CLS] hello, world! [SEP]")
        let dropped = try runTool("tokenize", ["--decode", "--no-special", "--model", Repo.minilm], stdin: r.stdout)
        XCTAssertEqual(try Record(parsing: dropped.lines[0]).string("text"), "hello, world!")
    }

    func testBadInput() throws {
        let r = try runTool("tokenize", ["--decode", "--model", Repo.minilm], stdin: #"{"ids":[101,999999]}"# + "\n" + #"{"ids":"x"}"# + "\n" + #"{"ids":[101,102]}"# + "\n")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.lines.count, 1)
        XCTAssertTrue(r.stderr.contains("tokenize:<stdin>:1:") && r.stderr.contains("999999"), r.stderr)
        XCTAssertTrue(r.stderr.contains("tokenize:<stdin>:2:"), r.stderr)
        let missing = try runTool("tokenize", ["--model", "/nonexistent/tokenizer.json"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/tokenizer.json"), missing.stderr)
        XCTAssertEqual(try runTool("tokenize", ["--model", Repo.minilm, "--decode", "--offsets"]).status, 64)
    }

    private func jsonString(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [s]), as: UTF8.self).dropFirst().dropLast().description
    }
}
