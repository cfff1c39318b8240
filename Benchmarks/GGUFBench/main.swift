// gguf-bench: a GGUF decoder kept quantized (the runtime's block-format products) beside the same file
// expanded to float32 and beside llama.cpp's own `llama-bench`, on the same file and thread counts.
//
//   gguf-bench [--threads N] [--only speed|nll]   (thread counts 1 and N; llama.cpp from
//       scripts/bench/build-llama-cpp.sh, which `make bench` runs; without it that column says "-")
//
// Files: SmolLM2-135M-Instruct Q4_1 (data/models, `make models`) and, when `make bench` has made it with
// llama.cpp's llama-quantize (--allow-requantize from the Q4_1), the same model as Q4_K_M
// (.refenv/llama.cpp/SmolLM2-135M-Instruct.Q4_K_M.gguf: Q4_K, Q6_K and Q8_0 blocks).
//
// Protocol, as llama-bench's: pp = one forward pass over a 128-token prompt from an empty cache;
// tg = 64 tokens decoded one at a time from an empty cache (greedy). Each of ours runs in its own process
// (this program with --child) so load time and peak memory (/usr/bin/time's maximum resident set) are
// that configuration's alone; each figure is the median of 3 runs (llama-bench: the median of its 3
// repetitions, and peak memory of a separate run). Physical limit beside them: the bytes of weights one
// decoded token reads (every matrix once; the tied embedding serves as the output projection) over the
// read bandwidth measured at the same thread count (a STREAM-style copy printed beside it).
import Foundation
import BenchSupport
import Runtime

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
let ggufFiles = [root + "/data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf",
                 root + "/.refenv/llama.cpp/SmolLM2-135M-Instruct.Q4_K_M.gguf"]
let promptLength = 128, decodeLength = Int(ProcessInfo.processInfo.environment["GGUF_BENCH_TG"] ?? "") ?? 64, runs = 3

// MARK: child: one configuration, one run
if CommandLine.arguments.count == 5 && CommandLine.arguments[1] == "--child" {
    let quantized = CommandLine.arguments[2] == "quantized"
    Threads.set(Int(CommandLine.arguments[3])!)
    let gguf = CommandLine.arguments[4]
    var model: LLaMAModel!
    let load = try once { model = try LLaMAModel.load(path: gguf, keepQuantized: quantized) }
    let v = model.config.vocabSize
    let prompt = (0..<promptLength).map { ($0 * 7919 + 13) % v }
    var pp = 0.0, tg = 0.0
    withoutGrad {
        _ = model(ids: Array(prompt.prefix(8)), cache: model.makeCache(), logits: .last)  // warm-up
        pp = Double(promptLength) / once { _ = model(ids: prompt, cache: model.makeCache(), logits: .last) }
        let cache = model.makeCache(capacity: decodeLength + 1)
        var next = prompt[0]
        tg = Double(decodeLength) / once {
            for _ in 0..<decodeLength { next = model(ids: [next], cache: cache, logits: .last).argmax(axis: -1)[0] }
        }
    }
    print("{\"load_ms\": \(load * 1000), \"pp\": \(pp), \"tg\": \(tg)}")
    exit(0)
}

let (threads, only) = benchArguments(program: "gguf-bench", sections: ["speed", "nll"])
referenceBanner(threads, "gguf-bench")
guard FileManager.default.fileExists(atPath: ggufFiles[0]) else { print("SmolLM2 GGUF not installed (make models)"); exit(0) }

/// Runs argv under /usr/bin/time; stdout and the peak resident set in MB.
func measured(_ argv: [String]) -> (out: String, peakMB: Double)? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/time")
    p.arguments = ["-f", "maxrss_kb=%M"] + argv
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    guard (try? p.run()) != nil else { return nil }
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let errText = String(decoding: e, as: UTF8.self)
    guard p.terminationStatus == 0, let line = errText.split(separator: "\n").last(where: { $0.hasPrefix("maxrss_kb=") }),
          let kb = Double(line.dropFirst("maxrss_kb=".count)) else {
        FileHandle.standardError.write("gguf-bench: \(argv.joined(separator: " ")) failed:\n\(errText)\n".data(using: .utf8)!)
        return nil
    }
    return (String(decoding: o, as: UTF8.self), kb / 1024)
}

func median(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.sorted()[xs.count / 2] }

struct Figures { var loadMs: Double?, pp: Double?, tg: Double?, peakMB: Double? }

func ours(_ mode: String, _ n: Int, _ gguf: String) -> Figures {
    var loads: [Double] = [], pps: [Double] = [], tgs: [Double] = [], peaks: [Double] = []
    for _ in 0..<runs {
        guard let (out, peak) = measured([CommandLine.arguments[0], "--child", mode, String(n), gguf]),
              let j = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Double] else { continue }
        loads.append(j["load_ms"]!); pps.append(j["pp"]!); tgs.append(j["tg"]!); peaks.append(peak)
    }
    return Figures(loadMs: median(loads), pp: median(pps), tg: median(tgs), peakMB: median(peaks))
}

let llamaBench = root + "/.refenv/llama.cpp/build/bin/llama-bench"
func llamaCpp(_ n: Int, _ gguf: String) -> Figures {
    guard FileManager.default.isExecutableFile(atPath: llamaBench) else { return Figures() }
    var f = Figures()
    if let (out, _) = measured([llamaBench, "-m", gguf, "-p", String(promptLength), "-n", String(decodeLength), "-t", String(n),
                                "-r", String(runs), "-o", "json"]),
       let rows = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]] {
        for r in rows {
            let samples = (r["samples_ts"] as? [Double]) ?? []
            if (r["n_prompt"] as? Int) == promptLength { f.pp = median(samples) }
            if (r["n_gen"] as? Int) == decodeLength { f.tg = median(samples) }
        }
    }
    // Peak memory of a one-repetition run of the decoding test alone, and of the prompt test alone.
    let peaks = [["-p", "0", "-n", String(decodeLength)], ["-p", String(promptLength), "-n", "0"]].compactMap {
        measured([llamaBench, "-m", gguf, "-t", String(n), "-r", "1"] + $0)?.peakMB
    }
    f.peakMB = peaks.max()
    return f
}

/// Memory bandwidth on `n` threads over 256 MB, GB/s, best of 5: a STREAM-style copy (bytes read and
/// written) and a read-only pass (a sum: what decoding does to the weights).
func bandwidth(_ n: Int) -> (copy: Double, read: Double) {
    let count = 64 << 20
    let a = Tensor(shape: [count], repeating: 1), b = Tensor(shape: [count], repeating: 0)
    let saved = Threads.count
    Threads.set(n)
    defer { Threads.set(saved) }
    func part(_ t: Int) -> Range<Int> { (count / n * t)..<(t == n - 1 ? count : count / n * (t + 1)) }
    var copy = Double.infinity, read = Double.infinity
    var sink: Float = 0
    for _ in 0..<5 {
        copy = min(copy, once {
            parallelFor(n, grain: 1) { r in for t in r { (b.data + part(t).lowerBound).update(from: a.data + part(t).lowerBound, count: part(t).count) } }
        })
        var sums = [Float](repeating: 0, count: n)
        read = min(read, once {
            sums.withUnsafeMutableBufferPointer { out in
                parallelFor(n, grain: 1) { r in
                    for t in r {
                        let p = UnsafeRawPointer(a.data + part(t).lowerBound), m = part(t).count / 16
                        var acc = SIMD16<Float>(repeating: 0)
                        for i in 0..<m { acc += p.loadUnaligned(fromByteOffset: 64 * i, as: SIMD16<Float>.self) }
                        out[t] = acc.sum()
                    }
                }
            }
        })
        sink += sums.reduce(0, +)
    }
    if sink == -1 { print(sink) }  // keeps the sums
    return (2 * Double(count * 4) / copy / 1e9, Double(count * 4) / read / 1e9)
}

for gguf in ggufFiles where FileManager.default.fileExists(atPath: gguf) {
    let name = ((gguf as NSString).lastPathComponent as NSString).deletingPathExtension
    let file = try GGUFFile(path: gguf)
    if only == nil || only == "speed" {
    let weightBytes = file.tensors.reduce(0) { $0 + $1.byteCount }
    let types = Dictionary(grouping: file.tensors.filter { $0.shape.count == 2 }, by: \.type).keys.map(\.description).sorted()
    print("\n\(name) (\(types.joined(separator: ", ")); \(String(format: "%.1f", Double(weightBytes) / 1e6)) MB of weights per decoded token), pp\(promptLength) and tg\(decodeLength) tokens/s, median of \(runs) runs")
    print("threads".rightPad(9) + "figure".rightPad(18) + "kept quantized".leftPad(16) + "float32".leftPad(10) + "llama.cpp".leftPad(11)
          + "vs llama.cpp".leftPad(14) + "limit".leftPad(8) + "of limit".leftPad(10))
    for n in Array(Set([1, threads])).sorted() {
        let q = ours("quantized", n, gguf), f = ours("float32", n, gguf), l = llamaCpp(n, gguf)
        let bw = bandwidth(n), limit = bw.read * 1e9 / Double(weightBytes)
        func row(_ name: String, _ a: Double?, _ b: Double?, _ c: Double?, digits: Int = 1, higherIsBetter: Bool = true, limit: Double? = nil) {
            print(String(n).rightPad(9) + name.rightPad(18) + fmt(a, digits).leftPad(16) + fmt(b, digits).leftPad(10) + fmt(c, digits).leftPad(11)
                  + (higherIsBetter ? ratio(a, c) : ratio(c, a)).leftPad(14) + fmt(limit).leftPad(8)
                  + (limit.flatMap { lim in a.map { String(format: "%.0f%%", 100 * $0 / lim) } } ?? "").leftPad(10))
        }
        row("prefill, tok/s", q.pp, f.pp, l.pp)
        row("decode, tok/s", q.tg, f.tg, l.tg, limit: limit)
        row("peak memory, MB", q.peakMB, f.peakMB, l.peakMB, digits: 0, higherIsBetter: false)
        row("load, ms", q.loadMs, f.loadMs, nil, digits: 0, higherIsBetter: false)
        print("".rightPad(9) + "memory bandwidth: read \(String(format: "%.1f", bw.read)) GB/s, copy \(String(format: "%.1f", bw.copy)) GB/s (STREAM counting)")
    }
    }

    // MARK: the same numbers as llama.cpp: perplexity on the same text by llama-perplexity's protocol
    // (chunks of nCtx tokens, BOS in place of each chunk's first token when the vocabulary adds one, the
    // second half of each chunk scored), ours kept quantized both ways: the whole chunk in one pass (tiles
    // expanded to float32, float activations) and token by token through the cache (decoding's 8-bit
    // activations, as llama.cpp's products).
    if only == nil || only == "nll" {
        let nCtx = 128, chunks = 6
        let textPath = root + "/data/tinyshakespeare/input.txt"
        let text = String(try String(contentsOfFile: textPath, encoding: .utf8).prefix(12_000))
        let tmpText = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-bench-\(getpid()).txt").path
        try text.write(toFile: tmpText, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tmpText) }
        let tokenizer = try Tokenizer.fromGGUF(path: gguf)
        let model = try LLaMAModel.load(path: gguf, keepQuantized: true)
        var ids = try tokenizer.encode(text).ids
        let bos = tokenizer.bosId
        let addsBOS = bos != nil && ids.first == bos
        precondition(ids.count >= chunks * nCtx, "gguf-bench: the text has \(ids.count) tokens, fewer than \(chunks * nCtx)")
        ids = Array(ids.prefix(chunks * nCtx))
        let first = nCtx / 2
        func nll(_ logits: [Float], _ target: Int) -> Double {
            let l = logits.map(Double.init), mx = l.max()!
            return mx + log(l.map { exp($0 - mx) }.reduce(0, +)) - l[target]
        }
        var onePass = 0.0, stepwise = 0.0, scored = 0
        let v = model.config.vocabSize
        withoutGrad {
            for c in 0..<chunks {
                var chunk = Array(ids[(c * nCtx)..<((c + 1) * nCtx)])
                if addsBOS { chunk[0] = bos! }
                let all = model(ids: chunk, logits: .all).scalars
                let cache = model.makeCache(capacity: nCtx)
                for j in 0..<(nCtx - 1) {
                    let step = model(ids: [chunk[j]], cache: cache, logits: .last).scalars
                    if j >= first {
                        onePass += nll(Array(all[(j * v)..<((j + 1) * v)]), chunk[j + 1])
                        stepwise += nll(step, chunk[j + 1])
                        scored += 1
                    }
                }
            }
        }
        let pplOnePass = exp(onePass / Double(scored)), pplSteps = exp(stepwise / Double(scored))
        var theirs: Double? = nil
        let perplexity = root + "/.refenv/llama.cpp/build/bin/llama-perplexity"
        // llama-perplexity prints its final estimate on stderr.
        if FileManager.default.isExecutableFile(atPath: perplexity) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: perplexity)
            p.arguments = ["-m", gguf, "-f", tmpText, "-c", String(nCtx), "--chunks", String(chunks), "-t", String(threads), "-b", String(nCtx)]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            let log = String(decoding: data, as: UTF8.self)
            if let r = log.range(of: "Final estimate: PPL = ") {
                theirs = Double(log[r.upperBound...].prefix { "0123456789.".contains($0) })
            }
        }
        print("\nPerplexity of \(name) on the first \(chunks * nCtx) tokens of tinyshakespeare (llama-perplexity's protocol, -c \(nCtx), \(scored) tokens scored)")
        print("ours, one pass per chunk (float activations)".rightPad(52) + String(format: "%.4f", pplOnePass).leftPad(10)
              + (theirs.map { String(format: "%+.2f%% vs llama.cpp", 100 * (pplOnePass / $0 - 1)) } ?? "").leftPad(22))
        print("ours, token by token (8-bit activations)".rightPad(52) + String(format: "%.4f", pplSteps).leftPad(10)
              + (theirs.map { String(format: "%+.2f%% vs llama.cpp", 100 * (pplSteps / $0 - 1)) } ?? "").leftPad(22))
        print("llama.cpp llama-perplexity".rightPad(52) + fmt(theirs, 4).leftPad(10))
    }
}
