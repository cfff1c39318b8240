// prokd as a user runs it (tier 3): teacher (with and without prototype alignment) → student (with and
// without self-training) → predict → eval, on a tiny random BERT for the plumbing and on
// multilingual-e5-small for learning; target tags never read; a killed student run resumes to the
// weights of one never interrupted; usage and load errors.
import Foundation
import XCTest
import ToolTestSupport
@testable import ProKDCore
@testable import Runtime

final class ProKDToolTests: XCTestCase {
    static let tiny = Repo.path("data/fixtures/gliclass/encoder-bert")
    static let english = Repo.path("data/prokd/eng.train.200")
    static let spanish = Repo.path("data/prokd/esp.train.100")
    static let spanishTest = Repo.path("data/prokd/esp.testb.100")

    func json(_ path: String) throws -> JSONValue { try JSONValue(parsing: [UInt8](FileManager.default.contents(atPath: path)!)) }
    func logLines(_ dir: String) throws -> [JSONValue] {
        try splitLines(String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8)).filter { !$0.isEmpty }.map { try JSONValue(parsing: Array($0.utf8)) }
    }

    /// Spanish sentences as JSON Lines whose "tags" could not be read as tags (a number): any reading of
    /// target tags fails on them.
    func unreadableTagsTarget(_ dir: String, count: Int) throws -> String {
        let s = try readTaggedSentences(path: Self.spanish).prefix(count)
        let lines = try s.map { sentence -> String in
            var r = Record()
            r.set("tokens", strings: sentence.words)
            r.set("tags", int: 5)
            return r.jsonText
        }
        let path = dir + "/target.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try readTaggedSentences(path: path), "reading these tags must fail")
        return path
    }

    func testTeacherStudentPredictEvalOnATinyEncoder() throws {
        let dir = try temporaryDirectory("prokd-tiny")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = try unreadableTagsTarget(dir, count: 24)
        let small = ["--epochs", "2", "--train-batch", "8", "--lr", "1e-3", "--freeze-bottom", "0", "--max-length", "64", "--quiet", "--threads", "1"]
        // Alignment from the first step, every target word taking part (a random model is never confident).
        let t = try runTool("prokd", ["teacher", "--model", Self.tiny, "--source", Self.english, "--max-source", "24", "--target", target,
                                      "--cpa", "--cpa-warmup-epochs", "0", "--cpa-threshold", "0", "--out", dir + "/t"] + small)
        XCTAssertEqual(t.status, 0, t.stderr)
        let cfg = try json(dir + "/t/prokd.json")
        XCTAssertEqual(cfg["role"]?.stringValue, "teacher")
        XCTAssertEqual(cfg["tags"]?.arrayValue?.first?.stringValue, "O")
        let tlog = try logLines(dir + "/t")
        XCTAssertEqual(tlog.count, 6)
        XCTAssertTrue(tlog.allSatisfy { $0["cpa"] != nil }, "every step has an alignment loss: \(tlog.map(\.jsonText))")
        // The student, self-training from its first epoch on every word.
        let s = try runTool("prokd", ["student", "--teacher", dir + "/t", "--target", target, "--pst", "--pst-from-epoch", "1",
                                      "--pst-threshold", "0", "--out", dir + "/s"] + small.filter { $0 != "--freeze-bottom" && $0 != "0" })
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertEqual(try json(dir + "/s/prokd.json")["role"]?.stringValue, "student")
        let slog = try logLines(dir + "/s")
        XCTAssertEqual(slog.count, 6)
        XCTAssertTrue(slog.allSatisfy { $0["kd"] != nil && $0["pst"] != nil && $0["pst_words"] != nil }, "\(slog.map(\.jsonText))")
        // Predict: a list of words, a string, and a bad record.
        let p = try runTool("prokd", ["predict", "--model", dir + "/s", "--quiet", "--on-error", "pass"],
                            stdin: "{\"tokens\": [\"El\", \"Real\", \"Madrid\", \"ganó\"]}\n{\"tokens\": \"Juan vive en Sevilla\"}\n{\"tokens\": []}\n")
        XCTAssertEqual(p.status, 0, p.stderr)
        let out = try p.lines.map { try JSONValue(parsing: Array($0.utf8)) }
        XCTAssertEqual(out.count, 3)
        XCTAssertEqual(out[0]["tags"]?.arrayValue?.count, 4)
        XCTAssertNotNil(out[0]["entities"]?.arrayValue)
        XCTAssertEqual(out[1]["tags"]?.arrayValue?.count, 4)
        XCTAssertNotNil(out[2]["error"])
        // predict --conll and eval agree: eval's F1 is that of predict's tags against the gold ones
        // (plumbing; the scorer itself is checked against seqeval in LSLlamaTests.EntityMetricsTests).
        let c = try runTool("prokd", ["predict", "--model", dir + "/s", "--conll", Self.spanishTest, "--quiet"])
        XCTAssertEqual(c.status, 0, c.stderr)
        XCTAssertEqual(c.lines.count, 100)
        let e = try runTool("prokd", ["eval", "--model", dir + "/s", "--data", Self.spanishTest, "--quiet"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let scores = try JSONValue(parsing: Array(e.stdout.utf8))
        let recs = try c.lines.map { try JSONValue(parsing: Array($0.utf8)) }
        let gold = recs.map { $0["gold"]!.arrayValue!.compactMap(\.stringValue) }, pred = recs.map { $0["tags"]!.arrayValue!.compactMap(\.stringValue) }
        XCTAssertEqual(try scores["f1"]!.numberValue!.double(), EntityScores.score(gold: gold, predicted: pred).f1, accuracy: 1e-12)
        XCTAssertEqual(try scores["sentences"]?.numberValue?.int(), 100)
    }

    func testResumedStudentEqualsOneNeverInterrupted() throws {
        let dir = try temporaryDirectory("prokd-resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = try unreadableTagsTarget(dir, count: 32)
        let t = try runTool("prokd", ["teacher", "--model", Self.tiny, "--source", Self.english, "--max-source", "16", "--epochs", "1",
                                      "--freeze-bottom", "0", "--quiet", "--threads", "1", "--out", dir + "/t"])
        XCTAssertEqual(t.status, 0, t.stderr)
        let args = ["student", "--teacher", dir + "/t", "--target", target, "--pst", "--pst-from-epoch", "2", "--pst-threshold", "0",
                    "--epochs", "3", "--train-batch", "4", "--quiet", "--threads", "1", "--checkpoint-every", "3"]
        try assertResumedRunEqualsWhole(args, dir)
    }

    func testResumedCPATeacherEqualsOneNeverInterrupted() throws {
        let dir = try temporaryDirectory("prokd-resume-cpa")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = try unreadableTagsTarget(dir, count: 20)
        let args = ["teacher", "--model", Self.tiny, "--source", Self.english, "--max-source", "24", "--target", target, "--cpa",
                    "--cpa-warmup-epochs", "1", "--cpa-threshold", "0", "--epochs", "3", "--train-batch", "4", "--freeze-bottom", "0",
                    "--quiet", "--threads", "1", "--checkpoint-every", "4"]
        try assertResumedRunEqualsWhole(args, dir) {
            let log = try self.logLines(dir + "/whole")
            XCTAssertEqual(log.count, 18)
            XCTAssertTrue(log.prefix(6).allSatisfy { $0["cpa_classes"] == nil } && log.dropFirst(6).allSatisfy { $0["cpa_classes"] != nil },
                          "no alignment in the warm-up epoch, alignment after")
        }
    }

    /// `prokd args` run whole into dir/whole (then `checkWhole`), then killed at delays scaled to that
    /// run and resumed into dir/resumed: some run must die, and the resumed weights and log must equal
    /// the whole run's byte for byte.
    func assertResumedRunEqualsWhole(_ args: [String], _ dir: String, checkWhole: () throws -> Void = {}) throws {
        let start = Date()
        let whole = try runTool("prokd", args + ["--out", dir + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let seconds = Date().timeIntervalSince(start)
        try checkWhole()
        let (kills, last) = try runKilledAndResumed("prokd", args + ["--out", dir + "/resumed", "--resume"], delays: killDelays(forRunOf: seconds))
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertGreaterThan(kills, 0, "no run was killed")
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/resumed/model.safetensors"), FileManager.default.contents(atPath: dir + "/whole/model.safetensors"))
        XCTAssertEqual(try String(contentsOfFile: dir + "/resumed/log.jsonl", encoding: .utf8), try String(contentsOfFile: dir + "/whole/log.jsonl", encoding: .utf8))
    }

    func testErrors() throws {
        let dir = try temporaryDirectory("prokd-errors")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let noTarget = try runTool("prokd", ["teacher", "--model", Self.tiny, "--source", Self.english, "--cpa", "--out", dir + "/x"])
        XCTAssertEqual(noTarget.status, 64)
        XCTAssertTrue(noTarget.stderr.contains("--cpa needs --target"), noTarget.stderr)
        let idle = try runTool("prokd", ["teacher", "--model", Self.tiny, "--source", Self.english, "--target", Self.spanish, "--out", dir + "/x"])
        XCTAssertEqual(idle.status, 64, "--target without --cpa would be read for nothing")
        let never = try runTool("prokd", ["student", "--teacher", dir + "/x", "--target", Self.spanish, "--pst", "--epochs", "1", "--out", dir + "/x"])
        XCTAssertEqual(never.status, 64, "self-training from epoch 2 of 1")
        let noTeacher = try runTool("prokd", ["student", "--teacher", dir + "/none", "--target", Self.spanish, "--out", dir + "/y"])
        XCTAssertEqual(noTeacher.status, 2)
        XCTAssertTrue(noTeacher.stderr.contains("prokd teacher"), noTeacher.stderr)
        let missing = try runTool("prokd", ["teacher", "--model", Self.tiny, "--source", dir + "/nothing.conll", "--out", dir + "/z"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("nothing.conll"), missing.stderr)
        let frozen = try runTool("prokd", ["teacher", "--model", Self.tiny, "--source", Self.english, "--freeze-bottom", "2", "--out", dir + "/w"])
        XCTAssertEqual(frozen.status, 2)
        XCTAssertTrue(frozen.stderr.contains("leaves none"), frozen.stderr)
    }

    /// multilingual-e5-small learns English tags from 200 sentences (3 epochs; F1 0.35 on them when
    /// written, against 0 for a tagger that says O everywhere).
    func testE5TeacherLearns() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Repo.e5 + "/model.safetensors"), "make models installs multilingual-e5-small")
        let dir = try temporaryDirectory("prokd-e5")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try runTool("prokd", ["teacher", "--model", Repo.e5, "--source", Self.english, "--max-source", "200", "--epochs", "3",
                                      "--train-batch", "8", "--lr", "3e-4", "--quiet", "--threads", "1", "--out", dir + "/t"])
        XCTAssertEqual(t.status, 0, t.stderr)
        let e = try runTool("prokd", ["eval", "--model", dir + "/t", "--data", Self.english, "--quiet", "--threads", "1"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let f1 = try JSONValue(parsing: Array(e.stdout.utf8))["f1"]!.numberValue!.double()
        XCTAssertGreaterThan(f1, 0.2, "an untrained tagger scores 0 (every word O)")
    }
}
