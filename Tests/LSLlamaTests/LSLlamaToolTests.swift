// ls-llama as a user runs it (tier 3): train → predict → eval for sequences (MiniLM, the "BERT
// baseline" path) and for tags (SmolLM2, unmasked, CoNLL columns); error records; a killed training run
// resumes to the weights of one never interrupted.
import Foundation
import XCTest
import ToolTestSupport
@testable import LSLlamaCore
@testable import Runtime

final class LSLlamaToolTests: XCTestCase {
    func lines(_ r: ToolResult) throws -> [JSONValue] { try r.lines.map { try JSONValue(parsing: Array($0.utf8)) } }

    static let texts: [(String, String)] = [
        ("a wonderful, moving film", "positive"), ("dull and far too long", "negative"), ("I loved every minute", "positive"),
        ("a waste of time", "negative"), ("brilliant acting and a clever script", "positive"), ("boring, predictable, flat", "negative"),
        ("the best movie this year", "positive"), ("painfully bad dialogue", "negative"), ("charming and funny", "positive"),
        ("an ugly, tedious mess", "negative"), ("a joy to watch", "positive"), ("I want my money back", "negative"),
    ]

    func writeData(_ dir: String) throws {
        let jsonl = Self.texts.map { "{\"text\": \"\($0.0)\", \"label\": \"\($0.1)\"}" }.joined(separator: "\n") + "\n"
        try jsonl.write(toFile: dir + "/train.jsonl", atomically: true, encoding: .utf8)
    }

    func testSequenceTrainPredictEvalOnAnEncoder() throws {
        let dir = try temporaryDirectory("ls-seq")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeData(dir)
        let t = try runTool("ls-llama", ["train", "--task", "seq", "--model", Repo.minilm, "--data", dir + "/train.jsonl", "--dev", dir + "/train.jsonl",
                                         "--epochs", "2", "--lr", "1e-3", "--out", dir + "/m", "--quiet", "--threads", "1"])
        XCTAssertEqual(t.status, 0, t.stderr)
        for f in ["adapter_config.json", "adapter_model.safetensors", "ls_llama.json", "log.jsonl", "checkpoint.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/m/" + f), f)
        }
        let cfg = try JSONValue(parsing: [UInt8](FileManager.default.contents(atPath: dir + "/m/ls_llama.json")!))
        XCTAssertEqual(cfg["pooling"]?.stringValue, "cls", "encoders pool their first token by default")
        XCTAssertEqual(cfg["labels"]?.arrayValue?.compactMap(\.stringValue), ["negative", "positive"])
        let p = try runTool("ls-llama", ["predict", "--model", dir + "/m", "--quiet", "--on-error", "pass"],
                            stdin: "{\"text\": \"a lovely film\"}\n{\"title\": \"no text\"}\n{\"text\": \"\"}\n")
        XCTAssertEqual(p.status, 0, p.stderr)
        let out = try lines(p)
        XCTAssertEqual(out.count, 3)
        XCTAssertNotNil(out[2]["error"] ?? out[2]["prediction"], "an empty text fails alone (or is scored), never its batch")
        let probs = try XCTUnwrap(out[0]["probs"]?.objectValue).members.map { try $0.value.numberValue!.float() }
        XCTAssertEqual(probs.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertNotNil(out[0]["prediction"]?.stringValue)
        XCTAssertNotNil(out[1]["error"])
        try "{\"text\": \"unlabelled\"}\n".write(toFile: dir + "/nolabel.jsonl", atomically: true, encoding: .utf8)
        let bad = try runTool("ls-llama", ["eval", "--model", dir + "/m", "--data", dir + "/nolabel.jsonl", "--quiet"])
        XCTAssertEqual(bad.status, 2, "a record without a label is an error, not a class \"\": \(bad.stderr)")
        let e = try runTool("ls-llama", ["eval", "--model", dir + "/m", "--data", dir + "/train.jsonl", "--quiet"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let scores = try JSONValue(parsing: Array(e.stdout.utf8))
        let acc = try XCTUnwrap(scores["accuracy"]?.numberValue).double()
        XCTAssertTrue((0...1).contains(acc))
        // The log's last dev accuracy for the kept model is what eval measures on the same data.
        let log = try String(contentsOfFile: dir + "/m/log.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONValue(parsing: Array($0.utf8)) }
        let best = log.filter { $0["best"] != nil }.last
        XCTAssertEqual(try XCTUnwrap(best?["dev_accuracy"]?.numberValue).double(), acc, accuracy: 1e-12)
    }

    func testTaggingOnSmolLM2Unmasked() throws {
        let dir = try temporaryDirectory("ls-token")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let conll = """
        John NNP I-NP I-PER
        lives VBZ I-VP O
        in IN I-PP O
        New NNP I-NP I-LOC
        York NNP I-NP I-LOC

        Mary NNP I-NP I-PER
        works VBZ I-VP O
        for IN I-PP O
        Acme NNP I-NP I-ORG
        Corp NNP I-NP I-ORG

        """
        try conll.write(toFile: dir + "/train.conll", atomically: true, encoding: .utf8)
        let t = try runTool("ls-llama", ["train", "--task", "token", "--model", Repo.smollm2, "--data", dir + "/train.conll", "--dev-split", "0",
                                         "--unmasked", "--epochs", "1", "--train-batch", "2", "--out", dir + "/m", "--quiet", "--threads", "1"])
        XCTAssertEqual(t.status, 0, t.stderr)
        let cfg = try JSONValue(parsing: [UInt8](FileManager.default.contents(atPath: dir + "/m/ls_llama.json")!))
        XCTAssertEqual(cfg["labels"]?.arrayValue?.compactMap(\.stringValue), ["O", "B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG"])
        XCTAssertEqual(cfg["unmasked"]?.boolValue, true)
        let p = try runTool("ls-llama", ["predict", "--model", dir + "/m", "--quiet", "--aggregate", "mean", "--on-error", "pass"],
                            stdin: "{\"tokens\": [\"Anna\", \"visited\", \"Paris\"]}\n{\"tokens\": \"   \"}\n{\"tokens\": [\"a\", \"\"]}\n{\"tokens\": \"Bob  met Alice\"}\n")
        XCTAssertEqual(p.status, 0, p.stderr)
        let out = try lines(p)
        XCTAssertEqual(out.count, 4)
        XCTAssertEqual(out[0]["tags"]?.arrayValue?.count, 3)
        XCTAssertNotNil(out[1]["error"], "no words: this record fails alone")
        XCTAssertNotNil(out[2]["error"], "an empty word: this record fails alone")
        XCTAssertEqual(out[3]["tags"]?.arrayValue?.count, 3)
        for e in out[0]["entities"]?.arrayValue ?? [] {
            let (s, en) = (try e["start"]!.numberValue!.int(), try e["end"]!.numberValue!.int())
            let joined = Array("Anna visited Paris")
            XCTAssertEqual(String(joined[s..<en]), e["text"]?.stringValue)
        }
        let e = try runTool("ls-llama", ["eval", "--model", dir + "/m", "--data", dir + "/train.conll", "--quiet"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let s = try JSONValue(parsing: Array(e.stdout.utf8))
        XCTAssertEqual(try s["true_entities"]?.numberValue?.int(), 4)
        XCTAssertEqual(try s["truncated_words"]?.numberValue?.int(), 0)
    }

    func testKilledRunResumesToTheSameWeights() throws {
        let dir = try temporaryDirectory("ls-resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeData(dir)
        func args(_ out: String) -> [String] {
            ["train", "--task", "seq", "--model", Repo.minilm, "--data", dir + "/train.jsonl", "--dev", dir + "/train.jsonl", "--epochs", "3",
             "--train-batch", "4", "--checkpoint-every", "1", "--out", dir + "/" + out, "--quiet", "--threads", "1"]
        }
        let straight = try runTool("ls-llama", args("a"))
        XCTAssertEqual(straight.status, 0, straight.stderr)
        // With a dev set: the best model kept across the kills is the uninterrupted run's.
        let (kills, last) = try runKilledAndResumed("ls-llama", args("b") + ["--resume"], delays: 300_000...1_500_000, times: 3)
        XCTAssertEqual(last.status, 0, last.stderr)
        let a = try SafeTensorsFile(path: dir + "/a/adapter_model.safetensors"), b = try SafeTensorsFile(path: dir + "/b/adapter_model.safetensors")
        XCTAssertEqual(a.names.sorted(), b.names.sorted())
        for n in a.names { XCTAssertEqual(try a.tensor(n).scalars, try b.tensor(n).scalars, "\(n) after \(kills) kills") }
        XCTAssertEqual(try String(contentsOfFile: dir + "/a/log.jsonl", encoding: .utf8), try String(contentsOfFile: dir + "/b/log.jsonl", encoding: .utf8))
    }

    func testClearErrors() throws {
        let r = try runTool("ls-llama", ["train", "--model", Repo.minilm, "--data", "/nonexistent.jsonl", "--out", "/tmp/x-ls-never"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("nonexistent"), r.stderr)
        let m = try runTool("ls-llama", ["predict", "--model", "/nonexistent-model"])
        XCTAssertEqual(m.status, 2)
        let v = try runTool("ls-llama", ["train", "--model", Repo.minilm, "--reference-mask", "--out", "/tmp/x-ls-never"])
        XCTAssertEqual(v.status, 64, "usage error: --reference-mask without --unmasked")
        let dir = try temporaryDirectory("ls-errors")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeData(dir)
        let long = try runTool("ls-llama", ["train", "--model", Repo.minilm, "--data", dir + "/train.jsonl", "--max-length", "1024", "--out", dir + "/x", "--quiet"])
        XCTAssertEqual(long.status, 2, long.stderr)
        XCTAssertTrue(long.stderr.contains("positions"), long.stderr)
        let enc = try runTool("ls-llama", ["train", "--model", Repo.minilm, "--data", dir + "/train.jsonl", "--unmasked", "--out", dir + "/y", "--quiet"])
        XCTAssertEqual(enc.status, 2, "an encoder has no causal mask to remove: \(enc.stderr)")
    }
}
