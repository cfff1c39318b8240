// The `lm-infinite` program end to end (tier 3): generate, score, passkey and perplexity on SmolLM2 with
// short inputs, training a tiny model that our loader and tokenizer read back, and bad input.
import Foundation
import XCTest
import ToolTestSupport
import Runtime
import RuntimeCLI

final class LMInfiniteToolTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Repo.haveModels, "run `make models` first (make test does)")
    }

    func testGenerateIsGreedyAndSameInEveryModeWithinTheWindow() throws {
        let input = #"{"prompt":"<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n","id":7}"# + "\n"
        var outputs: [String] = []
        for mode in ["lambda", "vanilla", "streaming"] {
            let r = try runTool("lm-infinite", ["generate", "--model", Repo.smollm2, "--mode", mode, "--max-tokens", "12"], stdin: input)
            XCTAssertEqual(r.status, 0, r.stderr)
            let rec = try Record(parsing: r.lines[0])
            XCTAssertEqual(try rec.int("id"), 7)
            outputs.append(try rec.string("completion"))
            XCTAssertLessThanOrEqual(try rec.ints("completion_ids").count, 12)
        }
        XCTAssertEqual(Set(outputs).count, 1, "\(outputs)")
        XCTAssertTrue(outputs[0].contains("Paris"), outputs[0])
    }

    func testScoreAndBadRecords() throws {
        let input = #"{"text":"The quick brown fox jumps over the lazy dog. The quick brown fox jumps over the lazy dog."}"# + "\n"
            + #"{"text":7}"# + "\n" + #"{"other":1}"# + "\n"
        let r = try runTool("lm-infinite", ["score", "--model", Repo.smollm2, "--local", "8", "--by-position", "4"], stdin: input)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.lines.count, 1)
        let rec = try Record(parsing: r.lines[0])
        XCTAssertEqual(try rec.int("tokens"), 20)
        XCTAssertGreaterThan(try rec.double("nll"), 0)
        XCTAssertEqual(rec.value("nll_by_position")?.arrayValue?.count, 5)  // predicted positions 1...19 in buckets of 4
        XCTAssertTrue(r.stderr.contains("lm-infinite:<stdin>:2:") && r.stderr.contains("lm-infinite:<stdin>:3:"), r.stderr)
    }

    func testPasskeyAndPerplexityWithAPlot() throws {
        let dir = try temporaryDirectory("lminf")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try runTool("lm-infinite", ["passkey", "--model", Repo.smollm2, "--lengths", "200", "--samples", "2",
                                            "--modes", "lambda,streaming", "--local", "64"])
        XCTAssertEqual(p.status, 0, p.stderr)
        XCTAssertEqual(p.lines.count, 2)
        let row = try Record(parsing: p.lines[0])
        XCTAssertEqual(try row.string("mode"), "lambda")
        XCTAssertEqual(try row.int("samples"), 2)
        XCTAssertTrue((0...1).contains(try row.double("accuracy")))
        let text = dir + "/t.txt"
        try String(repeating: "To be, or not to be, that is the question. ", count: 20).write(toFile: text, atomically: true, encoding: .utf8)
        let q = try runTool("lm-infinite", ["perplexity", "--model", Repo.smollm2, "--text", text, "--max-length", "150",
                                            "--bucket", "50", "--local", "32", "--plot", dir + "/nll.png"])
        XCTAssertEqual(q.status, 0, q.stderr)
        XCTAssertEqual(q.lines.count, 9)  // 3 modes × 3 buckets
        let img = try Image(contentsOf: dir + "/nll.png")
        XCTAssertEqual(img.width, 960)
    }

    func testTrainWritesALoadableModel() throws {
        let dir = try temporaryDirectory("lminf-train")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = dir + "/t.txt"
        try String(repeating: "abcdefgh ijklmnop qrstuvwx yz. ", count: 200).write(toFile: text, atomically: true, encoding: .utf8)
        let r = try runTool("lm-infinite", ["train", "--text", text, "--out", dir + "/m", "--context", "32", "--layers", "1",
                                            "--hidden", "32", "--heads", "2", "--kv-heads", "1", "--steps", "3", "--batch", "2",
                                            "--log", dir + "/log.jsonl"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let log = try String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.count, 3)
        XCTAssertTrue(log.last!.contains("valid_nll"))
        let model = try LLaMAModel.load(path: dir + "/m")
        XCTAssertEqual(model.config.maxPositionEmbeddings, 32)
        let tok = try Tokenizer.load(path: dir + "/m")
        XCTAssertEqual(try tok.encode("héllo").ids, Array("héllo".utf8).map(Int.init))
        XCTAssertEqual(tok.decode(Array("héllo".utf8).map(Int.init)), "héllo")
        let s = try runTool("lm-infinite", ["score", "--model", dir + "/m"], stdin: #"{"text":"abcdefgh ijkl"}"# + "\n")
        XCTAssertEqual(s.status, 0, s.stderr)
    }

    /// kill -9 at five random moments of a training run, --resume each time: the same weights, bit for
    /// bit, and the same log apart from its clock readings.
    func testTrainResumesAfterKillsToTheSameWeights() throws {
        let dir = try temporaryDirectory("lminf-kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = dir + "/t.txt"
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 300).write(toFile: text, atomically: true, encoding: .utf8)
        let args = ["train", "--text", text, "--context", "32", "--layers", "2", "--hidden", "48", "--heads", "4", "--kv-heads", "2",
                    "--steps", "1000", "--batch", "4", "--checkpoint-every", "7", "--threads", "1", "--quiet"]
        let whole = try runTool("lm-infinite", args + ["--out", dir + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let (kills, last) = try runKilledAndResumed("lm-infinite", args + ["--out", dir + "/killed", "--resume"], delays: 30_000...700_000)
        XCTAssertEqual(last.status, 0, last.stderr)
        print("LMInfiniteToolTests: \(kills) of 5 training runs killed before they finished")
        XCTAssertGreaterThan(kills, 0, "no run was killed: the kill test tested nothing")
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/whole/model.safetensors"),
                       FileManager.default.contents(atPath: dir + "/killed/model.safetensors"))
        func lossesAndNLL(_ d: String) throws -> [String] {
            try String(contentsOfFile: d + "/log.jsonl", encoding: .utf8).split(separator: "\n").map { line in
                var r = try Record(parsing: String(line))
                r.remove("seconds")
                return r.jsonText
            }
        }
        XCTAssertEqual(try lossesAndNLL(dir + "/whole"), try lossesAndNLL(dir + "/killed"))
        let refused = try runTool("lm-infinite", args + ["--out", dir + "/whole"])
        XCTAssertEqual(refused.status, 2, refused.stderr)
    }

    func testUsageAndLoadErrors() throws {
        XCTAssertEqual(try runTool("lm-infinite", ["score", "--model", Repo.smollm2, "--by-position", "0"], stdin: "{\"text\":\"a b\"}\n").status, 64)
        XCTAssertEqual(try runTool("lm-infinite", ["generate", "--model", Repo.smollm2, "--mode", "bogus"]).status, 64)
        XCTAssertEqual(try runTool("lm-infinite", ["generate", "--model", Repo.smollm2, "--top-k", "3", "--mode", "vanilla"]).status, 64)
        let missing = try runTool("lm-infinite", ["score", "--model", "/nonexistent.gguf"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("/nonexistent.gguf"), missing.stderr)
    }
}
