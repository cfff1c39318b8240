// Fine-tuning as the reference's scripts do with Hugging Face's Trainer: AdamW (β 0.9/0.999, ε 1e-8,
// weight decay 0.01 except on biases), the learning rate decaying linearly to 0 from the first step (no
// warm-up), gradients clipped to a global norm of 1, batches of 8, every example once per epoch in a
// fresh order. Trained: the LoRA adapters and the head; the base model stays frozen.
//
// Everything random comes from (seed, step): the epoch's order from (seed, epoch), the dropout masks
// (LoRA's and the head's) from (seed, step). A run resumed from a checkpoint reaches the weights of a
// run never stopped.
import Foundation
import Runtime

public struct LSTrainOptions: Sendable {
    public var epochs = 10
    public var batch = 8
    public var lr: Float = 1e-4
    public var weightDecay: Float = 0.01
    public var warmupRatio: Double = 0
    public var maxGradNorm: Float = 1.0
    public var seed: UInt64 = 42
    public init() {}
}

/// One training example, tokenized: ids and the targets the loss takes (seq: [class]; token: one per
/// token, −100 where no label applies).
public struct EncodedExample: Sendable {
    public var ids: [Int]
    public var targets: [Int]
}

public struct LSStepReport {
    public var step: Int, epoch: Int
    public var loss: Float, gradNorm: Float, lr: Float
}

/// Training examples from labelled data (labels must be among `config.labels`).
public func encodeTrainingExamples(_ bundle: LSBundle, sequences: [SequenceExample] = [], sentences: [TaggedSentence] = []) throws -> [EncodedExample] {
    let index = Dictionary(uniqueKeysWithValues: bundle.config.labels.enumerated().map { ($1, $0) })
    let encoder = bundle.encoder
    switch bundle.config.task {
    case .seq:
        return try sequences.enumerated().map { i, e in
            guard let l = e.label else { throw LSLlamaError("example \(i + 1) has no label") }
            guard let k = index[l] else { throw LSLlamaError("example \(i + 1): label '\(l)' is not one of \(bundle.config.labels)") }
            return EncodedExample(ids: try encoder.encode(e.text), targets: [k])
        }
    case .token:
        return try sentences.enumerated().map { i, s in
            guard let tags = s.tags else { throw LSLlamaError("sentence \(i + 1) has no tags") }
            let enc = try encoder.encode(words: s.words)
            var targets = [Int](repeating: -100, count: enc.ids.count)
            for (w, tokens) in enc.wordTokens.enumerated() {
                guard let k = index[tags[w]] else { throw LSLlamaError("sentence \(i + 1): tag '\(tags[w])' is not one of \(bundle.config.labels)") }
                if let first = tokens.first { targets[first] = k }
            }
            return EncodedExample(ids: enc.ids, targets: targets)
        }
    }
}

public final class LSTraining {
    public let bundle: LSBundle
    public let examples: [EncodedExample]
    public let options: LSTrainOptions
    public let optimizer: Adam
    let scheduler: LRScheduler
    public internal(set) var stepsDone = 0
    public let stepsPerEpoch: Int
    public var totalSteps: Int { stepsPerEpoch * options.epochs }

    public init(bundle: LSBundle, examples: [EncodedExample], options: LSTrainOptions) throws {
        guard !examples.isEmpty else { throw LSLlamaError("no training examples") }
        (self.bundle, self.examples, self.options) = (bundle, examples, options)
        stepsPerEpoch = (examples.count + options.batch - 1) / options.batch
        // Hugging Face's Trainer: no decay on biases and LayerNorm weights; here only the head's bias.
        optimizer = Adam.adamW(decayGroups(bundle.model, lr: options.lr, weightDecay: options.weightDecay))
        let total = stepsPerEpoch * options.epochs
        scheduler = LRScheduler(optimizer, .linear(warmup: Int((Double(total) * options.warmupRatio).rounded(.up)), total: total))
    }

    /// The examples of step `s` (0-based).
    public func batchExamples(_ s: Int) -> [Int] {
        let epoch = s / stepsPerEpoch, i = s % stepsPerEpoch
        let order = RandomGenerator(seed: options.seed, stream: 0x0D_0000_0000 | UInt64(epoch)).permutation(examples.count)
        return Array(order[(i * options.batch)..<min((i + 1) * options.batch, examples.count)])
    }

    /// A padded batch and its flat targets. Training steps pad to the longest row only (their batches
    /// are fixed, so nothing needs the panel alignment that keeps inference batch-independent).
    public static func batch(_ items: [EncodedExample], task: LSTask, padId: Int, panelAligned: Bool = true) -> (TokenBatch, [Int]) {
        let tokens = TokenBatch(items.map(\.ids), padId: padId, panelAligned: panelAligned)
        switch task {
        case .seq: return (tokens, items.map { $0.targets[0] })
        case .token:
            var t = [Int](repeating: -100, count: tokens.batch * tokens.length)
            for (b, e) in items.enumerated() { for (j, v) in e.targets.enumerated() { t[b * tokens.length + j] = v } }
            return (tokens, t)
        }
    }

    public func step() throws -> LSStepReport {
        let s = stepsDone
        let model = bundle.model
        let (tokens, targets) = Self.batch(batchExamples(s).map { examples[$0] }, task: model.config.task, padId: bundle.padId, panelAligned: false)
        model.train()
        model.seedDropout(seed: options.seed, step: s)
        let lr = scheduler.currentLR
        let (value, norm): (Float, Float)
        do { (value, norm) = try optimizer.update(model.loss(tokens, targets: targets), maxGradNorm: options.maxGradNorm) } catch {
            throw LSLlamaError("step \(s + 1): \(error)")
        }
        scheduler.step()
        stepsDone += 1
        // No Storage.releaseFreeMemory() here: the next step allocates the same activations again, and
        // trimming made every step fault its pages back in (15% of a SmolLM2 step in perf).
        return LSStepReport(step: stepsDone, epoch: (stepsDone - 1) / stepsPerEpoch + 1, loss: value, gradNorm: norm, lr: lr)
    }

    /// The trained tensors and the optimizer's state, for a checkpoint.
    public func stateTensors() -> [(String, Tensor)] { trainingState(bundle.model.trainedTensors(), optimizer) }

    public func loadState(_ tensors: [String: Tensor], steps: Int) throws {
        try restoreTrainingState(tensors, trained: bundle.model.trainedTensors(), optimizer: optimizer)
        guard steps <= totalSteps else { throw LSLlamaError("the checkpoint is at step \(steps), past this run's \(totalSteps)") }
        while scheduler.t < steps { scheduler.step() }
        stepsDone = steps
    }
}
