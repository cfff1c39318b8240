// lm-infinite-bench: LM-Infinite's costs, from one run.
//
//   lm-infinite-bench [--threads N] [--only long|16k]   (REFPYTHON=python with transformers for the reference)
//
// long: the small Shakespeare model (make lm-infinite-small) generates 100,000 tokens in lambda mode and
//       30,000 in vanilla mode (its cost grows with the cache; 100,000 would take half an hour): ms per
//       token and resident memory every 10,000 tokens (lambda stays flat).
// 16k:  SmolLM2-135M at a 16,384-token context: prefill seconds and decode tokens/s, lambda against
//       vanilla (the paper reports 2.72× faster decoding), and transformers' vanilla as the reference.
import Foundation
import BenchSupport
import LMInfiniteCore
import Runtime

let (threads, only) = benchArguments(program: "lm-infinite-bench", sections: ["long", "16k"])
referenceBanner(threads, "lm-infinite-bench")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

/// Resident memory now, MB (from /proc/self/statm).
func residentMB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
          let pages = s.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return .nan }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

if only == nil || only == "long" {
    let dir = root + "/data/models/small-shakespeare"
    if !FileManager.default.fileExists(atPath: dir + "/model.safetensors") {
        print("\n(long: no small model at \(dir); `make lm-infinite-small` trains it)")
    } else {
        let model = try LLaMAModel.load(path: dir)
        let total = 100_000, vanillaTotal = 30_000, every = 10_000
        print("\nsmall model (context \(model.config.maxPositionEmbeddings)), generating \(total) tokens (vanilla: \(vanillaTotal)): ms/token and resident MB per 10k tokens")
        print("tokens".rightPad(10) + "lambda ms".leftPad(12) + "lambda MB".leftPad(12) + "vanilla ms".leftPad(13) + "vanilla MB".leftPad(13))
        var rows: [[String]] = (1...(total / every)).map { [String($0 * every)] }
        for mode in [AttentionMode.lambda, .vanilla] {
            var o = InfiniteOptions()
            o.mode = mode
            let lm = InfiniteLM(model: model, options: o)
            let sampler = Sampler(temperature: 1, topP: 0.95, seed: 1)
            var logits = lm.next([Int(UInt8(ascii: "\n"))])
            var start = DispatchTime.now().uptimeNanoseconds
            for i in 1...(mode == .vanilla ? vanillaTotal : total) {
                logits = lm.next([sampler.sample(logits)])
                if i % every == 0 {
                    let now = DispatchTime.now().uptimeNanoseconds
                    rows[i / every - 1] += [fmt(Double(now - start) / 1e6 / Double(every), 3), fmt(residentMB(), 0)]
                    start = now
                }
            }
        }
        for r in rows {
            let v = r.count > 3 ? r[3].leftPad(13) + r[4].leftPad(13) : ""
            print(r[0].rightPad(10) + r[1].leftPad(12) + r[2].leftPad(12) + v)
        }
        print("peak resident memory of this process: \(fmt(peakRSSMegabytes(), 0)) MB")
    }
}

if only == nil || only == "16k" {
    let dir = root + "/data/models/SmolLM2-135M-Instruct", file = "SmolLM2-135M-Instruct.Q4_1.gguf"
    let context = 16_384, decode = 32
    let model = try LLaMAModel.load(path: dir + "/" + file)
    let text = try String(contentsOfFile: root + "/data/tinyshakespeare/input.txt", encoding: .utf8)
    let ids = Array(try Tokenizer.load(path: dir + "/" + file).encode(text).ids.prefix(context))
    print("\nSmolLM2-135M at a \(context)-token context: prefill, then \(decode) greedy tokens")
    print("".rightPad(24) + "lambda".leftPad(10) + "vanilla".leftPad(10) + "lambda/vanilla".leftPad(16) + "transformers".leftPad(14))
    var results: [AttentionMode: (prefill: Double, decode: Double)] = [:]
    for mode in [AttentionMode.lambda, .vanilla] {
        var o = InfiniteOptions()
        o.mode = mode
        let lm = InfiniteLM(model: model, options: o)
        var logits = Tensor.zeros([1])
        let prefill = once { logits = lm.next(ids) }
        let seconds = once { for _ in 0..<decode { logits = lm.next([Sampler().sample(logits)]) } }
        results[mode] = (prefill, Double(decode) / seconds)
    }
    let ref = runReference("model_bench.py", [String(threads), "llama", dir, file, String(context), String(decode)])
    let refPrefill = (ref?["prefill_tok_s"] as? Double).map { Double(context) / $0 }
    let (l, v) = (results[.lambda]!, results[.vanilla]!)
    print("prefill, s".rightPad(24) + fmt(l.prefill, 1).leftPad(10) + fmt(v.prefill, 1).leftPad(10)
          + ratio(v.prefill, l.prefill).leftPad(16) + fmt(refPrefill, 1).leftPad(14))
    print("decode, tokens/s".rightPad(24) + fmt(l.decode, 1).leftPad(10) + fmt(v.decode, 1).leftPad(10)
          + ratio(l.decode, v.decode).leftPad(16) + fmt(ref?["decode_tok_s"] as? Double, 1).leftPad(14))
}
