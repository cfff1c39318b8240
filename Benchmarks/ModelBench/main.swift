// model-bench: the real models beside their reference implementations, from one run at one thread count.
//
//   model-bench [--threads N] [--only llama|bert]   (REFPYTHON=python with torch + transformers for the reference)
//
// llama: SmolLM2-135M-Instruct from its GGUF file: load time, prefill tokens/s (a 128-token prompt),
//        greedy decode tokens/s (64 tokens with the KV cache), peak memory; against transformers
//        loading the same GGUF (dequantized to float32).
// bert:  all-MiniLM-L6-v2 forward + mean pooling + normalization on the 872 SST-2 dev sentences,
//        token ids given (the model alone; `embed` itself is timed by tools-bench), against
//        sentence-transformers' encode (which includes its tokenizer).
import Foundation
import BenchSupport
import Runtime

let (threads, only) = benchArguments(program: "model-bench", sections: ["llama", "bert"])
referenceBanner(threads, "model-bench")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

if only == nil || only == "llama" {
    let dir = root + "/data/models/SmolLM2-135M-Instruct", file = "SmolLM2-135M-Instruct.Q4_1.gguf"
    let promptLength = 128, decodeLength = 64
    print("\nSmolLM2-135M-Instruct (GGUF Q4_1 → float32), prompt \(promptLength) tokens, greedy decode \(decodeLength)")
    var model: LLaMAModel!
    let load = try once { model = try LLaMAModel.load(path: dir + "/" + file) }
    let prompt = (0..<promptLength).map { ($0 * 7919) % model.config.vocabSize }
    var prefill = 0.0, decode = 0.0
    withoutGrad {
        _ = model(ids: Array(prompt.prefix(8)), logits: .last)  // warm-up
        let cache = model.makeCache()
        var logits: Tensor!
        prefill = Double(promptLength) / once { logits = model(ids: prompt, cache: cache, logits: .last) }
        decode = Double(decodeLength) / once {
            for _ in 0..<decodeLength {
                logits = model(ids: [logits.argmax(axis: -1)[0]], cache: cache, logits: .last)
            }
        }
    }
    let peak = peakRSSMegabytes()
    let ref = runReference("model_bench.py", [String(threads), "llama", dir, file, String(promptLength), String(decodeLength)])
    func row(_ name: String, _ ours: Double, _ theirs: Double?, _ digits: Int, higherIsBetter: Bool) {
        let r = higherIsBetter ? ratio(ours, theirs) : ratio(theirs, ours)
        print(name.rightPad(22) + fmt(ours, digits).leftPad(10) + fmt(theirs, digits).leftPad(14) + r.leftPad(12))
    }
    print("".rightPad(22) + "ours".leftPad(10) + "transformers".leftPad(14) + "speed-up".leftPad(12))
    row("load, s", load, ref?["load_s"] as? Double, 2, higherIsBetter: false)
    row("prefill, tokens/s", prefill, ref?["prefill_tok_s"] as? Double, 1, higherIsBetter: true)
    row("decode, tokens/s", decode, ref?["decode_tok_s"] as? Double, 1, higherIsBetter: true)
    row("peak memory, MB", peak, ref?["peak_rss_mb"] as? Double, 0, higherIsBetter: false)
}
