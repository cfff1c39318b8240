// The llmfew program end to end on small inputs: convert (.ts and .npy), train on the tiny LLaMA of
// data/fixtures/llama/tiny-gqa-tied with a small PTCEnc, predict (with error records), eval, knn, a
// killed and resumed run equal to an uninterrupted one, and the usage errors.
import Foundation
import XCTest
import ToolTestSupport
@testable import LLMFewCore
import Runtime

final class LLMFewToolTests: XCTestCase {
    static let tiny = Repo.path("data/fixtures/llama/tiny-gqa-tied")
    static let small = ["--channels", "8", "--depth", "1", "--reduced-size", "4", "--threads", "1", "--quiet"]

    /// BasicMotions' training file as JSON Lines (40 series, 6 × 100, 4 classes).
    func basicMotions() throws -> String {
        let r = try runTool("llmfew", ["convert", "--ts", Repo.path("data/llmfew/BasicMotions_TRAIN.ts")])
        XCTAssertEqual(r.status, 0, r.stderr)
        return r.stdout
    }

    func testConvertReadsTSAndNPY() throws {
        let lines = try basicMotions().split(separator: "\n")
        XCTAssertEqual(lines.count, 40)
        let first = try JSONValue(parsing: Array(lines[0].utf8))
        XCTAssertEqual(first["series"]?.arrayValue?.count, 6)
        XCTAssertEqual(first["series"]?[0]?.arrayValue?.count, 100)
        XCTAssertEqual(first["series"]?[0]?[0]?.numberValue.flatMap { try? $0.double() }, 0.079106)
        XCTAssertEqual(Set(lines.compactMap { try? JSONValue(parsing: Array($0.utf8))["label"]?.stringValue }),
                       ["Standing", "Running", "Walking", "Badminton"])
        let hw = try runTool("llmfew", ["convert", "--x", Repo.path("data/llmfew/Handwriting_train_x.npy"),
                                        "--y", Repo.path("data/llmfew/Handwriting_train_y.npy")])
        XCTAssertEqual(hw.status, 0, hw.stderr)
        let rows = hw.stdout.split(separator: "\n")
        XCTAssertEqual(rows.count, 150)
        let r0 = try JSONValue(parsing: Array(rows[0].utf8))
        XCTAssertEqual(r0["series"]?.arrayValue?.count, 3)
        XCTAssertEqual(r0["series"]?[0]?.arrayValue?.count, 152)
        XCTAssertTrue(r0["label"]?.stringValue?.hasSuffix(".0") ?? false)
        // A file that is not a .ts file, and a missing value.
        let dir = try temporaryDirectory("llmfew-convert")
        try "@problemName x\n@data\n1,2,?:3,4,5:a\n".write(toFile: dir + "/bad.ts", atomically: true, encoding: .utf8)
        let bad = try runTool("llmfew", ["convert", "--ts", dir + "/bad.ts"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("missing values"), bad.stderr)
    }

    func testTrainPredictEvalOnTheTinyDecoder() throws {
        let dir = try temporaryDirectory("llmfew-train")
        try basicMotions().write(toFile: dir + "/bm.jsonl", atomically: true, encoding: .utf8)
        let train = try runTool("llmfew", ["train", "--model", Self.tiny, "--data", dir + "/bm.jsonl", "--shots", "2", "--epochs", "4",
                                           "--out", dir + "/m"] + Self.small)
        XCTAssertEqual(train.status, 0, train.stderr)
        for f in ["llmfew.json", "model.safetensors", "adapter_model.safetensors", "adapter_config.json", "log.jsonl"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/m/" + f), f)
        }
        let log = try String(contentsOfFile: dir + "/m/log.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.filter { $0.contains("\"loss\"") && !$0.contains("val_") }.count, 8)  // 8 shots, batch 4, 4 epochs
        XCTAssertEqual(log.filter { $0.contains("val_accuracy") }.count, 3)  // epochs 1, 3 and the last
        let config = try JSONValue(parsing: Array(try String(contentsOfFile: dir + "/m/llmfew.json", encoding: .utf8).utf8))
        XCTAssertEqual(config["classes"]?.arrayValue?.compactMap(\.stringValue), ["Badminton", "Running", "Standing", "Walking"])
        XCTAssertEqual(config["length"]?.numberValue.flatMap { try? $0.int() }, 100)

        let records = try String(contentsOfFile: dir + "/bm.jsonl", encoding: .utf8).split(separator: "\n").prefix(3).joined(separator: "\n")
        let input = records + "\n{\"series\": [[1, 2, 3]]}\n{\"series\": \"x\"}\n"
        let pred = try runTool("llmfew", ["predict", "--model", dir + "/m", "--threads", "1", "--quiet", "--on-error", "pass"], stdin: input)
        XCTAssertEqual(pred.status, 0, pred.stderr)
        let out = pred.stdout.split(separator: "\n").map { try! JSONValue(parsing: Array($0.utf8)) }
        XCTAssertEqual(out.count, 5)
        for r in out.prefix(3) {
            XCTAssertNotNil(r["prediction"]?.stringValue)
            let p = r["probs"]?.objectValue?.map { try! $0.value.numberValue!.double() } ?? []
            XCTAssertEqual(p.count, 4)
            XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-5)
        }
        XCTAssertTrue(out[3]["error"]?["message"]?.stringValue?.contains("channels") ?? false, "\(out[3])")
        XCTAssertNotNil(out[4]["error"])

        let eval = try runTool("llmfew", ["eval", "--model", dir + "/m", "--data", dir + "/bm.jsonl", "--threads", "1", "--quiet"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let scores = try JSONValue(parsing: Array(eval.stdout.utf8))
        for k in ["accuracy", "macro_accuracy", "macro_precision", "macro_f1", "loss"] { XCTAssertNotNil(scores[k], k) }
        XCTAssertEqual(scores["series"]?.numberValue.flatMap { try? $0.int() }, 40)

        // The same shots, without a decoder, and the 1-NN baseline on them.
        let none = try runTool("llmfew", ["train", "--llm", "none", "--width", "16", "--data", dir + "/bm.jsonl", "--shots", "2",
                                          "--epochs", "2", "--out", dir + "/none"] + Self.small)
        XCTAssertEqual(none.status, 0, none.stderr)
        let knn = try runTool("llmfew", ["knn", "--data", dir + "/bm.jsonl", "--test", dir + "/bm.jsonl", "--shots", "0", "--val-split", "0",
                                         "--distance", "dtw"])
        XCTAssertEqual(knn.status, 0, knn.stderr)
        XCTAssertEqual(try JSONValue(parsing: Array(knn.stdout.utf8))["accuracy"]?.numberValue.flatMap { try? $0.double() }, 1)
    }

    /// The reference's head and selection, and a frozen decoder, on the tiny model: they train, the
    /// selection reads the test set (after epochs 1, 3: not the last, 4), and the model scores it.
    func testReferenceModesAndFrozenDecoder() throws {
        let dir = try temporaryDirectory("llmfew-reference")
        try basicMotions().write(toFile: dir + "/bm.jsonl", atomically: true, encoding: .utf8)
        let r = try runTool("llmfew", ["train", "--model", Self.tiny, "--data", dir + "/bm.jsonl", "--shots", "1", "--epochs", "4",
                                       "--reference-head", "--reference-selection", "--test", dir + "/bm.jsonl", "--out", dir + "/ref"] + Self.small)
        XCTAssertEqual(r.status, 0, r.stderr)
        let log = try String(contentsOfFile: dir + "/ref/log.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.filter { $0.contains("test_macro_accuracy") }.map { $0.contains("\"epoch\":1,") || $0.contains("\"epoch\":3,") }, [true, true])
        let config = try JSONValue(parsing: Array(try String(contentsOfFile: dir + "/ref/llmfew.json", encoding: .utf8).utf8))
        XCTAssertEqual(config["reference_head"]?.boolValue, true)
        let eval = try runTool("llmfew", ["eval", "--model", dir + "/ref", "--data", dir + "/bm.jsonl", "--quiet"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let frozen = try runTool("llmfew", ["train", "--model", Self.tiny, "--llm", "frozen", "--data", dir + "/bm.jsonl", "--shots", "1",
                                            "--epochs", "1", "--out", dir + "/frozen"] + Self.small)
        XCTAssertEqual(frozen.status, 0, frozen.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/frozen/adapter_model.safetensors"))
    }

    func testKilledAndResumedRunEqualsAnUninterruptedOne() throws {
        let dir = try temporaryDirectory("llmfew-resume")
        try basicMotions().write(toFile: dir + "/bm.jsonl", atomically: true, encoding: .utf8)
        // About 2 s uninterrupted (60 epochs of 3 steps, a checkpoint every 2 steps); killed at 10-60% of that.
        let args = ["train", "--model", Self.tiny, "--data", dir + "/bm.jsonl", "--shots", "3", "--epochs", "60",
                    "--checkpoint-every", "2", "--seed", "5"] + Self.small
        let started = Date()
        let a = try runTool("llmfew", args + ["--out", dir + "/a"])
        XCTAssertEqual(a.status, 0, a.stderr)
        let (kills, last) = try runKilledAndResumed("llmfew", args + ["--out", dir + "/b", "--resume"],
                                                    delays: killDelays(forRunOf: Date().timeIntervalSince(started)), times: 3)
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertGreaterThanOrEqual(kills, 1, "no run was killed: the delays are too long for this machine")
        for f in ["model.safetensors", "adapter_model.safetensors"] {
            let x = try SafeTensorsFile(path: dir + "/a/" + f), y = try SafeTensorsFile(path: dir + "/b/" + f)
            XCTAssertEqual(x.names.sorted(), y.names.sorted())
            for n in x.names { XCTAssertEqual(try x.tensor(n).scalars, try y.tensor(n).scalars, "\(f) \(n) after \(kills) kills") }
        }
        XCTAssertEqual(try String(contentsOfFile: dir + "/a/log.jsonl", encoding: .utf8), try String(contentsOfFile: dir + "/b/log.jsonl", encoding: .utf8))
    }

    func testUsageAndDataErrors() throws {
        let dir = try temporaryDirectory("llmfew-errors")
        try basicMotions().write(toFile: dir + "/bm.jsonl", atomically: true, encoding: .utf8)
        let noTest = try runTool("llmfew", ["train", "--model", Self.tiny, "--data", dir + "/bm.jsonl", "--reference-selection", "--out", dir + "/x"])
        XCTAssertEqual(noTest.status, 64, noTest.stderr)
        let short = try runTool("llmfew", ["train", "--model", Self.tiny, "--data", dir + "/bm.jsonl", "--patch-len", "120", "--out", dir + "/y"] + Self.small)
        XCTAssertNotEqual(short.status, 0)
        XCTAssertTrue(short.stderr.contains("shorter than one patch"), short.stderr)
        try "{\"series\": [[1, 2], [3]], \"label\": \"a\"}\n".write(toFile: dir + "/ragged.jsonl", atomically: true, encoding: .utf8)
        let ragged = try runTool("llmfew", ["train", "--llm", "none", "--width", "4", "--data", dir + "/ragged.jsonl", "--out", dir + "/z"] + Self.small)
        XCTAssertNotEqual(ragged.status, 0)
        XCTAssertTrue(ragged.stderr.contains("line 1") && ragged.stderr.contains("one length"), ragged.stderr)
    }
}
