// Tier 3: the `loki` binary on real JSONL: predict (tree metric, --top, score objects, logits),
// eval, zeroshot, fit/classify, select and synth end to end, and bad input: record errors with
// program:FILE:LINE, --rejects, exit 1; unloadable files exit 2 with the path and a hint; usage 64.
import Foundation
import XCTest
import ToolTestSupport
import Runtime

final class LokiToolTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try temporaryDirectory("loki-tool") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func file(_ name: String, _ text: String) -> String {
        let p = dir + "/" + name
        try! text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    /// The Fashion-MNIST tree of data/loki, observed: T-shirt/top, Trouser, Sandal, Bag.
    var tree: String { Repo.path("data/loki/fashion_tree.tsv") }
    func seen() -> String { file("seen.txt", "T-shirt/top\nTrouser\nSandal\nBag\n") }

    func testPredictAddsPredictionAndPassesFieldsThrough() throws {
        let input = [
            #"{"id":1.50,"probs":[0.9,0.05,0.03,0.02],"keep":{"x":[1]}}"#,
            #"{"id":2,"probs":[0.3,0.3,0.2,0.2]}"#,
            #"{"id":3,"scores":{"Sandal":5,"Bag":1},"probs_are_elsewhere":true}"#,
        ].joined(separator: "\n") + "\n"
        let r = try runTool("loki", ["predict", "--metric", tree, "--observed", seen(), "--top", "3", "--cache", dir + "/c.safetensors"], stdin: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines.count, 3)
        XCTAssertTrue(r.lines[0].hasPrefix(#"{"id":1.50,"probs":[0.9,0.05,0.03,0.02],"keep":{"x":[1]},"prediction":"T-shirt/top","top":[{"class":"T-shirt/top","#), r.lines[0])
        let second = try Record(parsing: r.lines[1])
        // Argmax says T-shirt/top; hedging over all four lands on Trouser, right under `clothing`, nearest to all.
        XCTAssertEqual(try second.string("prediction"), "Trouser")
        let top = second.value("top")!.arrayValue!
        XCTAssertEqual(top.count, 3)
        let scores = top.map { try! $0["expected_sq_distance"]!.numberValue!.double() }
        XCTAssertEqual(scores, scores.sorted())
        XCTAssertEqual(try Record(parsing: r.lines[2]).string("prediction"), "Sandal")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/c.safetensors"), "--cache")
        // Logits with --softmax: [10, 0, 0, 0] / 1 is essentially one-hot.
        let l = try runTool("loki", ["predict", "--metric", tree, "--observed", seen(), "--softmax", "1", "--no-cache"],
                            stdin: #"{"probs":[0,0,10,-3]}"# + "\n")
        XCTAssertEqual(try Record(parsing: l.lines[0]).string("prediction"), "Sandal", l.stderr)
    }

    func testBadRecordsContinueAndExitOne() throws {
        let input = [#"{"probs":[1,0,0,0]}"#, "not json", #"{"probs":[1,0]}"#, #"{"probs":[1,-1,0,0]}"#, #"{"nothing":1}"#,
                     #"{"scores":{"Dress":1}}"#, #"{"probs":[0,0,0,1]}"#].joined(separator: "\n") + "\n"
        let r = try runTool("loki", ["predict", "--metric", tree, "--observed", seen(), "--no-cache", "--rejects", dir + "/rej.jsonl"], stdin: input)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.lines.count, 2)
        XCTAssertEqual(try Record(parsing: r.lines[1]).string("prediction"), "Bag")
        for line in 2...6 { XCTAssertTrue(r.stderr.contains("loki:<stdin>:\(line): "), r.stderr) }
        XCTAssertTrue(r.stderr.contains("2 probabilities for 4 observed classes"), r.stderr)
        XCTAssertTrue(r.stderr.contains("'Dress' is not an observed class"), r.stderr)
        XCTAssertEqual(try String(contentsOfFile: dir + "/rej.jsonl", encoding: .utf8).split(separator: "\n").count, 5)
    }

    func testLoadAndUsageErrors() throws {
        let missing = try runTool("loki", ["predict", "--metric", dir + "/none.tsv"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("loki: cannot load \(dir)/none.tsv") && missing.stderr.contains("hint:"), missing.stderr)
        let badObserved = try runTool("loki", ["predict", "--metric", tree, "--observed", file("o.txt", "Jacket\n"), "--no-cache"])
        XCTAssertEqual(badObserved.status, 2)
        XCTAssertTrue(badObserved.stderr.contains("'Jacket' is not a class of the metric"), badObserved.stderr)
        let badTree = try runTool("loki", ["predict", "--metric", file("bad.tsv", "a\tb\tc\td\n")])
        XCTAssertEqual(badTree.status, 2)
        XCTAssertTrue(badTree.stderr.contains("bad.tsv: line 1"), badTree.stderr)
        XCTAssertEqual(try runTool("loki", ["predict"]).status, 64)
        XCTAssertEqual(try runTool("loki", ["predict", "--metric", tree, "--softmax", "0"]).status, 64)
        XCTAssertEqual(try runTool("loki", ["select", "--metric", tree]).status, 64, "select needs --observed")
        XCTAssertEqual(try runTool("loki", ["nonsense"]).status, 64)
        let cyclic = try runTool("loki", ["select", "--metric", file("cyc.tsv", "a\tb\nb\tc\nc\ta\n"), "--class-nodes", "all",
                                          "--observed", file("s.txt", "a\n")])
        XCTAssertEqual(cyclic.status, 2)
        XCTAssertTrue(cyclic.stderr.contains("not a tree"), cyclic.stderr)
    }

    func testEvalReportsArgmaxAndLoki() throws {
        // Grid metric on a line of 5 classes; observed the two ends. A record halfway is the middle.
        let metric = file("line.jsonl", (0..<5).map { #"{"class":"p\#($0)","embedding":[\#($0)]}"# }.joined(separator: "\n") + "\n")
        let observed = file("ends.txt", "p0\np4\n")
        let input = [#"{"probs":[0.5,0.5],"label":"p2"}"#, #"{"probs":[0.9,0.1],"label":"p0"}"#, #"{"probs":[0.8,0.2],"label":"p1"}"#,
                     #"{"probs":[0.5,0.5]}"#].joined(separator: "\n") + "\n"
        let r = try runTool("loki", ["eval", "--metric", metric, "--observed", observed], stdin: input)
        XCTAssertEqual(r.status, 1, "the record without a label fails")
        XCTAssertTrue(r.stderr.contains("loki:<stdin>:4: missing field 'label'"), r.stderr)
        let report = try JSONValue(parsing: r.lines[0])
        XCTAssertEqual(report["records"], 3)
        // argmax: p0, p0, p0 → d² 4, 0, 1; Loki: p2 (Σ½·4 = 4... the mean 2), p0 (0.4 → 0), p1 (0.8 → 1) → 0, 0, 0.
        XCTAssertEqual(try report["all"]!["argmax"]!["mean_sq_distance"]!.numberValue!.double(), 5.0 / 3, accuracy: 1e-5)
        XCTAssertEqual(try report["all"]!["loki"]!["mean_sq_distance"]!.numberValue!.double(), 0, accuracy: 1e-9)
        XCTAssertEqual(try report["unobserved"]?["loki"]?["accuracy"]?.numberValue?.double(), 1)
        XCTAssertEqual(report["loki_unobserved_predictions"], 2)
        // predict | eval --prediction-field gives the same numbers; --table prints Markdown.
        let predicted = try runTool("loki", ["predict", "--metric", metric, "--observed", observed], stdin: input)
        let t = try runTool("loki", ["eval", "--metric", metric, "--observed", observed, "--prediction-field", "prediction", "--table"],
                            stdin: predicted.lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(t.status, 1)
        XCTAssertTrue(t.stdout.contains("| all | 3 | 0.333 | 1.000 | 1.667 | 0.000 | 100.0% |"), t.stdout)
    }

    func testReferencePubmedScoresArgmaxByPosition() throws {
        // --observed in "frequency" order p4, p0: the argmax position 0 is p4 here, and class index 0
        // (p0) in pubmed/exp.py's scoring of its baseline.
        let metric = file("line.jsonl", (0..<5).map { #"{"class":"p\#($0)","embedding":[\#($0)]}"# }.joined(separator: "\n") + "\n")
        let observed = file("freq.txt", "p4\np0\n")
        let input = #"{"probs":[0.9,0.1],"label":"p0"}"# + "\n"
        let ours = try JSONValue(parsing: try runTool("loki", ["eval", "--metric", metric, "--observed", observed], stdin: input).lines[0])
        let ref = try JSONValue(parsing: try runTool("loki", ["eval", "--metric", metric, "--observed", observed, "--reference-pubmed"],
                                                     stdin: input).lines[0])
        XCTAssertEqual(try ours["all"]!["argmax"]!["mean_sq_distance"]!.numberValue!.double(), 16)
        XCTAssertEqual(try ref["all"]!["argmax"]!["mean_sq_distance"]!.numberValue!.double(), 0)
        XCTAssertEqual(ours["all"]!["loki"], ref["all"]!["loki"], "Loki pairs probs with --observed either way")
    }

    func testZeroShotFitClassifySelectSynth() throws {
        // zeroshot: the record closest in angle to a class gets most of its probability.
        let classes = file("cls.jsonl", #"{"text":"north","embedding":[0,1]}"# + "\n" + #"{"text":"east","embedding":[1,0]}"# + "\n")
        let z = try runTool("loki", ["zeroshot", "--class-embeddings", classes], stdin: #"{"embedding":[0.9,0.1]}"# + "\n" + #"{"embedding":[1]}"# + "\n")
        XCTAssertEqual(z.status, 1)
        let p = try Record(parsing: z.lines[0]).floats("probs")
        XCTAssertEqual(p.count, 2)
        XCTAssertGreaterThan(p[1], 0.99)
        XCTAssertTrue(z.stderr.contains("1 numbers, the class embeddings have 2"), z.stderr)
        // --as-scores: an object that carries its own order, so predict needs no --observed.
        let zs = try runTool("loki", ["zeroshot", "--class-embeddings", classes, "--as-scores", "--temperature", "1"],
                             stdin: #"{"embedding":[0,2]}"# + "\n")
        let scores = try Record(parsing: zs.lines[0]).value("scores")!.objectValue!
        XCTAssertEqual(scores.keys, ["north", "east"])
        let pz = try runTool("loki", ["predict", "--metric", classes], stdin: zs.stdout)
        XCTAssertEqual(try Record(parsing: pz.lines[0]).string("prediction"), "north", pz.stderr)

        // synth grid → fit on observed classes → classify → eval: the whole grid pipeline, small.
        let data = try runTool("loki", ["synth", "grid", "--per-class", "200", "--seed", "1", "--metric-out", dir + "/grid.jsonl",
                                        "--observed-out", dir + "/seen.txt"])
        XCTAssertEqual(data.lines.count, 20_000)
        let fit = try runTool("loki", ["fit", "--observed", dir + "/seen.txt", "--epochs", "50", "--lr", "0.01", "--out", dir + "/model",
                                       "--log", dir + "/log.jsonl", "--quiet"], stdin: data.stdout)
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertEqual(try String(contentsOfFile: dir + "/model/observed.txt", encoding: .utf8), "r1c1\nr1c4\nr1c7\nr4c1\nr4c4\nr4c7\nr7c1\nr7c4\nr7c7\n")
        XCTAssertEqual(try String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8).split(separator: "\n").count, 50)
        let test = try runTool("loki", ["synth", "grid", "--per-class", "10", "--seed", "2"])
        let probs = try runTool("loki", ["classify", "--model", dir + "/model"], stdin: test.stdout)
        XCTAssertEqual(probs.status, 0, probs.stderr)
        let eval = try runTool("loki", ["eval", "--metric", dir + "/grid.jsonl", "--observed", dir + "/model/observed.txt"], stdin: probs.stdout)
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let all = try JSONValue(parsing: eval.lines[0])["all"]!
        XCTAssertGreaterThan(try all["relative_improvement"]!.numberValue!.double(), 0.2)
        XCTAssertEqual(try runTool("loki", ["classify", "--model", dir + "/none"]).status, 2)

        // synth tree + select: active picks until the locus covers the tree.
        let edges = try runTool("loki", ["synth", "tree", "--nodes", "12", "--seed", "4", "--pick", "2", "--pick-out", dir + "/start.txt"])
        XCTAssertEqual(edges.lines.count, 11)
        try edges.stdout.write(toFile: dir + "/tree.tsv", atomically: true, encoding: .utf8)
        let s = try runTool("loki", ["select", "--metric", dir + "/tree.tsv", "--class-nodes", "all", "--observed", dir + "/start.txt"])
        XCTAssertEqual(s.status, 0, s.stderr)
        let last = try Record(parsing: s.lines.last!)
        XCTAssertEqual(try last.int("locus_classes"), 12)
        let limited = try runTool("loki", ["select", "--metric", dir + "/tree.tsv", "--class-nodes", "all", "--observed", dir + "/start.txt",
                                           "--count", "1", "--strategy", "random", "--seed", "3"])
        XCTAssertEqual(limited.lines.count, 1)
    }

    /// loki fit killed five times and resumed (the same records piped in again): the weights of a run
    /// never interrupted.
    func testFitResumesAfterKillsToTheSameWeights() throws {
        let dir = try temporaryDirectory("loki-kill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = try runTool("loki", ["synth", "grid", "--per-class", "1000", "--seed", "1", "--observed-out", dir + "/seen.txt"])
        try data.stdout.write(toFile: dir + "/train.jsonl", atomically: true, encoding: .utf8)
        let args = ["fit", "--observed", dir + "/seen.txt", "--epochs", "400", "--lr", "0.01", "--hidden", "64",
                    "--checkpoint-every", "9", "--threads", "1", "--quiet", dir + "/train.jsonl"]
        let whole = try runTool("loki", args + ["--out", dir + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let (kills, last) = try runKilledAndResumed("loki", args + ["--out", dir + "/killed", "--resume"], delays: 50_000...600_000)
        XCTAssertEqual(last.status, 0, last.stderr)
        print("LokiToolTests: \(kills) of 5 fit runs killed before they finished")
        XCTAssertGreaterThan(kills, 0, "no run was killed: the kill test tested nothing")
        for f in ["model.safetensors", "log.jsonl", "observed.txt", "config.json"] {
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/whole/" + f), FileManager.default.contents(atPath: dir + "/killed/" + f), f)
        }
        XCTAssertEqual(try runTool("loki", args + ["--out", dir + "/whole"]).status, 2)
    }
}
