// ptec as a user runs it (tier 3) on SmolLM2 and MiniLM: train → predict → eval → tune-thresholds for
// PTEC on the reference's own data layout (0/1 columns, "prompt"); the prompt-tuning baseline with and
// without the trie; the probe, k-NN and gzip baselines; a killed training run resumes to the weights of
// one never interrupted; clear errors.
import Foundation
import XCTest
import ToolTestSupport
@testable import PTECCore
@testable import Runtime

final class PTECToolTests: XCTestCase {
    func lines(_ r: ToolResult) throws -> [JSONValue] { try r.lines.map { try JSONValue(parsing: Array($0.utf8)) } }
    let train = Repo.path("data/ptec/train-sample.jsonl"), dev = Repo.path("data/ptec/dev-sample.jsonl")

    /// Short texts with label lists (fast on SmolLM2).
    static let texts: [(String, [String])] = [
        ("the police beat him again", ["police"]), ("cops shot an unarmed man", ["police", "violence"]),
        ("they should all be hanged", ["violence"]), ("what a lovely sunny day", ["neutral"]),
        ("officers lied in court", ["police"]), ("burn their houses down", ["violence"]),
        ("nice weather for a walk", ["neutral"]), ("the sheriff attacked protesters", ["police", "violence"]),
        ("I had pasta for lunch", ["neutral"]), ("kill them all", ["violence"]), ("a quiet evening at home", ["neutral"]),
        ("the cops planted evidence", ["police"]),
    ]

    func writeShort(_ dir: String) throws {
        let jsonl = Self.texts.map { t, ls in "{\"text\": \"\(t)\", \"labels\": [\(ls.map { "\"\($0)\"" }.joined(separator: ", "))]}" }.joined(separator: "\n") + "\n"
        try jsonl.write(toFile: dir + "/short.jsonl", atomically: true, encoding: .utf8)
    }

    func testPTECOnTheReferenceLayout() throws {
        let dir = try temporaryDirectory("ptec-ch")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try runTool("ptec", ["train", "--head", "ch", "--model", Repo.smollm2, "--text-field", "prompt", "--data", train, "--dev", dev,
                                     "--sp-len", "4", "--epochs", "2", "--update-examples", "8", "--max-length", "48", "--ch-lr", "1e-2", "--lr", "1e-2",
                                     "--early-stop", "0", "--interrupt-threshold=-1", "--out", dir + "/m", "--quiet", "--threads", "1"])
        XCTAssertEqual(t.status, 0, t.stderr)
        let config = try PTECModelFiles.readConfig(dir + "/m")
        XCTAssertEqual(config.labels.count, 22, "the 22 label columns of the reference's files")
        XCTAssertEqual(config.labels.first, "Towards law enforcement")
        XCTAssertEqual(config.labels.last, "Neutral")
        let file = try SafeTensorsFile(path: dir + "/m/ptec.safetensors")
        XCTAssertEqual(file.info("soft_prompt")?.shape, [4, 576])
        XCTAssertEqual(file.info("score.weight")?.shape, [22, 576])
        let log = try String(contentsOfFile: dir + "/m/log.jsonl", encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "dev_macro_f1").count - 1, 2, "one dev evaluation per epoch")

        let devText = try String(contentsOfFile: dev, encoding: .utf8)
        let p = try runTool("ptec", ["predict", "--model", dir + "/m", "--text-field", "prompt", "--quiet", "--threads", "1"], stdin: devText)
        XCTAssertEqual(p.status, 0, p.stderr)
        let out = try lines(p)
        XCTAssertEqual(out.count, 12)
        for r in out {
            let scores = try XCTUnwrap(r["scores"]?.objectValue)
            XCTAssertEqual(scores.count, 22)
            let predicted = Set(try XCTUnwrap(r["labels"]?.arrayValue).compactMap(\.stringValue))
            let above = Set(scores.members.filter { (try? $0.value.numberValue?.double()).flatMap { $0 } ?? 0 > 0.5 }.map(\.key))
            XCTAssertEqual(predicted, above, "labels are the scores above 0.5")
        }
        // The model's own evaluation equals the evaluation of its predictions.
        let e1 = try runTool("ptec", ["eval", "--model", dir + "/m", "--text-field", "prompt", "--data", dev, "--quiet", "--threads", "1"])
        XCTAssertEqual(e1.status, 0, e1.stderr)
        let e2 = try runTool("ptec", ["eval", "--text-field", "prompt", "--data", dev, "--quiet"], stdin: p.stdout)
        XCTAssertEqual(e2.status, 0, e2.stderr)
        let a = try JSONValue(parsing: Array(e1.stdout.utf8)), b = try JSONValue(parsing: Array(e2.stdout.utf8))
        for k in ["macro_f1", "micro_f1", "samples_f1", "jaccard_samples", "avg_n_predicted"] {
            XCTAssertEqual(try a[k]?.numberValue?.double(), try b[k]?.numberValue?.double(), k)
        }
        XCTAssertEqual(a["per_label"]?.objectValue?.count, 22)

        let tune = try runTool("ptec", ["tune-thresholds", "--model", dir + "/m", "--text-field", "prompt", "--data", dev, "--quiet", "--threads", "1"])
        XCTAssertEqual(tune.status, 0, tune.stderr)
        let tr = try JSONValue(parsing: Array(tune.stdout.utf8))
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(tr["macro_f1_after"]?.numberValue?.double()), try XCTUnwrap(tr["macro_f1_before"]?.numberValue?.double()))
        XCTAssertEqual(try PTECModelFiles.readConfig(dir + "/m").thresholds?.count, 22)
    }

    func testPromptTuningGeneratesOnlyLabelsWithTheTrie() throws {
        let dir = try temporaryDirectory("ptec-lh")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeShort(dir)
        let t = try runTool("ptec", ["train", "--head", "lh", "--model", Repo.smollm2, "--data", dir + "/short.jsonl", "--dev-split", "0",
                                     "--sp-len", "4", "--epochs", "2", "--update-examples", "4", "--lr", "3e-2", "--out", dir + "/m", "--quiet", "--threads", "1"])
        XCTAssertEqual(t.status, 0, t.stderr)
        let input = Self.texts.prefix(6).map { "{\"text\": \"\($0.0)\"}" }.joined(separator: "\n") + "\n"
        let labels: Set<String> = ["police", "violence", "neutral"]
        let trie = try runTool("ptec", ["predict", "--model", dir + "/m", "--trie", "--max-new-tokens", "12", "--quiet", "--threads", "1"], stdin: input)
        XCTAssertEqual(trie.status, 0, trie.stderr)
        for r in try lines(trie) {
            let generated = try XCTUnwrap(r["generated"]?.stringValue)
            let parts = generated.components(separatedBy: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            XCTAssertTrue(parts.allSatisfy(labels.contains), "the trie let '\(generated)' through")
            XCTAssertEqual(Set(parts).count, parts.count, "a label repeated: \(generated)")
            XCTAssertEqual(Set(try XCTUnwrap(r["labels"]?.arrayValue).compactMap(\.stringValue)), Set(parts))
        }
        let free = try runTool("ptec", ["predict", "--model", dir + "/m", "--max-new-tokens", "12", "--quiet", "--threads", "1"], stdin: input)
        XCTAssertEqual(free.status, 0, free.stderr)
        XCTAssertEqual(try lines(free).count, 6)
        let ev = try runTool("ptec", ["eval", "--model", dir + "/m", "--trie", "--data", dir + "/short.jsonl", "--quiet", "--threads", "1"])
        XCTAssertEqual(ev.status, 0, ev.stderr)
        XCTAssertNotNil(try JSONValue(parsing: Array(ev.stdout.utf8))["macro_f1"]?.numberValue)
    }

    func testBaselines() throws {
        let dir = try temporaryDirectory("ptec-base")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeShort(dir)
        let short = try String(contentsOfFile: dir + "/short.jsonl", encoding: .utf8)
        // Probe on MiniLM (any backbone): trained, saved, evaluated.
        let t = try runTool("ptec", ["train", "--head", "probe", "--model", Repo.minilm, "--data", dir + "/short.jsonl", "--dev", dir + "/short.jsonl",
                                     "--epochs", "30", "--lr", "1e-2", "--out", dir + "/probe", "--quiet", "--threads", "1"])
        XCTAssertEqual(t.status, 0, t.stderr)
        let e = try runTool("ptec", ["eval", "--model", dir + "/probe", "--data", dir + "/short.jsonl", "--quiet", "--threads", "1"])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertGreaterThan(try XCTUnwrap(JSONValue(parsing: Array(e.stdout.utf8))["macro_f1"]?.numberValue?.double()), 0.5, "the probe fits 12 texts")
        // k-NN with k = 1 on its own training texts: every text finds itself.
        let k = try runTool("ptec", ["knn", "--model", Repo.minilm, "--train", dir + "/short.jsonl", "--k", "1", "--quiet", "--threads", "1"], stdin: short)
        XCTAssertEqual(k.status, 0, k.stderr)
        for (r, (_, gold)) in zip(try lines(k), Self.texts) {
            XCTAssertEqual(Set(try XCTUnwrap(r["labels"]?.arrayValue).compactMap(\.stringValue)), Set(gold))
        }
        // gzip 1-NN: texts from the training set; the report reads them line for line.
        let g = try runTool("ptec", ["gzip", "--train", dir + "/short.jsonl", "--quiet"], stdin: short)
        XCTAssertEqual(g.status, 0, g.stderr)
        XCTAssertEqual(try lines(g).count, Self.texts.count)
        let ge = try runTool("ptec", ["eval", "--data", dir + "/short.jsonl", "--quiet"], stdin: g.stdout)
        XCTAssertEqual(ge.status, 0, ge.stderr)
        // gzip lengths as Python's gzip.compress (18 bytes around the deflate stream).
        XCTAssertEqual(gzipLength(Array("".utf8)), 20)
        XCTAssertEqual(gzipLength(Array("hello hello hello hello".utf8)), 28)
    }

    /// When no epoch scores above 0 at σ > 0.5 (an untrained head), the last model is kept, not nothing.
    func testNoScoringEpochKeepsTheLastModel() throws {
        let dir = try temporaryDirectory("ptec-zero")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeShort(dir)
        let t = try runTool("ptec", ["train", "--head", "ch", "--model", Repo.smollm2, "--data", dir + "/short.jsonl", "--dev", dir + "/short.jsonl",
                                     "--sp-len", "2", "--epochs", "1", "--lr", "1e-9", "--ch-lr", "1e-9", "--threshold", "2", "--out", dir + "/m", "--threads", "1"])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stderr.contains("kept the last model"), t.stderr)
        XCTAssertTrue(PTECModelFiles.isModel(dir + "/m"))
    }

    func testKilledRunResumesToTheSameWeights() throws {
        let dir = try temporaryDirectory("ptec-resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeShort(dir)
        func args(_ out: String) -> [String] {
            ["train", "--head", "ch", "--model", Repo.smollm2, "--data", dir + "/short.jsonl", "--dev", dir + "/short.jsonl", "--sp-len", "3",
             "--epochs", "3", "--update-examples", "4", "--ch-lr", "1e-2", "--early-stop", "0", "--checkpoint-every", "1",
             "--out", dir + "/" + out, "--quiet", "--threads", "1"]
        }
        let straight = try runTool("ptec", args("a"))
        XCTAssertEqual(straight.status, 0, straight.stderr)
        let (kills, last) = try runKilledAndResumed("ptec", args("b") + ["--resume"], delays: 1_500_000...5_000_000, times: 3)
        XCTAssertEqual(last.status, 0, last.stderr)
        let a = try SafeTensorsFile(path: dir + "/a/ptec.safetensors"), b = try SafeTensorsFile(path: dir + "/b/ptec.safetensors")
        for n in a.names { XCTAssertEqual(try a.tensor(n).scalars, try b.tensor(n).scalars, "\(n) after \(kills) kills") }
        XCTAssertEqual(try String(contentsOfFile: dir + "/a/log.jsonl", encoding: .utf8), try String(contentsOfFile: dir + "/b/log.jsonl", encoding: .utf8))
    }

    func testClearErrors() throws {
        let dir = try temporaryDirectory("ptec-errors")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeShort(dir)
        let missing = try runTool("ptec", ["train", "--model", Repo.smollm2, "--data", "/nonexistent.jsonl", "--out", dir + "/x"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("nonexistent"), missing.stderr)
        let enc = try runTool("ptec", ["train", "--head", "ch", "--model", Repo.minilm, "--data", dir + "/short.jsonl", "--out", dir + "/y", "--quiet"])
        XCTAssertEqual(enc.status, 2, enc.stderr)
        XCTAssertTrue(enc.stderr.contains("decoder"), enc.stderr)
        let usage = try runTool("ptec", ["train", "--head", "lh", "--sp-len", "0", "--model", Repo.smollm2, "--out", dir + "/z"])
        XCTAssertEqual(usage.status, 64, usage.stderr)
        // A record without its text fails alone.
        let t = try runTool("ptec", ["train", "--head", "probe", "--model", Repo.minilm, "--data", dir + "/short.jsonl", "--dev-split", "0",
                                     "--epochs", "2", "--out", dir + "/p", "--quiet", "--threads", "1"])
        XCTAssertEqual(t.status, 0, t.stderr)
        let p = try runTool("ptec", ["predict", "--model", dir + "/p", "--on-error", "pass", "--quiet", "--threads", "1"], stdin: "{\"text\": \"kill them\"}\n{\"txt\": 1}\n{\"text\": \"a walk\"}\n")
        XCTAssertEqual(p.status, 0, p.stderr)
        let out = try lines(p)
        XCTAssertEqual(out.count, 3)
        XCTAssertNotNil(out[1]["error"])
        XCTAssertNotNil(out[0]["scores"])
        XCTAssertNotNil(out[2]["scores"])
        // Predictions that do not line up with the data.
        let e = try runTool("ptec", ["eval", "--data", dir + "/short.jsonl", "--quiet"], stdin: "{\"labels\": []}\n")
        XCTAssertEqual(e.status, 1)
        XCTAssertTrue(e.stderr.contains("line for line"), e.stderr)
    }
}

final class PTECDataTests: XCTestCase {
    /// pos_weight as the reference computes it on the 2,338 training rows (data/fixtures/ptec/pos_weight.json).
    func testPositiveWeightsFromLabelCounts() throws {
        struct Fixture: Decodable { let labels: [String]; let label_counts: [Int]; let pos_weight: [Double] }
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: Repo.path("data/fixtures/ptec/pos_weight.json"))))
        var texts: [LabelledText] = []
        for (l, n) in zip(f.labels, f.label_counts) { texts += [LabelledText](repeating: LabelledText(text: "", labels: [l]), count: n) }
        let w = positiveWeights(texts, labels: f.labels)
        for (a, b) in zip(w, f.pos_weight) { XCTAssertEqual(Double(a), b, accuracy: 1e-5) }
    }

    func testReadsTheReferenceLayoutAndLabelLists() throws {
        let (texts, columns) = try readLabelledTexts(path: Repo.path("data/ptec/train-sample.jsonl"), textField: "prompt", labelsField: "labels")
        XCTAssertEqual(texts.count, 24)
        XCTAssertEqual(columns.count, 22)
        XCTAssertEqual(texts[0].labels, ["Towards law enforcement"])
        XCTAssertTrue(texts[0].text.hasPrefix("Title: Man Killed By Taser Message:"))
        let v = try JSONValue(parsing: Array("{\"text\": \"x\", \"labels\": [\"a\", \"b\"], \"score\": 1}".utf8))
        XCTAssertEqual(try goldLabels(v, field: "labels"), ["a", "b"])
        XCTAssertThrowsError(try goldLabels(try JSONValue(parsing: Array("{\"labels\": [1]}".utf8)), field: "labels"))
    }
}
