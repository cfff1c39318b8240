// model-bench: the real models beside their reference implementations, from one run at one thread count.
//
//   model-bench [--threads N] [--only embed|llama]   (REFPYTHON=python with torch + transformers for the reference)
//
// llama: SmolLM2-135M-Instruct from its GGUF file: load time, prefill tokens/s (a 128-token prompt),
//        greedy decode tokens/s (64 tokens with the KV cache), peak memory; against transformers
//        loading the same GGUF (dequantized to float32).
// embed: the `embed` program (all-MiniLM-L6-v2, all-mpnet-base-v2, multilingual-e5-small with E5's
//        "passage: " prefix) on the 872 SST-2 dev sentences as JSONL, wall time of the whole run (load,
//        tokenize, encode, write) at 1 thread and at N, against sentence-transformers' encode (batch 32,
//        tokenizer included, model load excluded).
import Foundation
import BenchSupport
import Runtime

let (threads, only) = benchArguments(program: "model-bench", sections: ["embed", "llama"])
referenceBanner(threads, "model-bench")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

if only == nil || only == "embed" {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("model-bench-\(getpid())").path
    try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    let texts = try String(contentsOfFile: root + "/data/sst2/dev.tsv", encoding: .utf8).split(separator: "\n").dropFirst()
        .map { String($0.split(separator: "\t", maxSplits: 1).last ?? "") }
    var lines = ""
    for t in texts { var r = Record(); r.set("text", string: t); lines += r.jsonText + "\n" }
    try lines.write(toFile: tmp + "/in.jsonl", atomically: true, encoding: .utf8)
    // E5 prescribes a prefix on every text.
    var e5Lines = ""
    for t in texts { var r = Record(); r.set("text", string: "passage: " + t); e5Lines += r.jsonText + "\n" }
    try e5Lines.write(toFile: tmp + "/in-e5.jsonl", atomically: true, encoding: .utf8)
    let embed = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/embed"
    for (name, input) in [("all-MiniLM-L6-v2", "in.jsonl"), ("all-mpnet-base-v2", "in.jsonl"), ("multilingual-e5-small", "in-e5.jsonl")] {
        let dir = root + "/data/models/" + name
        guard FileManager.default.fileExists(atPath: dir + "/model.safetensors") else { print("\n\(name): not installed (make models)"); continue }
        print("\nembed (\(name)), \(texts.count) SST-2 dev sentences, sentences/s (higher is better)")
        print("threads".rightPad(10) + "ours".leftPad(10) + "sentence-transformers".leftPad(24) + "speed-up".leftPad(12)
              + "ONNX Runtime".leftPad(14) + "vs ORT".leftPad(10))
        for n in Array(Set([1, threads])).sorted() {
            // Median of 3 whole runs (the shared machine is noisy).
            let seconds = try (0..<3).map { _ in try once {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: embed)
                p.arguments = ["--model", dir, "--threads", String(n), "--quiet", tmp + "/" + input]
                p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
                try p.run()
                p.waitUntilExit()
                precondition(p.terminationStatus == 0, "embed failed")
            } }.sorted()[1]
            let ours = Double(texts.count) / seconds
            let ref = runReference("model_bench.py", [String(n), "embed", dir, tmp + "/" + input])
            let theirs = ref?["sentences_s"] as? Double
            let ort = runReference("model_bench.py", [String(n), "onnx", dir, tmp + "/" + input])?["sentences_s"] as? Double
            print(String(n).rightPad(10) + fmt(ours).leftPad(10) + fmt(theirs).leftPad(24) + ratio(ours, theirs).leftPad(12)
                  + fmt(ort).leftPad(14) + ratio(ours, ort).leftPad(10))
        }
    }
}

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
