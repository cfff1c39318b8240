// ls-llama-bench: LoRA fine-tuning and prediction speed against PyTorch + PEFT on the same model.
//
//   ls-llama-bench [--threads N]   (REFPYTHON=python with torch, transformers, peft, gguf; `make refenv`)
//
// SmolLM2-135M-Instruct (the GGUF; both sides dequantize it to fp32), sequence classification as the
// reference's scripts train it: LoRA r 12, α 32, dropout 0.1 on q_proj/v_proj, a 2-label head on the last
// token, AdamW, clipping to 1, batches of 8 SST-2 sentences (max 64 tokens). Training: examples per second
// from the median of steps 2-11, and the process's peak memory after them (model loaded + 11 steps; each side in its own
// process). Prediction: texts per second over the first 256 sentences, batch 8, best of 2 after a warm-up.
import Foundation
import BenchSupport
import LSLlamaCore
import Runtime

let (threads, _) = benchArguments(program: "ls-llama-bench", sections: [])
referenceBanner(threads, "ls-llama-bench")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
let smolDir = root + "/data/models/SmolLM2-135M-Instruct", smolFile = "SmolLM2-135M-Instruct.Q4_1.gguf"
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ls-llama-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: tmp) }

let dev = try String(contentsOfFile: root + "/data/sst2/dev.tsv", encoding: .utf8).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).dropFirst()
let texts = dev.prefix(256).map { String($0.split(separator: "\t").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
let json = "[" + texts.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",") + "]"
try json.write(toFile: tmp + "/texts.json", atomically: true, encoding: .utf8)

let config = LSConfig(task: .seq, labels: ["negative", "positive"], baseModel: smolDir + "/" + smolFile, maxLength: 64)
let bundle = try LSModelFiles.fresh(config, seed: 1)
let examples = try encodeTrainingExamples(bundle, sequences: texts.prefix(88).enumerated().map {
    SequenceExample(text: $1, label: $0 % 2 == 0 ? "negative" : "positive")
})
var options = LSTrainOptions()
(options.epochs, options.lr, options.batch) = (1, 1e-4, 8)
let training = try LSTraining(bundle: bundle, examples: examples, options: options)
var times: [Double] = []
for i in 0..<11 {
    let t = try once { _ = try training.step() }
    if i > 0 { times.append(t) }
}
let ourTrain = 8 / times.sorted()[times.count / 2], ourPeak = peakRSSMegabytes()
let predictor = LSPredictor(bundle: bundle, batch: 8)
_ = try predictor.predict(texts: Array(texts.prefix(8)))
var ourPredict = 0.0
for _ in 0..<2 { ourPredict = max(ourPredict, Double(texts.count) / (try once { _ = try predictor.predict(texts: texts) })) }

let ref = runReference("ls_llama_bench.py", [String(threads), smolDir, smolFile, tmp + "/texts.json"])
print("\nLS-LLaMA on SmolLM2-135M (fp32 from the Q4_1 GGUF), LoRA r 12 on q/v + 2-label head, batch 8 SST-2 sentences")
print("reference: torch \((ref?["torch"] as? String) ?? "-"), transformers \((ref?["transformers"] as? String) ?? "-"), peft \((ref?["peft"] as? String) ?? "-")")
print("".rightPad(34) + "ours".leftPad(10) + "PyTorch+PEFT".leftPad(14) + "ratio".leftPad(8))
let rt = ref?["train_ex_s"] as? Double, rm = ref?["train_peak_mb"] as? Double, rp = ref?["predict_per_s"] as? Double
print("training, examples/s (median step)".rightPad(34) + fmt(ourTrain, 2).leftPad(10) + fmt(rt, 2).leftPad(14) + ratio(ourTrain, rt).leftPad(8))
print("peak memory after training, MB".rightPad(34) + fmt(ourPeak, 0).leftPad(10) + fmt(rm, 0).leftPad(14) + ratio(rm, ourPeak).leftPad(8) + "  (their MB / ours)")
print("prediction, texts/s".rightPad(34) + fmt(ourPredict).leftPad(10) + fmt(rp).leftPad(14) + ratio(ourPredict, rp).leftPad(8))
