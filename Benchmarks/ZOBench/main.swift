// zo-bench: peak memory and seconds per step of every zo optimizer on SmolLM2-135M (full fine-tuning,
// batch 16, 64-token prompts), beside inference's peak; PyTorch MeZO and Adam as the reference.
//
//   zo-bench [--threads N]      (REFPYTHON=python with torch + transformers for the reference)
//
// Each configuration runs in its own `zo` process (three steps), its peak resident memory read by
// wait4(2); seconds per step come from the run's log (steps 2 and 3).
import Foundation
import BenchSupport
import Runtime

let (threads, _) = benchArguments(program: "zo-bench", sections: [])
referenceBanner(threads, "zo-bench")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
let dir = root + "/data/models/SmolLM2-135M-Instruct", file = "SmolLM2-135M-Instruct.Q4_1.gguf"
let zo = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/zo"
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("zo-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: tmp) }

// 16 prompts of about 64 tokens: SST-2 sentences joined until long enough.
let sentences = try String(contentsOfFile: root + "/data/sst2/dev.tsv", encoding: .utf8).split(separator: "\n").dropFirst()
    .map { String($0.split(separator: "\t", maxSplits: 1).last ?? "") }
let tokenizer = try Tokenizer.load(path: dir + "/" + file)
var lines: [String] = [], k = 0
for i in 0..<16 {
    var text = ""
    while (try tokenizer.encode(text + " It was").ids.count) < 64 { text += (text.isEmpty ? "" : " ") + sentences[k % sentences.count]; k += 1 }
    var r = Record()
    r.set("text", string: text)
    r.set("label", int: i % 2)
    lines.append(r.jsonText)
}
try (lines.joined(separator: "\n") + "\n").write(toFile: tmp + "/data.jsonl", atomically: true, encoding: .utf8)

/// Runs a child process; returns its peak RSS (MB) and wall seconds. Spawned with posix_spawn and
/// reaped with wait4 here: Foundation's Process reaps its children itself, and a wait4 that loses that
/// race reads an empty rusage (peak 0).
func measure(_ args: [String]) throws -> (mb: Double, seconds: Double) {
    var fileActions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&fileActions)
    defer { posix_spawn_file_actions_destroy(&fileActions) }
    posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([zo] + args).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let start = Date()
    let rc = posix_spawn(&pid, zo, &fileActions, nil, argv, environ)
    guard rc == 0 else { throw CocoaError(.executableLoad) }
    var status: Int32 = 0
    var ru = rusage()
    guard wait4(pid, &status, 0, &ru) == pid else { throw CocoaError(.executableLoad) }
    return (Double(ru.ru_maxrss) / 1024, Date().timeIntervalSince(start))
}

func secondsPerStep(_ log: String) -> Double? {
    guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return nil }
    let rows = text.split(separator: "\n").compactMap { try? Record(parsing: String($0)) }
    guard rows.count >= 3, let a = try? rows[0].double("seconds"), let c = try? rows[2].double("seconds") else { return nil }
    return (c - a) / 2
}

let common = ["--model", dir + "/" + file, "--train", tmp + "/data.jsonl", "--dev", tmp + "/data.jsonl", "--train-count", "16",
              "--dev-count", "16", "--batch", "16", "--threads", String(threads)]
let inference = try measure(["eval", "--model", dir + "/" + file, "--data", tmp + "/data.jsonl", "--batch", "16", "--threads", String(threads)])
print("\nSmolLM2-135M, full fine-tuning, batch 16 × 64 tokens: peak resident memory and time per step")
print("optimizer".rightPad(14) + "peak MB".leftPad(10) + "× inference".leftPad(13) + "s/step".leftPad(10))
print("inference".rightPad(14) + fmt(inference.mb, 0).leftPad(10) + "1.00×".leftPad(13) + "-".leftPad(10))
var ours: [String: (Double, Double?)] = [:]
for opt in ["zo-sgd", "zo-sgd-sign", "zo-sgd-cons", "zo-sgd-mmt", "zo-adam", "forward-grad", "fo-sgd", "fo-adam"] {
    let out = tmp + "/" + opt
    let m = try measure(["train"] + common + ["--optimizer", opt, "--steps", "3", "--eval-every", "0", "--out", out])
    let s = secondsPerStep(out + "/log.jsonl")
    ours[opt] = (m.mb, s)
    print(opt.rightPad(14) + fmt(m.mb, 0).leftPad(10) + ratio(m.mb, inference.mb).leftPad(13) + fmt(s, 2).leftPad(10))
    try? FileManager.default.removeItem(atPath: out)
}
// zo's memory promise (zo-sgd within 1.05× of inference) on short prompts too, at 1 and 2 threads:
// the 64 first SST-2 training sentences as they are (about 25 tokens with the template) and the
// 64-token prompts above.
let short = try String(contentsOfFile: root + "/data/sst2/train-3000.jsonl", encoding: .utf8).split(separator: "\n").prefix(64).joined(separator: "\n") + "\n"
try short.write(toFile: tmp + "/short.jsonl", atomically: true, encoding: .utf8)
print("\nzo-sgd's peak against inference's (zo eval), batch 16, by prompt length and threads")
print("prompts".rightPad(22) + "threads".leftPad(8) + "eval MB".leftPad(10) + "zo-sgd MB".leftPad(11) + "ratio".leftPad(8))
for (name, data, count) in [("SST-2 sentences (64)", tmp + "/short.jsonl", "64"), ("64-token prompts (16)", tmp + "/data.jsonl", "16")] {
    for t in [1, 2] {
        let e = try measure(["eval", "--model", dir + "/" + file, "--data", data, "--batch", "16", "--threads", String(t)])
        let out = tmp + "/promise-\(t)"
        let z = try measure(["train", "--model", dir + "/" + file, "--train", data, "--dev", data, "--train-count", count, "--dev-count", "16",
                             "--batch", "16", "--threads", String(t), "--steps", "3", "--eval-every", "0", "--overwrite", "--out", out])
        print(name.rightPad(22) + String(t).leftPad(8) + fmt(e.mb, 0).leftPad(10) + fmt(z.mb, 0).leftPad(11) + ratio(z.mb, e.mb).leftPad(8))
        try? FileManager.default.removeItem(atPath: out)
    }
}

print("\nreference: PyTorch (transformers, same GGUF dequantized to float32, same batch and threads)")
print("".rightPad(14) + "peak MB".leftPad(10) + "s/step".leftPad(10) + "ours peak/ref".leftPad(15) + "ref s/ours s".leftPad(14))
for (mode, opt) in [("infer", "inference"), ("mezo", "zo-sgd"), ("adam", "fo-adam")] {
    let ref = runReference("zo_bench.py", [String(threads), dir, file, tmp + "/data.jsonl", mode])
    let (mb, s) = opt == "inference" ? (inference.mb, nil) : ours[opt]!
    print((mode == "mezo" ? "MeZO" : mode == "adam" ? "Adam" : "inference").rightPad(14)
          + fmt(ref?["peak_rss_mb"] as? Double, 0).leftPad(10) + fmt(ref?["seconds_per_step"] as? Double, 2).leftPad(10)
          + ratio(mb, ref?["peak_rss_mb"] as? Double).leftPad(15) + ratio(ref?["seconds_per_step"] as? Double, s).leftPad(14))
}
