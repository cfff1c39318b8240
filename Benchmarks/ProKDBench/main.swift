// prokd-bench: the teacher's training step and tagging speed against PyTorch + transformers on the same
// encoder.
//
//   prokd-bench [--threads N]   (REFPYTHON=python with torch and transformers; `make refenv`)
//
// multilingual-e5-small (the main setting), TSL's teacher: dropout + Linear(384, 9) on every token,
// cross-entropy on the words' first sub-tokens, embeddings and layers 0-2 frozen, AdamW lr 5e-5 with
// weight decay 0.01, clipping to 1; batches of 16 English CoNLL sentences (data/prokd/eng.train.200,
// sentences 16k…16k+15 at step k), max 128 tokens. Training: sentences per second from the median of
// steps 2-11, and the process's peak memory after them (each side in its own process). Tagging:
// sentences per second over the 200 sentences, batch 32, best of 2 after a warm-up.
import Foundation
import BenchSupport
import ProKDCore
import Runtime

let (threads, _) = benchArguments(program: "prokd-bench", sections: [])
referenceBanner(threads, "prokd-bench")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
let e5 = root + "/data/models/multilingual-e5-small", data = root + "/data/prokd/eng.train.200"

let sentences = try readTaggedSentences(path: data)
let tags = collectTags(sentences.flatMap { $0.tags ?? [] })
let bundle = try TaggerFiles.fresh(ProKDConfig(tags: tags, baseModel: e5, maxLength: 128, freezeBottom: 3, role: .teacher), seed: 1)
let examples = try bundle.encoder.encode(sentences, labelled: true)
var options = TrainOptions()
(options.epochs, options.batch, options.lr) = (1, 16, 5e-5)
let training = try TeacherTraining(tagger: bundle.tagger, padId: bundle.padId, source: examples, target: [], cpa: nil, options: options)
var times: [Double] = []
for i in 0..<11 {
    let t = try once { _ = try training.step() }
    if i > 0 { times.append(t) }
}
let ourTrain = 16 / times.sorted()[times.count / 2], ourPeak = peakRSSMegabytes()
let encoded = try sentences.map { try bundle.encoder.encodeWords($0.words) }
_ = tagWords(bundle, Array(encoded.prefix(32)), batch: 32)
var ourTag = 0.0
for _ in 0..<2 { ourTag = max(ourTag, Double(encoded.count) / (once { _ = tagWords(bundle, encoded, batch: 32) })) }

let ref = runReference("prokd_bench.py", [String(threads), e5, data])
print("\nTSL teacher on multilingual-e5-small: Linear(384, \(tags.count)) on first sub-tokens, layers 0-2 and embeddings frozen, batch 16 CoNLL sentences")
print("reference: torch \((ref?["torch"] as? String) ?? "-"), transformers \((ref?["transformers"] as? String) ?? "-")")
print("".rightPad(36) + "ours".leftPad(10) + "PyTorch".leftPad(10) + "ratio".leftPad(8))
let rt = ref?["train_sent_s"] as? Double, rm = ref?["train_peak_mb"] as? Double, rp = ref?["tag_sent_s"] as? Double
print("training, sentences/s (median step)".rightPad(36) + fmt(ourTrain, 2).leftPad(10) + fmt(rt, 2).leftPad(10) + ratio(ourTrain, rt).leftPad(8))
print("peak memory after training, MB".rightPad(36) + fmt(ourPeak, 0).leftPad(10) + fmt(rm, 0).leftPad(10) + ratio(rm, ourPeak).leftPad(8) + "  (their MB / ours)")
print("tagging, sentences/s".rightPad(36) + fmt(ourTag).leftPad(10) + fmt(rp).leftPad(10) + ratio(ourTag, rp).leftPad(8))
