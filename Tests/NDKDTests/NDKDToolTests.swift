// nd-kd as a user runs it (tier 3) on the committed Fashion-MNIST subset (data/fashion-mnist: 600
// training and 200 test images): teacher → student (KD++ with a projector) → images | predict → eval;
// a killed run resumes to the weights of one never stopped; clean errors and error records.
import Foundation
import XCTest
import ToolTestSupport
@testable import NDKDCore
@testable import Runtime

final class NDKDToolTests: XCTestCase {
    let fmnist = Repo.path("data/fashion-mnist")
    func lines(_ r: ToolResult) throws -> [JSONValue] { try r.lines.map { try JSONValue(parsing: Array($0.utf8)) } }

    func teacher(_ dir: String, extra: [String] = []) throws -> ToolResult {
        try runTool("nd-kd", ["teacher", "--data", fmnist, "--test", fmnist, "--class-names", "fashion-mnist", "--epochs", "4",
                              "--lr", "0.05", "--milestones", "3", "--padding", "2", "--train-batch", "64", "--out", dir, "--quiet", "--threads", "1"] + extra)
    }

    func testTeacherStudentPredictEval() throws {
        let dir = try temporaryDirectory("ndkd")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try teacher(dir + "/t")
        XCTAssertEqual(t.status, 0, t.stderr)
        for f in ["nd_kd.json", "model.safetensors", "class_means.json", "log.jsonl", "test.json", "checkpoint.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/t/" + f), f)
        }
        let teacherModel = try NDModelFiles.load(dir + "/t")
        XCTAssertEqual(teacherModel.config.classNames, fashionMNISTClasses)
        XCTAssertEqual(teacherModel.classMeans?.shape, [10, 128])
        // The class means are the kept teacher's mean embeddings of the (un-augmented) training part.
        let test = try JSONValue(parsing: try String(contentsOfFile: dir + "/t/test.json", encoding: .utf8))
        XCTAssertEqual(try test["count"]?.numberValue?.int(), 200)
        XCTAssertGreaterThan(try XCTUnwrap(test["top1"]?.numberValue?.double()), 0.4, "four short epochs on 540 images beat chance (0.1) well")

        let s = try runTool("nd-kd", ["train", "--teacher", dir + "/t", "--loss", "kd++", "--data", fmnist, "--test", fmnist, "--epochs", "2",
                                      "--lr", "0.05", "--milestones", "", "--padding", "0", "--warm-up", "1", "--train-batch", "64",
                                      "--out", dir + "/s", "--quiet", "--threads", "1"])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/s/projector.safetensors"), "64 → 128: ND goes through a projector")
        let log = try String(contentsOfFile: dir + "/s/log.jsonl", encoding: .utf8).split(separator: "\n").map { try JSONValue(parsing: String($0)) }
        XCTAssertTrue(log.contains { ($0["nd"]?.numberValue).map { (try? $0.double()) ?? 0 } ?? 0 > 0 }, "ND is in the loss")
        XCTAssertTrue(log.contains { $0["val_cos"] != nil && $0["val_norm_ratio"] != nil }, "validation reports the feature statistics")

        let images = try runTool("nd-kd", ["images", "--data", fmnist, "--split", "test", "--limit", "3", "--class-names", "fashion-mnist"])
        XCTAssertEqual(images.status, 0, images.stderr)
        let p = try runTool("nd-kd", ["predict", "--model", dir + "/s", "--quiet", "--on-error", "pass"],
                            stdin: images.stdout + "{\"pixels\": [1, 2, 3]}\n{\"image\": \"/nonexistent.png\"}\n")
        XCTAssertEqual(p.status, 0, p.stderr)
        let out = try lines(p)
        XCTAssertEqual(out.count, 5)
        for r in out.prefix(3) {
            let probs = try XCTUnwrap(r["probs"]?.objectValue).members.map { try $0.value.numberValue!.double() }
            XCTAssertEqual(probs.count, 10)
            XCTAssertEqual(probs.reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertTrue(fashionMNISTClasses.contains(try XCTUnwrap(r["prediction"]?.stringValue)))
            XCTAssertNotNil(r["pixels"], "fields pass through")
        }
        XCTAssertNotNil(out[3]["error"])
        XCTAssertNotNil(out[4]["error"])
        // A record's prediction does not depend on its batch.
        let one = try runTool("nd-kd", ["predict", "--model", dir + "/s", "--quiet", "--batch", "1"], stdin: images.stdout)
        XCTAssertEqual(try lines(one).map { $0["probs"] }, out.prefix(3).map { $0["probs"] })

        let e = try runTool("nd-kd", ["eval", "--model", dir + "/s", "--teacher", dir + "/t", "--data", fmnist, "--split", "test", "--quiet"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let report = try JSONValue(parsing: e.stdout)
        XCTAssertEqual(try report["count"]?.numberValue?.int(), 200)
        XCTAssertNotNil(report["norm_ratio"])
        XCTAssertNotNil(report["cos_class_direction"])
        // A teacher of another input or class count is refused before any kernel runs.
        let other = try runTool("nd-kd", ["teacher", "--data", fmnist, "--arch", "cnn:4,M,8", "--epochs", "1", "--class-names", "a,b,c,d,e,f,g,h,i,j,k",
                                          "--train-batch", "64", "--val-split", "0", "--out", dir + "/t11", "--quiet", "--threads", "1"])
        XCTAssertEqual(other.status, 0, other.stderr)
        let mismatch = try runTool("nd-kd", ["eval", "--model", dir + "/s", "--teacher", dir + "/t11", "--data", fmnist, "--quiet"])
        XCTAssertEqual(mismatch.status, 2, mismatch.stderr)
        // eval reads JSONL records too: the same images give the same top-1.
        let all = try runTool("nd-kd", ["images", "--data", fmnist, "--split", "test"])
        let e2 = try runTool("nd-kd", ["eval", "--model", dir + "/s", "--quiet"], stdin: all.stdout)
        XCTAssertEqual(try JSONValue(parsing: e2.stdout)["top1"], report["top1"], e2.stderr)
    }

    func testKilledTeacherResumesToTheSameWeights() throws {
        let dir = try temporaryDirectory("ndkd-resume")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["teacher", "--data", fmnist, "--arch", "cnn:8,M,16", "--epochs", "3", "--lr", "0.05", "--milestones", "2", "--padding", "2",
                    "--train-batch", "32", "--checkpoint-every", "3", "--quiet", "--threads", "1"]
        XCTAssertEqual(try runTool("nd-kd", args + ["--out", dir + "/a"]).status, 0)
        let (kills, last) = try runKilledAndResumed("nd-kd", args + ["--out", dir + "/b", "--resume"], delays: 200_000...1_200_000, times: 3)
        XCTAssertEqual(last.status, 0, last.stderr)
        let a = try SafeTensorsFile(path: dir + "/a/model.safetensors"), b = try SafeTensorsFile(path: dir + "/b/model.safetensors")
        XCTAssertEqual(a.names.sorted(), b.names.sorted())
        for n in a.names { XCTAssertEqual(try a.tensor(n).scalars, try b.tensor(n).scalars, "\(n) after \(kills) kills") }
        XCTAssertEqual(try String(contentsOfFile: dir + "/a/log.jsonl", encoding: .utf8), try String(contentsOfFile: dir + "/b/log.jsonl", encoding: .utf8))
        XCTAssertEqual(try String(contentsOfFile: dir + "/a/class_means.json", encoding: .utf8), try String(contentsOfFile: dir + "/b/class_means.json", encoding: .utf8))
    }

    /// Training gives the same bits on one thread and on two (conv chunks and their dW sums depend on the
    /// shapes only).
    func testTrainingIsIndependentOfTheThreadCount() throws {
        let dir = try temporaryDirectory("ndkd-threads")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["teacher", "--data", fmnist, "--arch", "cnn:8,M,16", "--epochs", "1", "--lr", "0.05", "--padding", "2",
                    "--train-batch", "64", "--val-split", "0", "--quiet"]
        XCTAssertEqual(try runTool("nd-kd", args + ["--out", dir + "/one", "--threads", "1"]).status, 0)
        XCTAssertEqual(try runTool("nd-kd", args + ["--out", dir + "/two", "--threads", "2"]).status, 0)
        let a = try SafeTensorsFile(path: dir + "/one/model.safetensors"), b = try SafeTensorsFile(path: dir + "/two/model.safetensors")
        for n in a.names { XCTAssertEqual(try a.tensor(n).scalars, try b.tensor(n).scalars, n) }
    }

    func testClearErrors() throws {
        let r = try runTool("nd-kd", ["teacher", "--data", "/nonexistent", "--out", "/tmp/x-ndkd-never"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("nonexistent"), r.stderr)
        XCTAssertEqual(try runTool("nd-kd", ["predict", "--model", "/nonexistent-model"]).status, 2)
        let arch = try runTool("nd-kd", ["teacher", "--data", fmnist, "--arch", "vgg", "--out", "/tmp/x-ndkd-never"])
        XCTAssertEqual(arch.status, 2)
        XCTAssertTrue(arch.stderr.contains("presets"), arch.stderr)
        XCTAssertEqual(try runTool("nd-kd", ["train", "--teacher", "/x", "--data", fmnist, "-T", "0", "--out", "/tmp/x-ndkd-never"]).status, 64)
        XCTAssertEqual(try runTool("nd-kd", ["teacher", "--data", fmnist, "--val-split", "1", "--out", "/tmp/x-ndkd-never"]).status, 64)
        let dir = try temporaryDirectory("ndkd-err")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A class name with no --class-names to look it up in (indices of any size are classes).
        try "{\"pixels\": [1, 2], \"shape\": [1, 1, 2], \"label\": 0}\n{\"pixels\": [1, 2], \"shape\": [1, 1, 2], \"label\": \"cat\"}\n"
            .write(toFile: dir + "/bad.jsonl", atomically: true, encoding: .utf8)
        let bad = try runTool("nd-kd", ["teacher", "--data", dir + "/bad.jsonl", "--out", dir + "/m", "--quiet"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("bad.jsonl:2") && bad.stderr.contains("--class-names"), bad.stderr)
        // Images too small for the architecture's poolings are an error before any kernel sees them.
        try "{\"pixels\": [1, 2], \"shape\": [1, 1, 2], \"label\": 0}\n{\"pixels\": [3, 4], \"shape\": [1, 1, 2], \"label\": 1}\n"
            .write(toFile: dir + "/tiny.jsonl", atomically: true, encoding: .utf8)
        let tiny = try runTool("nd-kd", ["teacher", "--data", dir + "/tiny.jsonl", "--val-split", "0", "--out", dir + "/t", "--quiet"])
        XCTAssertEqual(tiny.status, 2, tiny.stderr)
        XCTAssertTrue(tiny.stderr.contains("too small"), tiny.stderr)
    }
}
