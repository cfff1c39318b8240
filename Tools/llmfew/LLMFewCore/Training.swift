// Training as the reference runs it (main.py, Trainer.py): Adam (lr 1e-3, no weight decay) on every
// trained tensor (PTCEnc, the LayerNorm, the head, the LoRA adapters), StepLR (every 50 epochs ×0.8)
// stepped once per epoch, batches of 4 in a fresh order each epoch (the last one smaller), 200 epochs,
// no gradient clipping.
//
// The K-shot training set is drawn as get_few_shot_samples draws it: classes in order of first
// appearance, K series per class sampled without replacement (all of a class with fewer). Before
// that, `validationSplit` of each class is held out for model selection (stratified): the reference
// picks the epoch with the best *test* accuracy instead, which reports a maximum over about 100 test
// evaluations (kept as an option, --reference-selection).
//
// Everything random comes from the seed: the split (stream 0x5B11), the shots (0x5407), each epoch's
// order (0x0D…|epoch), each step's dropout masks (seed, step), the initial weights. A run resumed from
// a checkpoint reaches the weights of a run never stopped.
import Runtime

public struct LLMFewTrainOptions: Sendable {
    public var epochs = 200
    public var batch = 4
    public var lr: Float = 1e-3
    public var weightDecay: Float = 0
    public var stepSize = 50
    public var gamma: Double = 0.8
    public var seed: UInt64 = 0
    public init() {}
}

/// Class indices in order of first appearance → the series' positions.
func groupByClass(_ targets: [Int]) -> [(Int, [Int])] {
    var order: [Int] = [], members: [Int: [Int]] = [:]
    for (i, t) in targets.enumerated() {
        if members[t] == nil { order.append(t) }
        members[t, default: []].append(i)
    }
    return order.map { ($0, members[$0]!) }
}

/// Positions held out per class: round(fraction · count), leaving at least one to train on.
public func stratifiedSplit(targets: [Int], fraction: Double, seed: UInt64) -> (train: [Int], held: [Int]) {
    guard fraction > 0 else { return (Array(targets.indices), []) }
    let rng = RandomGenerator(seed: seed, stream: 0x5B11)
    var train: [Int] = [], held: [Int] = []
    for (_, members) in groupByClass(targets) {
        let order = rng.permutation(members.count).map { members[$0] }
        let h = min(Int((Double(members.count) * fraction).rounded()), members.count - 1)
        held += order.prefix(h)
        train += order.dropFirst(h)
    }
    return (train.sorted(), held.sorted())
}

/// K positions per class (all of a class with fewer; K = 0: everything), classes in first-appearance
/// order as the reference lists them.
public func sampleShots(targets: [Int], k: Int, seed: UInt64) -> [Int] {
    guard k > 0 else { return Array(targets.indices) }
    let rng = RandomGenerator(seed: seed, stream: 0x5407)
    return groupByClass(targets).flatMap { _, members in
        members.count <= k ? members : Array(rng.permutation(members.count).prefix(k).map { members[$0] })
    }
}

public struct LLMFewStepReport {
    public var step: Int, epoch: Int
    public var loss: Float, lr: Float
}

public final class LLMFewTraining {
    public let model: LLMFewModel
    public let series: [Series]
    public let targets: [Int]
    public let options: LLMFewTrainOptions
    public let optimizer: Adam
    let scheduler: LRScheduler
    public internal(set) var stepsDone = 0
    public let stepsPerEpoch: Int
    public var totalSteps: Int { stepsPerEpoch * options.epochs }

    public init(model: LLMFewModel, series: [Series], targets: [Int], options: LLMFewTrainOptions) throws {
        guard !series.isEmpty else { throw LLMFewError("no training series") }
        guard series.count == targets.count else { throw LLMFewError("\(series.count) training series for \(targets.count) targets") }
        (self.model, self.series, self.targets, self.options) = (model, series, targets, options)
        stepsPerEpoch = (series.count + options.batch - 1) / options.batch
        optimizer = Adam(trainedTensors(model).map(\.1), lr: options.lr, weightDecay: options.weightDecay)
        scheduler = LRScheduler(optimizer, .step(size: options.stepSize, gamma: options.gamma))
    }

    /// The series of step `s` (0-based).
    public func batchIndices(_ s: Int) -> [Int] {
        let epoch = s / stepsPerEpoch, i = s % stepsPerEpoch
        let order = RandomGenerator(seed: options.seed, stream: 0x0D_0000_0000 | UInt64(epoch)).permutation(series.count)
        return Array(order[(i * options.batch)..<min((i + 1) * options.batch, series.count)])
    }

    public func step() throws -> LLMFewStepReport {
        let s = stepsDone
        let idx = batchIndices(s)
        model.train()
        model.seedDropout(seed: options.seed, step: s)
        let lr = scheduler.currentLR
        let loss = try model.loss(idx.map { series[$0] }, targets: idx.map { targets[$0] })
        let value: Float
        do { (value, _) = try optimizer.update(loss, maxGradNorm: .infinity) } catch {
            throw LLMFewError("step \(s + 1): \(error)")
        }
        stepsDone += 1
        if stepsDone % stepsPerEpoch == 0 { scheduler.step() }
        return LLMFewStepReport(step: stepsDone, epoch: (stepsDone - 1) / stepsPerEpoch + 1, loss: value, lr: lr)
    }

    public func stateTensors() -> [(String, Tensor)] { trainingState(trainedTensors(model), optimizer) }

    public func loadState(_ tensors: [String: Tensor], steps: Int) throws {
        try restoreTrainingState(tensors, trained: trainedTensors(model), optimizer: optimizer)
        guard steps <= totalSteps else { throw LLMFewError("the checkpoint is at step \(steps), past this run's \(totalSteps)") }
        while scheduler.t < steps / stepsPerEpoch { scheduler.step() }
        stepsDone = steps
    }
}

/// Every trained tensor by name: the model's own and the LoRA adapters.
public func trainedTensors(_ model: LLMFewModel) -> [(String, Tensor)] {
    model.ownTensors() + (model.backbone.map { $0.loraState().map { ("backbone." + $0.0, $0.1) } } ?? [])
}

/// The training and validation series of a run: the stratified hold-out first, then K shots per class
/// from the rest. Labels must be among `classes`.
public func selectTrainingSet(_ series: [Series], classes: [String], validationSplit: Double, shots: Int, seed: UInt64)
    throws -> (train: [Series], validation: [Series]) {
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    let targets = try series.enumerated().map { i, s -> Int in
        guard let l = s.label else { throw LLMFewError("training series \(i + 1) has no label") }
        guard let k = index[l] else { throw LLMFewError("training series \(i + 1): label '\(l)' is not one of \(classes)") }
        return k
    }
    let (rest, held) = stratifiedSplit(targets: targets, fraction: validationSplit, seed: seed)
    let shots = sampleShots(targets: rest.map { targets[$0] }, k: shots, seed: seed).map { rest[$0] }
    return (shots.map { series[$0] }, held.map { series[$0] })
}

/// Class indices of labelled series.
public func classTargets(_ series: [Series], classes: [String]) throws -> [Int] {
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    return try series.map { s in
        guard let l = s.label else { throw LLMFewError("a series without a label") }
        guard let k = index[l] else { throw LLMFewError("label '\(l)' is not one of \(classes)") }
        return k
    }
}
