// Training a small byte-level LLaMA from scratch with the runtime (autograd through the LLaMA
// backbone), so length generalization can be studied on a model whose trained length a CPU can
// exceed many times over. Saves config.json + model.safetensors + tokenizer.json (+ tokenizer_config),
// a directory transformers loads as it is.
import Foundation
import Runtime

public struct SmallLMOptions: Sendable {
    public var context = 256
    public var layers = 4
    public var hidden = 256
    public var heads = 8
    public var kvHeads = 4
    public var intermediate = 688
    public var steps = 1500
    public var batch = 16
    public var lr: Float = 3e-3
    public var warmup = 100
    public var weightDecay: Float = 0.1
    public var seed: UInt64 = 0
    public var evalEvery = 250
    public var evalBatches = 16
    public init() {}
}

public struct TrainLogEntry: Sendable {
    public var step: Int, loss: Float, lr: Float, seconds: Double
    public var validNLL: Double?
}

/// Trains on the bytes of `text` (the last 10% held out for validation) and writes the model to `out`.
public func trainSmallLM(text: [UInt8], options o: SmallLMOptions, out: String,
                         log: (TrainLogEntry) -> Void) throws -> LLaMAModel {
    precondition(text.count > 20 * (o.context + 1), "trainSmallLM: text too short for context \(o.context)")
    let split = text.count * 9 / 10
    let train = Array(text[..<split]), valid = Array(text[split...])
    var config = LLaMAConfig(vocabSize: 257, hiddenSize: o.hidden, intermediateSize: o.intermediate, numHiddenLayers: o.layers,
                             numAttentionHeads: o.heads, numKeyValueHeads: o.kvHeads)
    config.maxPositionEmbeddings = o.context
    config.tieWordEmbeddings = true
    config.rmsNormEps = 1e-5
    config.eosTokenIds = [256]
    Initializer.seed(o.seed)
    let model = try LLaMAModel(config: config, weights: InitLoader(generator: RandomGenerator(seed: o.seed, stream: 1)))
    model.train()
    let opt = Adam.adamW(decayGroups(model, lr: o.lr, weightDecay: o.weightDecay), betas: (0.9, 0.95))
    let schedule = LRScheduler(opt, .cosine(warmup: o.warmup, total: o.steps))
    let rng = RandomGenerator(seed: o.seed, stream: 2)
    let start = Date()
    let t = o.context

    func batchFrom(_ data: [UInt8], _ starts: [Int]) -> (ids: [Int], targets: [Int]) {
        var ids: [Int] = [], targets: [Int] = []
        for s in starts {
            ids += data[s..<(s + t)].map(Int.init)
            targets += data[(s + 1)...(s + t)].map(Int.init)
        }
        return (ids, targets)
    }

    func validNLL() -> Double {
        model.eval()
        defer { model.train() }
        let stride = max(1, (valid.count - t - 1) / (o.evalBatches * o.batch))
        var total = 0.0, n = 0
        withoutGrad {
            for b in 0..<o.evalBatches {
                let starts = (0..<o.batch).map { min(valid.count - t - 1, (b * o.batch + $0) * stride) }
                let (ids, targets) = batchFrom(valid, starts)
                let logits = model(ids: ids, batch: o.batch)
                total += Double(crossEntropy(logits.reshaped([-1, config.vocabSize]), targets: targets).item())
                n += 1
            }
        }
        return total / Double(n)
    }

    for step in 1...o.steps {
        let starts = (0..<o.batch).map { _ in rng.nextInt(below: train.count - t - 1) }
        let (ids, targets) = batchFrom(train, starts)
        let loss = crossEntropy(model(ids: ids, batch: o.batch).reshaped([-1, config.vocabSize]), targets: targets)
        opt.zeroGrad()
        loss.backward()
        clipGradNorm(opt.allParameters, maxNorm: 1)
        let lr = schedule.currentLR
        opt.step()
        schedule.step()
        let evaluate = step % o.evalEvery == 0 || step == o.steps
        log(TrainLogEntry(step: step, loss: loss.item(), lr: lr, seconds: Date().timeIntervalSince(start),
                          validNLL: evaluate ? validNLL() : nil))
    }
    model.eval()
    try saveSmallLM(model, to: out)
    return model
}

/// The model directory, written to a temporary name and renamed into place.
func saveSmallLM(_ model: LLaMAModel, to out: String) throws {
    let tmp = out + ".partial-\(getpid())"
    try? FileManager.default.removeItem(atPath: tmp)
    try model.save(to: tmp)
    var w = JSONWriter()
    w.write(ByteTokenizerFile.json())
    try Data(w.bytes).write(to: URL(fileURLWithPath: tmp + "/tokenizer.json"))
    let tc = #"{"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|endoftext|>", "model_max_length": \#(model.config.maxPositionEmbeddings)}"#
    try writeFile(tc, to: tmp + "/tokenizer_config.json")
    try? FileManager.default.removeItem(atPath: out)
    try FileManager.default.moveItem(atPath: tmp, toPath: out)
}
