// llmfew-bench: training epoch time, peak memory and prediction speed against PyTorch + PEFT running the
// same LLMFew model.
//
//   llmfew-bench [--threads N]   (REFPYTHON=python with torch, transformers, peft, gguf; `make refenv`)
//
// SmolLM2-135M-Instruct (the GGUF; both sides dequantize it to fp32) with LoRA r 8, α 32, dropout 0.1 on
// q_proj/v_proj; PTCEnc 256 channels, depth 3, reduced 128, kernel 3; dropout 0.1; Adam 1e-3; one
// softmax. The data: BasicMotions (data/llmfew), the first 32 training series (an all-shot epoch after the
// 20% validation split: 8 steps of 4 series, 12 patches each) and the 40 test series. Epoch time: the
// median of 3 epochs after one warm-up step; peak memory: the process's after them (each side in its own
// process); prediction: test series per second, batch 4, best of 2 after a warm-up.
import Foundation
import BenchSupport
import LLMFewCore
import Runtime

let (threads, _) = benchArguments(program: "llmfew-bench", sections: [])
referenceBanner(threads, "llmfew-bench")
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
let smolDir = root + "/data/models/SmolLM2-135M-Instruct", smolFile = "SmolLM2-135M-Instruct.Q4_1.gguf"
let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("llmfew-bench-\(getpid())").path
try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: tmp) }

let train = Array(try readTSFile(root + "/data/llmfew/BasicMotions_TRAIN.ts").prefix(32))
let test = try readTSFile(root + "/data/llmfew/BasicMotions_TEST.ts")
let classes = sortedClasses(train.compactMap(\.label))
let targets = try classTargets(train, classes: classes)
let epochs = 3
try JSONSerialization.data(withJSONObject: ["train": train.map { $0.channels.map { $0.map(Double.init) } }, "targets": targets,
                                            "test": test.map { $0.channels.map { $0.map(Double.init) } }, "classes": classes.count, "epochs": epochs])
    .write(to: URL(fileURLWithPath: tmp + "/data.json"))

var config = LLMFewConfig(classes: classes, dimensions: 6, length: 100, width: 1)
config.baseModel = smolDir + "/" + smolFile
let model = try LLMFewFiles.fresh(config, seed: 1)
var options = LLMFewTrainOptions()
options.epochs = epochs + 1
let training = try LLMFewTraining(model: model, series: train, targets: targets, options: options)
_ = try training.step()
// The rest of the first epoch, then whole epochs timed (the warm-up took one step of the first epoch).
for _ in 1..<training.stepsPerEpoch { _ = try training.step() }
var times: [Double] = []
for _ in 0..<epochs { times.append(try once { for _ in 0..<training.stepsPerEpoch { _ = try training.step() } }) }
let ourEpoch = times.sorted()[times.count / 2], ourPeak = peakRSSMegabytes()
_ = try predictProbabilities(model, test, batch: 4)
var ourPredict = 0.0
for _ in 0..<2 { ourPredict = max(ourPredict, Double(test.count) / (try once { _ = try predictProbabilities(model, test, batch: 4) })) }

let ref = runReference("llmfew_bench.py", [String(threads), smolDir, smolFile, tmp + "/data.json"])
print("\nLLMFew on SmolLM2-135M (fp32 from the Q4_1 GGUF), LoRA r 8 on q/v, PTCEnc 256/3/128; BasicMotions, 32 series × 12 patches per epoch, batch 4")
print("reference: torch \((ref?["torch"] as? String) ?? "-"), transformers \((ref?["transformers"] as? String) ?? "-"), peft \((ref?["peft"] as? String) ?? "-")")
print("".rightPad(36) + "ours".leftPad(10) + "PyTorch+PEFT".leftPad(14) + "ratio".leftPad(8))
let re = ref?["epoch_s"] as? Double, rm = ref?["peak_mb"] as? Double, rp = ref?["predict_per_s"] as? Double
print("training epoch, s (median of \(epochs))".rightPad(36) + fmt(ourEpoch, 2).leftPad(10) + fmt(re, 2).leftPad(14) + ratio(re, ourEpoch).leftPad(8) + "  (their s / ours)")
print("peak memory after training, MB".rightPad(36) + fmt(ourPeak, 0).leftPad(10) + fmt(rm, 0).leftPad(14) + ratio(rm, ourPeak).leftPad(8) + "  (their MB / ours)")
print("prediction, series/s".rightPad(36) + fmt(ourPredict).leftPad(10) + fmt(rp).leftPad(14) + ratio(ourPredict, rp).leftPad(8))
