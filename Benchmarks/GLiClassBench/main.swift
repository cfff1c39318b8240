// gliclass-bench: zero-shot classification throughput against the reference package's pipeline.
//
//   gliclass-bench [--threads N]   (REFPYTHON=python with gliclass 0.1.21, torch; `make refenv`)
//
// One GLiClass model on all-MiniLM-L6-v2 (a new one from seed 1: avg pooling, simple scorer, labels
// first; saved as the reference saves it, so both sides read the same file), the first 256 sentences
// of SST-2 dev as texts, 4 and 20 labels. Ours: `Predictor` (batches of 8, sorted by length, poolers
// over each record's own tokens); the reference: ZeroShotClassificationPipeline, batch 8, on the same
// threads. Texts per second, best of 2 runs after a warm-up, and the ratio. Then one training step
// (batch of 8 texts with the 4 labels, the first true; forward with the loss, backward, clipping,
// AdamW): the median of 5 after a warm-up, against the same step in PyTorch.
import Foundation
import BenchSupport
import GLiClassCore
import Runtime

let (threads, _) = benchArguments(program: "gliclass-bench", sections: [])
referenceBanner(threads, "gliclass-bench")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
let minilm = root + "/data/models/all-MiniLM-L6-v2"
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("gliclass-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: tmp) }

let bundle = try GLiClassCheckpoint.fresh(encoder: minilm, seed: 1) { $0.poolingStrategy = .avg; $0.promptFirst = true; $0.problemType = .multiLabel }
try GLiClassCheckpoint.save(bundle, to: tmp + "/model")
let model = try GLiClassCheckpoint.load(directory: tmp + "/model")
let dev = try String(contentsOfFile: root + "/data/sst2/dev.tsv", encoding: .utf8).split(separator: "\n").dropFirst()
let texts = dev.prefix(256).map { String($0.split(separator: "\t").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
let labels4 = ["positive", "negative", "neutral", "sports"]
let labels20 = ["positive", "negative", "neutral", "sports", "politics", "business", "science", "technology", "world news",
                "health", "entertainment", "music", "movies", "finance", "travel", "food", "weather", "crime", "education", "art"]
func json(_ a: [String]) -> String { "[" + a.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",") + "]" }
try json(texts).write(toFile: tmp + "/texts.json", atomically: true, encoding: .utf8)
try json(labels4).write(toFile: tmp + "/l4.json", atomically: true, encoding: .utf8)
try json(labels20).write(toFile: tmp + "/l20.json", atomically: true, encoding: .utf8)

var options = PredictOptions()
options.batch = 8
let predictor = Predictor(bundle: model, maxLength: 512, options: options)
func ours(_ labels: [String]) -> Double {
    let inputs = texts.map { ClassificationInput(text: $0, labels: labels) }
    _ = predictor.predict(Array(inputs.prefix(8)))
    var best = 0.0
    for _ in 0..<2 { best = max(best, Double(texts.count) / once { _ = predictor.predict(inputs) }) }
    return best
}
let o4 = ours(labels4), o20 = ours(labels20)
let ref = runReference("gliclass_bench.py", [String(threads), tmp + "/model", tmp + "/texts.json", tmp + "/l4.json", tmp + "/l20.json"])
print("\nGLiClass on all-MiniLM-L6-v2 (avg pooling, simple scorer), \(texts.count) SST-2 sentences, batch 8; texts per second")
print("labels  " + "ours".leftPad(8) + "reference".leftPad(11) + "ratio".leftPad(8) + "   reference: gliclass " + ((ref?["gliclass"] as? String) ?? "-")
      + ", torch " + ((ref?["torch"] as? String) ?? "-"))
for (n, o, key) in [(4, o4, "per_s_4"), (20, o20, "per_s_20")] {
    let r = ref?[key] as? Double
    print("\(n)".leftPad(6) + fmt(o).leftPad(10) + fmt(r).leftPad(11) + ratio(o, r).leftPad(8))
}

// Training steps on the model as loaded (a fresh optimizer; no augmentation, labels in order).
let items = texts.prefix(48).map { TrainingItem(text: $0, allLabels: labels4, trueLabels: [labels4[0]: 1], trueOrder: [labels4[0]]) }
var trainOptions = TrainOptions()
(trainOptions.batch, trainOptions.epochs, trainOptions.augment, trainOptions.maxLength) = (8, 1, .none, 512)
let training = try GLiClassTraining(bundle: model, items: Array(items), options: trainOptions)
var steps: [Double] = []
for i in 0..<6 {
    let t = try once { _ = try training.step() }
    if i > 0 { steps.append(t) }
}
let ourStep = steps.sorted()[steps.count / 2], refStep = ref?["train_step_s"] as? Double
print("\ntraining step, batch 8 × 4 labels (median of 5): ours \(fmt(ourStep, 3)) s, reference \(fmt(refStep, 3)) s, "
      + "speed-up \(ratio(refStep, ourStep))")
print("peak memory (ours, whole bench): \(fmt(peakRSSMegabytes(), 0)) MB")
