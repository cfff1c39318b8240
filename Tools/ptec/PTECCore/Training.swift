// Training the soft prompt and the head as the reference's PromptTrainer does: shuffled examples,
// gradients accumulated over `updateExamples` (32) examples per optimizer step, clipped to a global norm
// of 1, transformers' AdamW (ε 1e-6) with the soft prompt at `lr` and the head at `chLR`, the schedule
// stepped once per update (warmup: OneCycleLR, pct_start 0.3; exponential: down to 1 % at the last
// update; linear: 1 − t/total), dev macro-F1 after every epoch with early stopping.
//
// Fixed against the reference (each listed in --help and the README):
// - the loss of an update is the mean over its examples (the reference adds up 16 batch means:
//   `referenceLossSum` reproduces that scale, ×updateExamples/referenceBatch for ch, the plain sum for lh);
// - an epoch's last, smaller update is taken at the epoch's end (the reference carries those
//   gradients into the next epoch), so an epoch is ⌈N/32⌉ updates;
// - fp32 throughout (the reference trains fp16 weights without master copies).
//
// Everything random comes from (seed, epoch): a run resumed from a checkpoint reaches the weights of a
// run never stopped.
import Foundation
import Runtime

public enum ScheduleKind: String, Sendable, CaseIterable { case warmup, exponential, linear, constant }

public struct PTECTrainOptions: Sendable {
    public var epochs = 10
    public var lr: Float = 3e-3
    public var chLR: Float = 1e-5
    public var weightDecay: Float = 0
    public var batch = 8
    public var updateExamples = 32
    public var maxGradNorm: Float = 1
    public var schedule: ScheduleKind = .warmup
    public var pctStart = 0.3
    public var referenceLossSum = false
    public var referenceBatch = 2
    public var seed: UInt64 = 42
    public init() {}
}

/// One training example: the text's tokens, its labels as 0/1 per head row, and for lh the query
/// (text + " ") and target ("label; label" + EOS) tokens with the example's weight.
public struct PTECExample: Sendable {
    public var ids: [Int]
    public var targets: [Float]
    public var query: [Int] = []
    public var target: [Int] = []
    public var weight: Float = 1
    public init(ids: [Int], targets: [Float]) { (self.ids, self.targets) = (ids, targets) }
}

public struct PTECStepReport {
    public var update: Int, epoch: Int
    public var loss: Float, gradNorm: Float, lr: Float
    public var endsEpoch: Bool
}

public final class PTECTraining {
    public let model: PTECModel
    public let examples: [PTECExample]
    public let options: PTECTrainOptions
    public let optimizer: Adam
    let scheduler: LRScheduler
    public internal(set) var updatesDone = 0
    public let updatesPerEpoch: Int
    public var totalUpdates: Int { updatesPerEpoch * options.epochs }

    public init(model: PTECModel, examples: [PTECExample], options: PTECTrainOptions) throws {
        guard !examples.isEmpty else { throw PTECError("no training examples") }
        guard model.config.head != .probe else { throw PTECError("probe heads train on embeddings (ProbeTraining)") }
        (self.model, self.examples, self.options) = (model, examples, options)
        updatesPerEpoch = (examples.count + options.updateExamples - 1) / options.updateExamples
        var groups: [ParameterGroup] = []
        if model.softPrompt.requiresGrad { groups.append(ParameterGroup([model.softPrompt], lr: options.lr, weightDecay: options.weightDecay, name: "soft_prompt")) }
        if model.config.head == .ch { groups.append(ParameterGroup([model.head.weight], lr: options.chLR, weightDecay: options.weightDecay, name: "score")) }
        guard !groups.isEmpty else { throw PTECError("nothing to train: sp_len is 0 and the head is the LM's") }
        optimizer = Adam.huggingFaceAdamW(groups)
        let total = updatesPerEpoch * options.epochs
        let schedule: LRSchedule
        switch options.schedule {
        case .warmup: schedule = .oneCycle(total: total, pctStart: options.pctStart)
        case .exponential: schedule = .exponential(gamma: total > 1 ? pow(0.01, 1 / Double(total - 1)) : 1)
        case .linear: schedule = .linear(warmup: 0, total: total)
        case .constant: schedule = .constant
        }
        scheduler = LRScheduler(optimizer, schedule)
    }

    /// The examples of update `u` (0-based).
    public func updateExamples(_ u: Int) -> [Int] {
        let epoch = u / updatesPerEpoch, i = u % updatesPerEpoch
        let order = RandomGenerator(seed: options.seed, stream: 0x97EC_0000_0000 | UInt64(epoch)).permutation(examples.count)
        return Array(order[(i * options.updateExamples)..<min((i + 1) * options.updateExamples, examples.count)])
    }

    /// The loss of a micro-batch, scaled so the update's gradient is the mean over its examples (or the
    /// reference's sum).
    func microLoss(_ items: [PTECExample], updateCount: Int) -> Tensor {
        let share = Float(items.count) / Float(updateCount)
        switch model.config.head {
        case .ch:
            let scale = share * (options.referenceLossSum ? Float(updateCount) / Float(options.referenceBatch) : 1)
            return model.classificationLoss(items.map(\.ids), targets: items.map(\.targets)) * scale
        case .lh:
            let scale: Float = options.referenceLossSum ? 1 : 1 / Float(updateCount)
            return model.generationLoss(queries: items.map(\.query), targets: items.map(\.target), weights: items.map(\.weight)) * scale
        case .probe:
            preconditionFailure("probe heads are trained by ProbeTraining")
        }
    }

    public func step() throws -> PTECStepReport {
        let u = updatesDone
        let chosen = updateExamples(u).map { examples[$0] }
        optimizer.zeroGrad()
        var total: Float = 0
        for start in stride(from: 0, to: chosen.count, by: options.batch) {
            let items = Array(chosen[start..<min(start + options.batch, chosen.count)])
            let loss = microLoss(items, updateCount: chosen.count)
            loss.backward()
            total += loss.item()
        }
        let norm = clipGradNorm(optimizer.allParameters, maxNorm: options.maxGradNorm)
        guard total.isFinite && norm.isFinite else { throw PTECError("update \(u + 1): the loss is \(total), the gradient norm \(norm): lower the learning rate") }
        let lr = scheduler.currentLR
        optimizer.step()
        scheduler.step()
        updatesDone += 1
        return PTECStepReport(update: updatesDone, epoch: u / updatesPerEpoch + 1, loss: total, gradNorm: norm, lr: lr,
                              endsEpoch: updatesDone % updatesPerEpoch == 0)
    }

    public func stateTensors() -> [(String, Tensor)] { trainingState(model.trainedTensors, optimizer) }

    public func loadState(_ tensors: [String: Tensor], updates: Int) throws {
        try restoreTrainingState(tensors, trained: model.trainedTensors, optimizer: optimizer)
        guard updates <= totalUpdates else { throw PTECError("the checkpoint is at update \(updates), past this run's \(totalUpdates)") }
        while scheduler.t < updates { scheduler.step() }
        updatesDone = updates
    }
}

/// The reference's early stopping after each epoch's dev evaluation: a macro-F1 above the best by more
/// than `minDelta` is a new best; otherwise a bad epoch, and `patience` bad epochs stop the run; a
/// score at or below `interrupt` stops it too (a new best below it stops after being kept).
public struct EarlyStopping: Sendable {
    public var best = 0.0, badEpochs = 0
    public var minDelta = 0.005, patience = 2, interrupt = 0.07
    public init() {}

    /// (keep this model, stop after it).
    public mutating func observe(_ f1: Double) -> (keep: Bool, stop: Bool) {
        if f1 > best + minDelta {
            (best, badEpochs) = (f1, 0)
            return (true, f1 < interrupt)
        }
        badEpochs += 1
        return (false, badEpochs >= patience || f1 <= interrupt)
    }
}
