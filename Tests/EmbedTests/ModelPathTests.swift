// How `--model` is understood (tier 3, through the built binaries): a model directory, a file inside
// one, a directory holding one .gguf file; a tokenizer whose ids run past the model's vocabulary is
// refused at load time (exit 2, both paths and sizes named, no trap); hints mention `make` only
// inside the checkout.
import Foundation
import XCTest
import ToolTestSupport
import Runtime

final class ModelPathTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Repo.haveModels, "run `make models` first (make test does)")
    }

    let input = "{\"text\":\"A short sentence.\"}\n"

    func testFileInsideADirectoryAndADirectoryWithOneGGUF() throws {
        let dir = try runTool("embed", ["--model", Repo.minilm], stdin: input)
        let file = try runTool("embed", ["--model", Repo.minilm + "/model.safetensors"], stdin: input)
        XCTAssertEqual(file.status, 0, file.stderr)
        XCTAssertEqual(file.stdout, dir.stdout)
        let ggufDir = (Repo.smollm2 as NSString).deletingLastPathComponent
        let viaDir = try runTool("tokenize", ["--model", ggufDir], stdin: input)
        XCTAssertEqual(viaDir.status, 0, viaDir.stderr)
        XCTAssertEqual(viaDir.stdout, try runTool("tokenize", ["--model", Repo.smollm2], stdin: input).stdout)
        let emb = try runTool("embed", ["--model", ggufDir], stdin: input)
        XCTAssertEqual(emb.status, 0, emb.stderr)
        let empty = try temporaryDirectory("empty-model")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let none = try runTool("embed", ["--model", empty], stdin: input)
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.stderr.contains("no config.json and no .gguf"), none.stderr)
    }

    func testTokenizerPastTheVocabularyIsRefused() throws {
        let dir = try temporaryDirectory("mismatch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tiny = Repo.path("data/fixtures/llama/tiny-gqa-tied")
        for f in ["config.json", "model.safetensors"] { try FileManager.default.copyItem(atPath: tiny + "/" + f, toPath: dir + "/" + f) }
        try FileManager.default.copyItem(atPath: Repo.path("data/fixtures/tokenizers/smollm2.tokenizer.json"), toPath: dir + "/tokenizer.json")
        for (program, args) in [("embed", [String]()), ("lm-infinite", ["generate", "--max-tokens", "2"])] {
            let r = try runTool(program, args + ["--model", dir], stdin: "{\"text\":\"hello\",\"prompt\":\"hello\"}\n")
            XCTAssertEqual(r.status, 2, "\(program): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(dir + "/tokenizer.json") && r.stderr.contains("model at " + dir), r.stderr)
            XCTAssertTrue(r.stderr.contains("49152") && r.stderr.contains("61"), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line, no backtrace: \(r.stderr)")
        }
    }

    func testHintsMentionMakeOnlyInsideTheCheckout() throws {
        let outside = try runTool("embed", ["--model", "/nonexistent"], stdin: input, directory: NSTemporaryDirectory())
        XCTAssertEqual(outside.status, 2)
        XCTAssertFalse(outside.stderr.contains("make"), outside.stderr)
        XCTAssertTrue(outside.stderr.contains(".gguf"), outside.stderr)
        let inside = try runTool("embed", ["--model", "/nonexistent"], stdin: input, directory: Repo.root)
        XCTAssertTrue(inside.stderr.contains("make models"), inside.stderr)
    }
}
