// ptec-bench: PTEC training and prediction speed against PyTorch + transformers on the same model.
//
//   ptec-bench [--threads N]   (REFPYTHON=python with torch, transformers, gguf; `make refenv`)
//
// SmolLM2-135M-Instruct (the GGUF; both sides dequantize it to fp32), PTEC as the reference's ptec_tuner.py
// trains it: a soft prompt of 20 vectors before the token embeddings, the frozen decoder, Linear(C, 22, bias:
// false) on the last real token, BCE with pos_weight; the gradients of 4 forward batches of 8 accumulated into
// one update of 32 examples, clipped to 1, AdamW (ε 1e-6). Data: the 24 HateSpeech sample texts (the "prompt"
// field, cut at 256 tokens) with their 22 label columns, repeated to 32 × 4 examples; both sides take the same
// 32 examples per update in the same order. Training: examples per second over updates 2-4 (update 1 warms up),
// and the process's peak memory after them (model loaded + 4 updates; each side in its own process).
// Prediction: texts per second of the scores (σ of the logits) of the 24 texts, batch 8, best of 2 after a
// warm-up.
import Foundation
import BenchSupport
import PTECCore
import Runtime

let (threads, _) = benchArguments(program: "ptec-bench", sections: [])
referenceBanner(threads, "ptec-bench")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
let smolDir = root + "/data/models/SmolLM2-135M-Instruct", smolFile = "SmolLM2-135M-Instruct.Q4_1.gguf"
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ptec-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: tmp) }

let (spLen, maxLength, batch, updateSize, warmUp, timedUpdates) = (20, 256, 8, 32, 1, 3)
let (texts, columns) = try readLabelledTexts(path: root + "/data/ptec/train-sample.jsonl", textField: "prompt", labelsField: "labels")
let targets: [[Float]] = texts.map { t in columns.map { (t.labels ?? []).contains($0) ? 1 : 0 } }
let config = PTECConfig(head: .ch, labels: columns, baseModel: smolDir + "/" + smolFile, spLen: spLen,
                        posWeight: positiveWeights(texts, labels: columns), maxLength: maxLength)
let bundle = try PTECModelFiles.fresh(config, promptInit: .labels, seed: 42)
let ids = try texts.map { try bundle.encode($0.text) }
let examples = (0..<(updateSize * (warmUp + timedUpdates))).map { PTECExample(ids: ids[$0 % ids.count], targets: targets[$0 % ids.count]) }
var options = PTECTrainOptions()
(options.epochs, options.batch, options.updateExamples) = (1, batch, updateSize)
let training = try PTECTraining(model: bundle.model, examples: examples, options: options)
let updates = (0..<(warmUp + timedUpdates)).map { training.updateExamples($0).map { $0 % texts.count } }
let data: [String: Any] = ["texts": texts.map(\.text), "targets": targets.map { $0.map(Double.init) },
                           "pos_weight": config.posWeight.map(Double.init), "updates": updates, "sp_len": spLen, "max_length": maxLength, "batch": batch]
try JSONSerialization.data(withJSONObject: data).write(to: URL(fileURLWithPath: tmp + "/data.json"))

for _ in 0..<warmUp { _ = try training.step() }
var trainSeconds = 0.0
for _ in 0..<timedUpdates { trainSeconds += try once { _ = try training.step() } }
let ourTrain = Double(updateSize * timedUpdates) / trainSeconds, ourPeak = peakRSSMegabytes()

/// The scores of `xs` in batches, encoding included (as `ptec predict` does).
func predict(_ xs: [LabelledText]) throws {
    for start in stride(from: 0, to: xs.count, by: batch) {
        _ = bundle.scores(try xs[start..<min(start + batch, xs.count)].map { try bundle.encode($0.text) })
    }
}
try predict(Array(texts.prefix(batch)))
var ourPredict = 0.0
for _ in 0..<2 { ourPredict = max(ourPredict, Double(texts.count) / (try once { try predict(texts) })) }

let ref = runReference("ptec_bench.py", [String(threads), smolDir, smolFile, tmp + "/data.json"])
print("\nPTEC on SmolLM2-135M (fp32 from the Q4_1 GGUF): soft prompt \(spLen) + \(columns.count)-label head, updates of \(updateSize) examples in batches of \(batch), \(texts.count) HateSpeech texts")
print("reference: torch \((ref?["torch"] as? String) ?? "-"), transformers \((ref?["transformers"] as? String) ?? "-")")
if let tokens = ref?["tokens"] as? Int, tokens != ids.reduce(0, { $0 + $1.count }) {
    print("note: the reference's texts have \(tokens) tokens, ours \(ids.reduce(0) { $0 + $1.count })")
}
print("".rightPad(34) + "ours".leftPad(10) + "PyTorch".leftPad(14) + "ratio".leftPad(8))
let rt = ref?["train_ex_s"] as? Double, rm = ref?["train_peak_mb"] as? Double, rp = ref?["predict_per_s"] as? Double
print("training, examples/s (updates 2-4)".rightPad(34) + fmt(ourTrain, 2).leftPad(10) + fmt(rt, 2).leftPad(14) + ratio(ourTrain, rt).leftPad(8))
print("peak memory after training, MB".rightPad(34) + fmt(ourPeak, 0).leftPad(10) + fmt(rm, 0).leftPad(14) + ratio(rm, ourPeak).leftPad(8) + "  (their MB / ours)")
print("prediction, texts/s".rightPad(34) + fmt(ourPredict).leftPad(10) + fmt(rp).leftPad(14) + ratio(ourPredict, rp).leftPad(8))
