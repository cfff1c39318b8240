// loki-bench: Loki's prediction at scale, beside the reference's numpy/torch one-liners, from one run.
//
//   loki-bench [--threads N] [--only predict|pipe]   (REFPYTHON=python with torch, numpy, scipy, networkx)
//
// The label space: a random hierarchy with N = 100,000 leaf classes under 10,000 inner nodes (a
// random tree); K = 1,000 observed leaves. We time the distance rows D² [K, N] (1,000 breadth-first
// searches, then the cache file written; and read back from the cache), predictions per second for
// batches of 256 probability vectors (one GEMM + row scan, FrechetPredictor) against numpy's
// np.argmin(np.dot(P, D2), axis=1) and torch's (-P @ D2).argmax(1) on the same numbers, peak memory;
// and (pipe) the `loki predict` binary end to end on JSONL records carrying 1,000 probabilities each.
import Foundation
import BenchSupport
import LokiCore
import Runtime

let (threads, only) = benchArguments(program: "loki-bench", sections: ["predict", "pipe"])
referenceBanner(threads, "loki-bench")
let n = 100_000, inner = 10_000, k = 1_000, batch = 256
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("loki-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: tmp) }

// The hierarchy: inner nodes "i<j>" as a random tree, leaves "c<j>" each under a random inner node.
let g = RandomGenerator(seed: 7, stream: 1)
var edges = randomTree(nodes: inner, generator: g).map { "i\($0.0)\ti\($0.1)" }
for c in 0..<n { edges.append("i\(g.nextInt(below: inner))\tc\(c)") }
try (edges.joined(separator: "\n") + "\n").write(toFile: tmp + "/tree.tsv", atomically: true, encoding: .utf8)
let observedLeaves = g.permutation(n).prefix(k).map { "c\($0)" }
try (observedLeaves.joined(separator: "\n") + "\n").write(toFile: tmp + "/observed.txt", atomically: true, encoding: .utf8)
var spec = MetricSpec(path: tmp + "/tree.tsv")
spec.classNodes = .leaves

print("\nlabel space: random hierarchy, N = \(n) leaf classes, \(inner) inner nodes; K = \(k) observed")
var distances: ObservedDistances!
let cold = try once { distances = try DistanceCache.load(spec: spec, observedPath: tmp + "/observed.txt") }
let warm = try once { distances = try DistanceCache.load(spec: spec, observedPath: tmp + "/observed.txt") }
precondition(distances.squared.shape == [k, n])

// Probabilities: peaked random vectors (a softmax of Gaussian logits ×3).
let probs = softmax(RandomGenerator(seed: 8, stream: 2).normal([batch, k], std: 3), axis: 1).scalars

// The binary first, in a child process, so its peak memory (RUSAGE_CHILDREN) is its own.
var binaryPeak: Double? = nil
if only == nil || only == "pipe" {
    let records = 2_000
    var lines = ""
    let p = softmax(RandomGenerator(seed: 9, stream: 3).normal([records, k], std: 3), axis: 1)
    for r in 0..<records {
        var rec = Record()
        rec.set("id", int: r)
        try rec.set("probs", floats: UnsafeBufferPointer(start: p.data + r * k, count: k))
        lines += rec.jsonText + "\n"
    }
    try lines.write(toFile: tmp + "/in.jsonl", atomically: true, encoding: .utf8)
    let loki = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/loki"
    let seconds = try once {
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: loki)
        proc.arguments = ["predict", "--metric", tmp + "/tree.tsv", "--observed", tmp + "/observed.txt", "--batch", String(batch),
                          "--threads", String(threads), "--quiet", tmp + "/in.jsonl"]
        proc.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try proc.run()
        proc.waitUntilExit()
        precondition(proc.terminationStatus == 0, "loki predict failed")
    }
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    binaryPeak = Double(usage.ru_maxrss) / 1024
    print("\n`loki predict --batch \(batch)` end to end, \(records) JSONL records × \(k) probabilities (\(lines.utf8.count / 1_000_000) MB), "
          + "cache warm: \(fmt(Double(records) / seconds)) records/s (\(fmt(seconds, 2)) s with start-up and cache mapping), "
          + "peak memory \(fmt(binaryPeak, 0)) MB")
}

if only == nil || only == "predict" {
    let predictor = FrechetPredictor(distances)
    var sample: [FrechetPredictor.Prediction] = []
    let ours = Double(batch) / timed(minTime: 3) { sample = predictor.predict(probs, rows: batch) }
    _ = FileManager.default.createFile(atPath: tmp + "/d2.f32", contents: Data(bytes: distances.squared.data, count: 4 * k * n))
    _ = FileManager.default.createFile(atPath: tmp + "/probs.f32", contents: probs.withUnsafeBytes { Data($0) })
    let ref = runReference("loki_bench.py", [String(threads), tmp + "/d2.f32", String(k), String(n), tmp + "/probs.f32", String(batch),
                                             tmp + "/tree.tsv", tmp + "/observed.txt"])
    if let theirs = ref?["numpy_prediction"] as? [Int] {
        // Sibling leaves tie exactly; a prediction agrees when it is numpy's class or scores the same.
        let agree = theirs.enumerated().filter { r, y in
            let score = (0..<k).reduce(0.0) { $0 + Double(probs[r * k + $1]) * Double(distances.squared.data[$1 * n + y]) }
            return sample[r].best == y || Swift.abs(score - Double(sample[r].bestScore)) <= 1e-4 * Swift.max(1, score)
        }.count
        print("first \(theirs.count) predictions: \(agree) the same as numpy's or tied with them")
    }
    print("\nprediction, batches of \(batch)".rightPad(40) + "ours".leftPad(10) + "reference".leftPad(12) + "ratio".leftPad(9))
    func row(_ name: String, _ a: Double?, _ b: Double?, _ digits: Int = 0, higherIsBetter: Bool = true) {
        print(name.rightPad(40) + fmt(a, digits).leftPad(10) + fmt(b, digits).leftPad(12)
              + (higherIsBetter ? ratio(a, b) : ratio(b, a)).leftPad(9))
    }
    row("predictions/s vs numpy argmin(P·D²)", ours, ref?["numpy_preds_s"] as? Double)
    row("predictions/s vs torch (-P@D²).argmax", ours, ref?["torch_preds_s"] as? Double)
    row("D² rows/s vs scipy csgraph BFS", Double(k) / cold, ref?["scipy_rows_s"] as? Double)
    row("D² rows/s vs networkx", Double(k) / cold, ref?["networkx_rows_s"] as? Double)
    row("peak memory MB, binary vs numpy", binaryPeak, ref?["peak_rss_mb_predict"] as? Double, higherIsBetter: false)
    print("D² [\(k), \(n)] = \(4 * k * n / 1_000_000) MB: built and cached in \(fmt(cold, 2)) s (parse + \(k) BFS + write), "
          + "read back from the cache in \(fmt(warm, 3)) s")
}
