// Training a small byte-level LLaMA from scratch with the runtime (autograd through the LLaMA
// backbone), so length generalization can be studied on a model whose trained length a CPU can
// exceed many times over. Saves config.json + model.safetensors + tokenizer.json (+ tokenizer_config),
// a directory transformers loads as it is.
//
// The run is durable (RunDirectory): the log grows a line per step; every checkpointEvery steps the
// weights, AdamW's moments and the batch sampler's position go into checkpoint.safetensors; a killed
// run resumes there and ends with the weights of one never interrupted.
import Foundation
import Runtime
import RuntimeCLI

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

extension SmallLMOptions {
    /// What the result depends on (a resumed run must find it unchanged).
    public var json: JSONValue {
        .object(["context": .number(JSONNumber(context)), "layers": .number(JSONNumber(layers)), "hidden": .number(JSONNumber(hidden)),
                 "heads": .number(JSONNumber(heads)), "kv_heads": .number(JSONNumber(kvHeads)), "intermediate": .number(JSONNumber(intermediate)),
                 "steps": .number(JSONNumber(steps)), "batch": .number(JSONNumber(batch)), "lr": .number(JSONNumber(lr) ?? JSONNumber(0)),
                 "warmup": .number(JSONNumber(warmup)), "weight_decay": .number(JSONNumber(weightDecay) ?? JSONNumber(0)),
                 "seed": .number(JSONNumber(Int(seed & ((1 << 53) - 1)))), "eval_every": .number(JSONNumber(evalEvery)),
                 "eval_batches": .number(JSONNumber(evalBatches))])
    }
}

/// The files a small-model run writes into its directory.
public let smallLMRunFiles = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "log.jsonl"]

/// Training stopped because the loss was not finite.
public struct SmallLMStopped: Error, CustomStringConvertible {
    public let step: Int, loss: Float
    public var description: String { "stopped at step \(step): the loss is \(loss); the model of step \(step - 1) was written (a lower --lr?)" }
}

/// Trains on the bytes of `text` (the last 10% held out for validation) in `run` (its directory gets the
/// model); `log` gets a line per step. Throws SmallLMStopped after saving the last good model.
public func trainSmallLM(text: [UInt8], options o: SmallLMOptions, run: RunDirectory, log: RunLog,
                         checkpointEvery: Int) throws -> LLaMAModel {
    guard text.count > 20 * (o.context + 1) else {
        throw LoadError(path: run.path, problem: "the training text (\(text.count) bytes) is too short for context \(o.context): it needs \(20 * (o.context + 1) + 1)")
    }
    // Batch starts are drawn with nextInt(below:), which takes 32-bit bounds.
    guard text.count * 9 / 10 - o.context - 1 <= Int(UInt32.max) else {
        throw LoadError(path: run.path, problem: "the training text (\(text.count) bytes) is too long: batches start at one of at most 2^32 positions")
    }
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
    var rng = RandomGenerator(seed: o.seed, stream: 2)
    var first = 1
    if let (info, tensors) = run.resumed {
        do {
            try model.load(state: Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix("model.") }
                                                .map { (String($0.key.dropFirst(6)), $0.value) }))
            var own: [String: Tensor] = [:]
            for (k, t) in tensors where k.hasPrefix("optimizer.") { own[String(k.dropFirst(10))] = t }
            try opt.loadState(own)
        } catch { throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "\(error)") }
        // The offset is written back as an Int at every checkpoint: one near Int.max would overflow then.
        guard let offset = (try? info.extra["sampler_offset"]?.numberValue?.int()) ?? nil, offset >= 0, offset < 1 << 62 else {
            throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "no sampler position")
        }
        guard info.step <= o.steps else {
            throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "checkpoint of step \(info.step), past the run's \(o.steps) steps")
        }
        rng = RandomGenerator(seed: o.seed, stream: 2, offset: UInt64(offset))
        first = info.step + 1
        for _ in 1..<first { schedule.step() }
    }
    let start = Date()
    let t = o.context
    func checkpoint(_ step: Int) throws {
        try log.file.sync()
        try run.saveCheckpoint(model.namedState().map { ("model." + $0.0, $0.1) } + opt.stateTensors().map { ("optimizer." + $0.0, $0.1) },
                               info: CheckpointInfo(step: step, lines: ["log.jsonl": log.lines],
                                                    extra: .object(["sampler_offset": .number(JSONNumber(Int(rng.offset)))])))
    }

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

    for step in first...max(first, o.steps) where step <= o.steps {
        let starts = (0..<o.batch).map { _ in rng.nextInt(below: train.count - t - 1) }
        let (ids, targets) = batchFrom(train, starts)
        let loss = crossEntropy(model(ids: ids, batch: o.batch).reshaped([-1, config.vocabSize]), targets: targets)
        guard loss.item().isFinite else {
            model.eval()
            try saveSmallLM(model, to: run.path)
            throw SmallLMStopped(step: step, loss: loss.item())
        }
        opt.zeroGrad()
        loss.backward()
        clipGradNorm(opt.allParameters, maxNorm: 1)
        let lr = schedule.currentLR
        opt.step()
        schedule.step()
        let evaluate = step % o.evalEvery == 0 || step == o.steps
        var entry = LogEntry()
        entry.set("step", int: step)
        entry.set("loss", loss.item())
        entry.set("lr", lr)
        entry.set("seconds", (Date().timeIntervalSince(start) * 10).rounded() / 10)
        let nll = evaluate ? validNLL() : nil
        if let nll { entry.set("valid_nll", nll) }
        try log.write(entry, progress: step % 10 == 0 || nll != nil
                      ? "step \(step)/\(o.steps) loss \(String(format: "%.3f", loss.item()))\(nll.map { String(format: " valid %.3f", $0) } ?? "")" : nil)
        if step % checkpointEvery == 0 || step == o.steps { try checkpoint(step) }
    }
    log.finish()
    model.eval()
    try saveSmallLM(model, to: run.path)
    return model
}

/// The model files (config.json, model.safetensors, tokenizer.json, tokenizer_config.json), each written
/// atomically into `out`.
func saveSmallLM(_ model: LLaMAModel, to out: String) throws {
    try model.save(to: out)
    var w = JSONWriter()
    w.write(ByteTokenizerFile.json())
    try writeFile(w.bytes, to: out + "/tokenizer.json")
    let tc = #"{"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|endoftext|>", "model_max_length": \#(model.config.maxPositionEmbeddings)}"#
    try writeFile(tc, to: out + "/tokenizer_config.json")
}
