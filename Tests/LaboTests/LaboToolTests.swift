// The labo program end to end: on the fixture's features (select as the reference's apricot call,
// train with a validation set, predict with concept contributions, eval, explain, kill-and-resume), and
// chained after `embed` with the tiny random CLIP (images and concept texts through one model).
import Foundation
import XCTest
import ToolTestSupport
@testable import LaboCore
import Runtime

final class LaboToolTests: XCTestCase {
    let fx = try! JSONDecoder().decode(LaboFixture.self, from: Data(contentsOf: URL(fileURLWithPath: Repo.path("data/fixtures/labo/fixture.json"))))

    func jsonl(_ rows: [JSONValue]) -> String {
        rows.map { v -> String in var w = JSONWriter(); w.write(v); return String(decoding: w.bytes, as: UTF8.self) }.joined(separator: "\n") + "\n"
    }
    func vec(_ v: [Float]) -> JSONValue { .array(v.map { JSONNumber($0).map(JSONValue.number) ?? .null }) }

    /// Writes the fixture's concept features and images as `embed` would, in `dir`.
    func writeFeatures(_ dir: String) throws {
        try jsonl(zip(fx.concepts, fx.concept_features).map { .object(["text": .string($0), "embedding": vec($1)]) })
            .write(toFile: dir + "/concepts.jsonl", atomically: true, encoding: .utf8)
        try jsonl(zip(fx.images, fx.labels).map { .object(["embedding": vec($0), "label": .string(fx.classes[$1])]) })
            .write(toFile: dir + "/train.jsonl", atomically: true, encoding: .utf8)
        try jsonl(zip(fx.val_images, fx.val_labels).map { .object(["embedding": vec($0), "label": .string(fx.classes[$1])]) })
            .write(toFile: dir + "/val.jsonl", atomically: true, encoding: .utf8)
    }

    func testSelectTrainPredictEvalExplain() throws {
        let dir = try temporaryDirectory("labo-tool")
        try writeFeatures(dir)
        let bank = Repo.path("data/fixtures/labo/class2concepts.json")
        let sel = try runTool("labo", ["select", "--concepts", bank, "--concept-embeddings", dir + "/concepts.jsonl", "--data", dir + "/train.jsonl",
                                       "--per-class", "5", "--w0", "1000", "--beta", "1", "--quiet"])
        XCTAssertEqual(sel.status, 0, sel.stderr)
        let chosen = try JSONValue(parsing: Array(sel.stdout.utf8))
        for (y, c) in fx.classes.enumerated() {
            XCTAssertEqual(chosen[c]?.arrayValue?.compactMap(\.stringValue), fx.rankings["code-1000-1"]![y].map { fx.concepts[$0] }, c)
        }
        try sel.stdout.write(toFile: dir + "/selected.json", atomically: true, encoding: .utf8)
        let args = ["train", "--selected", dir + "/selected.json", "--concept-embeddings", dir + "/concepts.jsonl", "--data", dir + "/train.jsonl",
                    "--validation", dir + "/val.jsonl", "--epochs", "400", "--train-batch", "4", "--lr", "0.01", "--checkpoint-every", "20", "--quiet"]
        let train = try runTool("labo", args + ["--out", dir + "/m"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let pred = try runTool("labo", ["predict", "--model", dir + "/m", "--top", "3", "--quiet"], stdin: try String(contentsOfFile: dir + "/val.jsonl", encoding: .utf8))
        XCTAssertEqual(pred.status, 0, pred.stderr)
        let rows = pred.stdout.split(separator: "\n").map { try! JSONValue(parsing: Array($0.utf8)) }
        XCTAssertEqual(rows.count, 6)
        for r in rows {
            XCTAssertTrue(fx.classes.contains(r["prediction"]?.stringValue ?? ""))
            XCTAssertEqual(r["concepts"]?.arrayValue?.count, 3)
        }
        let eval = try runTool("labo", ["eval", "--model", dir + "/m", "--data", dir + "/val.jsonl", "--quiet"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        // The kept model is the best validation epoch of the log; the training loss went down.
        let log = try String(contentsOfFile: dir + "/m/log.jsonl", encoding: .utf8).split(separator: "\n").map { try JSONValue(parsing: Array($0.utf8)) }
        let scored = log.compactMap { e -> Double? in try? e["val_accuracy"]?.numberValue?.double() }
        XCTAssertEqual(try JSONValue(parsing: Array(eval.stdout.utf8))["accuracy"]?.numberValue.flatMap { try? $0.double() }, scored.max())
        let losses = log.compactMap { e -> Double? in try? e["loss"]?.numberValue?.double() }
        XCTAssertLessThan(losses.last!, losses.first!)
        let explain = try runTool("labo", ["explain", "--model", dir + "/m", "--top", "2", "--png", dir + "/w.png"])
        XCTAssertEqual(explain.stdout.split(separator: "\n").count, 4)
        let png = try Image(contentsOf: dir + "/w.png")
        XCTAssertGreaterThan(png.width, 8 * 14)  // 4 classes × 2 concepts as columns

        // Long enough (about 1 s) to be killed between checkpoints.
        let long = args.map { $0 == "400" ? "8000" : $0 } + ["--checkpoint-every", "500"]
        let started = Date()
        let whole = try runTool("labo", long + ["--out", dir + "/a"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let (kills, last) = try runKilledAndResumed("labo", long + ["--out", dir + "/r", "--resume"],
                                                    delays: killDelays(forRunOf: Date().timeIntervalSince(started)), times: 3)
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertGreaterThanOrEqual(kills, 1, "no run was killed")
        let a = try SafeTensorsFile(path: dir + "/a/labo.safetensors"), b = try SafeTensorsFile(path: dir + "/r/labo.safetensors")
        XCTAssertEqual(try a.tensor("asso_mat").scalars, try b.tensor("asso_mat").scalars, "after \(kills) kills")
        XCTAssertEqual(try String(contentsOfFile: dir + "/a/log.jsonl", encoding: .utf8), try String(contentsOfFile: dir + "/r/log.jsonl", encoding: .utf8))
    }

    func testChainedAfterEmbedWithCLIP() throws {
        let dir = try temporaryDirectory("labo-clip")
        let clip = Repo.path("data/fixtures/clip/tiny")
        let bank: [String: [String]] = ["warm": ["w5 w6", "w7 w8 w9", "w10"], "cool": ["w20 w21", "w22", "w23 w24 w25"]]
        try JSONSerialization.data(withJSONObject: bank).write(to: URL(fileURLWithPath: dir + "/bank.json"))
        let texts = bank.values.flatMap { $0 }.map { "{\"text\": \"\($0)\"}" }.joined(separator: "\n") + "\n"
        let ce = try runTool("embed", ["--model", clip, "--quiet"], stdin: texts)
        XCTAssertEqual(ce.status, 0, ce.stderr)
        try ce.stdout.write(toFile: dir + "/concepts.jsonl", atomically: true, encoding: .utf8)
        let images = [("photo.png", "warm"), ("rgb.png", "warm"), ("gray.png", "cool"), ("rgba.png", "cool")]
            .map { "{\"image\": \"\(Repo.path("data/images/" + $0.0))\", \"label\": \"\($0.1)\"}" }.joined(separator: "\n") + "\n"
        let ie = try runTool("embed", ["--model", clip, "--quiet"], stdin: images)
        XCTAssertEqual(ie.status, 0, ie.stderr)
        try ie.stdout.write(toFile: dir + "/train.jsonl", atomically: true, encoding: .utf8)
        // Random towers give dot products of either sign: the MI score needs the exp transform.
        let raw = try runTool("labo", ["select", "--concepts", dir + "/bank.json", "--concept-embeddings", dir + "/concepts.jsonl", "--data", dir + "/train.jsonl", "--per-class", "2"])
        let sel = try runTool("labo", ["select", "--concepts", dir + "/bank.json", "--concept-embeddings", dir + "/concepts.jsonl", "--data", dir + "/train.jsonl",
                                       "--per-class", "2", "--score-transform", "exp", "--temperature", "10", "--quiet"])
        XCTAssertEqual(sel.status, 0, sel.stderr)
        if raw.status != 0 { XCTAssertTrue(raw.stderr.contains("score-transform"), raw.stderr) }
        try sel.stdout.write(toFile: dir + "/selected.json", atomically: true, encoding: .utf8)
        let train = try runTool("labo", ["train", "--selected", dir + "/selected.json", "--concept-embeddings", dir + "/concepts.jsonl",
                                         "--data", dir + "/train.jsonl", "--epochs", "5", "--feature-norm", "--out", dir + "/m", "--quiet"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let pred = try runTool("labo", ["predict", "--model", dir + "/m", "--quiet"], stdin: ie.stdout)
        XCTAssertEqual(pred.stdout.split(separator: "\n").count, 4, pred.stderr)
    }
}
