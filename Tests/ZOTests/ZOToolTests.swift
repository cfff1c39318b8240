// The `zo` program end to end on SmolLM2 with small schemes: training writes a log, a trajectory and
// the trained tensors; replay rebuilds them bit for bit; the same seed gives the same trajectory on
// 1 and 2 threads; eval scores a run and a base model; bad input.
import Foundation
import XCTest
import ToolTestSupport
import Runtime
import RuntimeCLI

final class ZOToolTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Repo.haveModels, "run `make models` first (make test does)")
    }

    private func train(_ dir: String, _ extra: [String], threads: Int = 2) throws -> ToolResult {
        try runTool("zo", ["train", "--model", Repo.smollm2, "--train", Repo.path("data/sst2/train-3000.jsonl"),
                           "--dev", Repo.path("data/sst2/dev.jsonl"), "--train-count", "32", "--dev-count", "16",
                           "--batch", "4", "--eval-every", "0", "--threads", String(threads), "--out", dir] + extra)
    }

    func testTrainReplayBitForBitAndThreadIndependence() throws {
        let dir = try temporaryDirectory("zo")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (scheme, opt) in [("lora", "zo-sgd"), ("prompt", "zo-adam"), ("prefix", "zo-sgd-mmt")] {
            let args = ["--scheme", scheme, "--optimizer", opt, "--steps", "3", "--lr", "1e-3"]
            let r = try train(dir + "/\(scheme)", args)
            XCTAssertEqual(r.status, 0, r.stderr)
            let log = try String(contentsOfFile: dir + "/\(scheme)/log.jsonl", encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(log.count, 3)
            XCTAssertTrue(log.last!.contains("dev_accuracy"))
            let rep = try runTool("zo", ["replay", "--base", Repo.smollm2, "--log", dir + "/\(scheme)/trajectory.jsonl", "--out", dir + "/\(scheme)-replay"])
            XCTAssertEqual(rep.status, 0, rep.stderr)
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/\(scheme)/trained.safetensors"),
                           FileManager.default.contents(atPath: dir + "/\(scheme)-replay/trained.safetensors"), "\(scheme): replay differs")
        }
        // One thread: the same losses as two.
        let one = try train(dir + "/one", ["--scheme", "lora", "--optimizer", "zo-sgd", "--steps", "3", "--lr", "1e-3"], threads: 1)
        XCTAssertEqual(one.status, 0, one.stderr)
        func losses(_ d: String) throws -> [String] {
            try String(contentsOfFile: d + "/log.jsonl", encoding: .utf8).split(separator: "\n").map { line in
                String(line.split(separator: ",").first { $0.contains("\"loss\"") } ?? "")
            }
        }
        XCTAssertEqual(try losses(dir + "/one"), try losses(dir + "/lora"))
        // eval: the run and the base model.
        let e = try runTool("zo", ["eval", "--model", dir + "/lora", "--data", Repo.path("data/sst2/dev.jsonl"), "--count", "8",
                                   "--predictions", dir + "/pred.jsonl"])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("\"examples\":8"), e.stdout)
        XCTAssertEqual(try String(contentsOfFile: dir + "/pred.jsonl", encoding: .utf8).split(separator: "\n").count, 8)
        XCTAssertEqual(try runTool("zo", ["eval", "--model", Repo.smollm2, "--data", Repo.path("data/sst2/dev.jsonl"), "--count", "4"]).status, 0)
    }

    func testEncoderHeadAndFirstOrder() throws {
        let dir = try temporaryDirectory("zo-enc")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runTool("zo", ["train", "--model", Repo.minilm, "--train", Repo.path("data/sst2/train-3000.jsonl"),
                                   "--dev", Repo.path("data/sst2/dev.jsonl"), "--train-count", "32", "--dev-count", "16",
                                   "--optimizer", "fo-adam", "--lr", "1e-3", "--steps", "4", "--batch", "8", "--out", dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        let bad = try runTool("zo", ["replay", "--base", Repo.minilm, "--log", dir + "/trajectory.jsonl", "--out", dir + "/r"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("first-order"), bad.stderr)
    }

    /// Prefix and prompt tuning on an encoder (MiniLM + head) through the backbone face; replay rebuilds
    /// the prefix, the virtual tokens and the head bit for bit.
    func testEncoderPrefixAndPromptSchemes() throws {
        let dir = try temporaryDirectory("zo-enc-schemes")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (scheme, opt) in [("prefix", "zo-sgd"), ("prompt", "zo-sgd-mmt"), ("lora", "zo-sgd")] {
            let r = try runTool("zo", ["train", "--model", Repo.minilm, "--train", Repo.path("data/sst2/train-3000.jsonl"),
                                       "--dev", Repo.path("data/sst2/dev.jsonl"), "--train-count", "32", "--dev-count", "16",
                                       "--scheme", scheme, "--optimizer", opt, "--lr", "1e-3", "--steps", "3", "--batch", "4",
                                       "--eval-every", "0", "--out", dir + "/\(scheme)"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let rep = try runTool("zo", ["replay", "--base", Repo.minilm, "--log", dir + "/\(scheme)/trajectory.jsonl",
                                         "--out", dir + "/\(scheme)-replay"])
            XCTAssertEqual(rep.status, 0, rep.stderr)
            let trained = FileManager.default.contents(atPath: dir + "/\(scheme)/trained.safetensors")
            XCTAssertNotNil(trained)
            XCTAssertEqual(trained, FileManager.default.contents(atPath: dir + "/\(scheme)-replay/trained.safetensors"), "\(scheme): replay differs")
            let names = try SafeTensorsFile(path: dir + "/\(scheme)/trained.safetensors").tensors.map(\.name)
            let expected = scheme == "prefix" ? "prefix.0.keys" : scheme == "prompt" ? "prompt.embeddings" : "lora_A"
            XCTAssertTrue(names.contains { $0.contains(expected) }, "\(scheme): \(names)")
            XCTAssertTrue(names.contains("head.weight"), "\(scheme): \(names)")
        }
    }

    /// kill -9 at five random moments, --resume each time: the same trajectory and weights, bit for bit,
    /// as a run never interrupted, and the same log apart from its clock readings.
    func testResumeAfterKillReachesTheSameWeights() throws {
        let dir = try temporaryDirectory("zo-kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["train", "--model", Repo.minilm, "--train", Repo.path("data/sst2/train-3000.jsonl"),
                    "--dev", Repo.path("data/sst2/dev.jsonl"), "--train-count", "32", "--dev-count", "8",
                    "--optimizer", "zo-adam", "--lr", "1e-3", "--steps", "24", "--batch", "4", "--eval-every", "8",
                    "--checkpoint-every", "3", "--threads", "1", "--quiet"]
        let whole = try runTool("zo", args + ["--out", dir + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let (kills, last) = try runKilledAndResumed("zo", args + ["--out", dir + "/killed", "--resume"], delays: 300_000...2_500_000)
        XCTAssertEqual(last.status, 0, last.stderr)
        print("ZOToolTests: \(kills) of 5 runs killed before they finished")
        XCTAssertGreaterThan(kills, 0, "no run was killed: the kill test tested nothing")
        for f in ["trained.safetensors", "trajectory.jsonl", "zo_model.json"] {
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/whole/" + f), FileManager.default.contents(atPath: dir + "/killed/" + f), f)
        }
        func logWithoutClocks(_ d: String) throws -> [String] {
            try String(contentsOfFile: d + "/log.jsonl", encoding: .utf8).split(separator: "\n").map { line in
                var r = try Record(parsing: String(line))
                r.remove("seconds")
                r.remove("cpu_seconds")
                return r.jsonText
            }
        }
        XCTAssertEqual(try logWithoutClocks(dir + "/whole"), try logWithoutClocks(dir + "/killed"))
        // Another run's --out is refused, --overwrite starts over.
        let refused = try runTool("zo", args + ["--out", dir + "/whole"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("holds another run's files") && refused.stderr.contains("--resume"), refused.stderr)
        let again = try runTool("zo", args + ["--out", dir + "/whole", "--overwrite"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/whole/trained.safetensors"),
                       FileManager.default.contents(atPath: dir + "/killed/trained.safetensors"))
    }

    /// A learning rate that sends the loss to infinity stops the run with a message, not a trap, and
    /// leaves the model of the last good step.
    func testNonFiniteLossStopsWithTheLastGoodModel() throws {
        let dir = try temporaryDirectory("zo-nan")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runTool("zo", ["train", "--model", Repo.minilm, "--train", Repo.path("data/sst2/train-3000.jsonl"),
                                   "--dev", Repo.path("data/sst2/dev.jsonl"), "--train-count", "16", "--dev-count", "4",
                                   "--optimizer", "zo-sgd", "--lr", "1e30", "--steps", "5", "--batch", "4", "--quiet", "--out", dir])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("stopped at step"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/trained.safetensors"))
        XCTAssertTrue(try String(contentsOfFile: dir + "/zo_model.json", encoding: .utf8).contains("stopped"))
    }

    func testReplayOfAnEditedTrajectoryIsAnError() throws {
        let dir = try temporaryDirectory("zo-edit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runTool("zo", ["train", "--model", Repo.minilm, "--train", Repo.path("data/sst2/train-3000.jsonl"),
                                   "--dev", Repo.path("data/sst2/dev.jsonl"), "--train-count", "16", "--dev-count", "4",
                                   "--steps", "2", "--batch", "4", "--lr", "1e-4", "--quiet", "--out", dir + "/run"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = try String(contentsOfFile: dir + "/run/trajectory.jsonl", encoding: .utf8)
        for (from, to) in [("\"seeds\"", "\"sedes\""), ("\"trained\"", "\"trainee\""), ("\"block\":0", "\"block\":99"), ("\"c\":[", "\"c\":[\"x\",")] {
            try text.replacingOccurrences(of: from, with: to).write(toFile: dir + "/edited.jsonl", atomically: true, encoding: .utf8)
            let rep = try runTool("zo", ["replay", "--base", Repo.minilm, "--log", dir + "/edited.jsonl", "--out", dir + "/rep"])
            XCTAssertEqual(rep.status, 2, "\(from): \(rep.stderr)")
            XCTAssertTrue(rep.stderr.contains("edited.jsonl:"), rep.stderr)
        }
    }

    func testUsageAndLoadErrors() throws {
        XCTAssertEqual(try runTool("zo", ["train", "--model", Repo.smollm2, "--train", "x", "--dev", "y", "--out", "/tmp/z", "--optimizer", "bogus"]).status, 64)
        let missing = try runTool("zo", ["eval", "--model", "/nonexistent", "--data", Repo.path("data/sst2/dev.jsonl")])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("/nonexistent"), missing.stderr)
    }
}
