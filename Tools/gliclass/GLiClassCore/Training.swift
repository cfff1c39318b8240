// Fine-tuning a GLiClass model, as the reference's train.py with its Trainer (gliclass/training.py):
//
//   AdamW (β 0.9/0.999, ε 1e-8) in four groups: parameters named "…encoder…" (not the scorer's) at
//   encoderLR, the heads at lr; weight decay on each, none on biases and normalization weights;
//   Hugging Face's linear schedule (warm-up over ⌈warmupRatio · steps⌉ steps, the first step at lr 0),
//   gradients clipped to a global norm of maxGradNorm; batches of `batch` items, every item once per
//   epoch in a fresh order; each drawn item augmented (Augmenter.swift).
//
// Everything random comes from (seed, step): the epoch's order from (seed, epoch), an item's
// augmentation from (seed, step, slot), dropout masks from (seed, step). A run resumed from a
// checkpoint (model, optimizer moments and the step) reaches the weights of a run never stopped.
import Foundation
import Runtime

public struct TrainOptions: Sendable {
    public var epochs = 3
    public var batch = 8
    public var lr: Float = 3e-5
    public var encoderLR: Float = 1e-5
    public var weightDecay: Float = 0.01
    public var encoderWeightDecay: Float = 0.01
    public var warmupRatio: Double = 0.05
    public var maxGradNorm: Float = 1.0
    public var maxLength = 1024
    public var seed: UInt64 = 42
    public var augment = AugmentOptions()
    /// Parameters whose name contains this stay as they are (e.g. "encoder": train the heads only).
    public var freeze: String? = nil
    /// Cut long inputs from the right as the reference does (labels may be cut off).
    public var referenceTruncation = false
    /// The reinforcement-learning trainer instead of the supervised loss (RLTraining.swift).
    public var rl: RLOptions? = nil
    public init() {}
}

/// What one optimizer step did.
public struct StepReport {
    public var step: Int, epoch: Int
    public var loss: Float
    public var gradNorm: Float
    public var lr: Float
    public var items: Int
    /// RL: the batch's mean reward (F1 of the drawn label sets).
    public var reward: Float? = nil
}

public final class GLiClassTraining {
    public let bundle: GLiClassBundle
    public let options: TrainOptions
    public let items: [TrainingItem]
    public let optimizer: Adam
    let scheduler: LRScheduler
    let augmenter: Augmenter
    let encoder: InputEncoder
    public internal(set) var stepsDone = 0
    /// The frozen start model the RL trainer's KL term compares with (only with a positive KL weight).
    public var referenceModel: GLiClassModel? = nil
    public let stepsPerEpoch: Int
    public var totalSteps: Int { stepsPerEpoch * options.epochs }

    public init(bundle: GLiClassBundle, items: [TrainingItem], options: TrainOptions) throws {
        guard !items.isEmpty else { throw GLiClassError("no training items") }
        self.bundle = bundle
        self.items = items
        self.options = options
        stepsPerEpoch = (items.count + options.batch - 1) / options.batch
        augmenter = Augmenter(items: items, options: options.augment)
        encoder = InputEncoder(tokenizer: bundle.tokenizer, maxLength: options.maxLength, promptFirst: bundle.model.config.promptFirst,
                               referenceTruncation: options.referenceTruncation)
        let model = bundle.model
        model.unfreeze()
        if let f = options.freeze { model.freeze(where: { $0.contains(f) }) }
        optimizer = Adam.adamW(Self.groups(model, options))
        let total = stepsPerEpoch * options.epochs
        let warmup = Int((Double(total) * options.warmupRatio).rounded(.up))
        scheduler = LRScheduler(optimizer, options.rl != nil ? .constant : .linear(warmup: warmup, total: total))
    }

    /// The reference's four AdamW groups (training.py create_optimizer).
    static func groups(_ model: GLiClassModel, _ o: TrainOptions) -> [ParameterGroup] {
        var buckets: [[Tensor]] = [[], [], [], []]
        for (name, p) in model.namedParameters() where p.requiresGrad {
            let encoderPart = name.contains("encoder") && !name.contains("scorer")
            let last = name.split(separator: ".").dropLast().last.map(String.init) ?? ""
            let noDecay = name.contains("bias") || last.lowercased().contains("norm")
            buckets[(encoderPart ? 0 : 2) + (noDecay ? 1 : 0)].append(p)
        }
        return [ParameterGroup(buckets[0], lr: o.encoderLR, weightDecay: o.encoderWeightDecay, name: "encoder"),
                ParameterGroup(buckets[1], lr: o.encoderLR, weightDecay: 0, name: "encoder_no_decay"),
                ParameterGroup(buckets[2], lr: o.lr, weightDecay: o.weightDecay, name: "others"),
                ParameterGroup(buckets[3], lr: o.lr, weightDecay: 0, name: "others_no_decay")].filter { !$0.parameters.isEmpty }
    }

    /// The items of step `s` (0-based), in order.
    func batchItems(_ s: Int) -> [Int] {
        let epoch = s / stepsPerEpoch, i = s % stepsPerEpoch
        let order = RandomGenerator(seed: options.seed, stream: 0x0D_0000_0000 | UInt64(epoch)).permutation(items.count)
        return Array(order[(i * options.batch)..<Swift.min((i + 1) * options.batch, items.count)])
    }

    /// The model inputs and targets of step `s`.
    func prepare(_ s: Int) throws -> (ids: [[Int]], targets: [[Float]]) {
        var ids: [[Int]] = [], targets: [[Float]] = []
        let single = bundle.model.config.problemType == .singleLabel
        for (slot, index) in batchItems(s).enumerated() {
            let g = RandomGenerator(seed: options.seed, stream: 0xA0_0000_0000 | (UInt64(s) << 8) | UInt64(slot & 0xFF))
            let item = augmenter.augment(index, g)
            var input = ClassificationInput(text: item.text, labels: item.allLabels, examples: item.examples, prompt: item.prompt)
            do {
                // Few-shot examples are kept only when the whole input fits: otherwise they would push
                // the item's own text out (the reference cuts whatever passes max_length, labels included).
                if !input.examples.isEmpty,
                   try encoder.tokenizer.encode(input.string(promptFirst: encoder.promptFirst), maxLength: nil).count > encoder.maxLength {
                    input.examples = []
                }
                ids.append(try encoder.encode(input))
            } catch { throw GLiClassError("training item \(index): \(error)") }
            if single {
                let first = item.trueOrder.first
                targets.append(item.allLabels.map { $0 == first ? 1 : 0 })
            } else {
                targets.append(item.allLabels.map { item.trueLabels[$0] ?? 0 })
            }
        }
        return (ids, targets)
    }

    /// One optimizer step.
    public func step() throws -> StepReport {
        if let rl = options.rl {
            let lr = scheduler.currentLR
            let r = try rlStep(rl)
            scheduler.step()
            stepsDone += 1
            Storage.releaseFreeMemory()
            return StepReport(step: stepsDone, epoch: (stepsDone - 1) / stepsPerEpoch + 1, loss: r.loss, gradNorm: r.norm, lr: lr,
                              items: r.items, reward: r.reward)
        }
        let s = stepsDone
        let (ids, targets) = try prepare(s)
        let model = bundle.model
        model.train()
        model.seedDropout(seed: options.seed, step: s)
        let lr = scheduler.currentLR
        let out = model(TokenBatch(ids, padId: model.backbone.descriptor.padId ?? 0),
                        slots: model.config.labelSlots(targets.map(\.count)), targets: Targets(targets))
        let (value, norm): (Float, Float)
        // invariant: targets were given, so the output has a loss
        do { (value, norm) = try optimizer.update(out.loss!, maxGradNorm: options.maxGradNorm) } catch {
            throw GLiClassError("step \(s + 1): \(error)")
        }
        scheduler.step()
        stepsDone += 1
        Storage.releaseFreeMemory()
        return StepReport(step: stepsDone, epoch: (stepsDone - 1) / stepsPerEpoch + 1, loss: value, gradNorm: norm, lr: lr, items: ids.count)
    }

    /// The model's tensors and the optimizer's state, for a checkpoint.
    public func stateTensors() -> [(String, Tensor)] {
        bundle.model.namedState() + optimizer.stateTensors().map { ("optimizer.\($0.0)", $0.1) }
    }

    /// Restores a checkpoint written after `steps` steps.
    public func loadState(_ tensors: [String: Tensor], steps: Int) throws {
        var model: [String: Tensor] = [:], state: [String: Tensor] = [:]
        for (k, v) in tensors {
            if k.hasPrefix("optimizer.") { state[String(k.dropFirst("optimizer.".count))] = v } else { model[k] = v }
        }
        try bundle.model.load(state: model)
        try optimizer.loadState(state)
        guard steps <= totalSteps else { throw GLiClassError("the checkpoint is at step \(steps), past this run's \(totalSteps)") }
        while scheduler.t < steps { scheduler.step() }
        stepsDone = steps
    }
}

/// Multi-label (σ ≥ threshold) or single-label (argmax) scores of `model` on labelled items.
public func evaluate(_ bundle: GLiClassBundle, items: [TrainingItem], maxLength: Int, threshold: Float = 0.5, batch: Int = 8) -> ClassificationScores {
    evaluateWithTop1(bundle, items: items, maxLength: maxLength, threshold: threshold, batch: batch).scores
}

/// The scores, the share of items whose best-scored label is one of their true labels, and how many
/// items could not be scored (labels that do not fit maxLength): those are left out of both.
/// `singleLabel`: decide by the argmax (default: as the model was trained).
public func evaluateWithTop1(_ bundle: GLiClassBundle, items: [TrainingItem], maxLength: Int, threshold: Float = 0.5,
                             batch: Int = 8, singleLabel: Bool? = nil) -> (scores: ClassificationScores, top1: Double, unscored: Int) {
    var options = PredictOptions()
    options.threshold = threshold
    options.batch = batch
    options.singleLabel = singleLabel ?? (bundle.model.config.problemType == .singleLabel)
    bundle.model.eval()
    let predictor = Predictor(bundle: bundle, maxLength: maxLength, options: options)
    let inputs = items.map { ClassificationInput(text: $0.text, labels: $0.allLabels, examples: $0.examples, prompt: $0.prompt) }
    var gold: [Set<String>] = [], predicted: [Set<String>] = []
    var hits = 0, unscored = 0
    for (item, result) in zip(items, predictor.predict(inputs)) {
        guard case .success(let p) = result else { unscored += 1; continue }
        let truth = options.singleLabel ? Set(item.trueOrder.prefix(1)) : Set(item.trueLabels.filter { $0.value >= 0.5 }.keys)
        gold.append(truth)
        predicted.append(Set(p.chosen.map { p.labels[$0] }))
        if truth.contains(p.labels[p.best]) { hits += 1 }
    }
    return (ClassificationScores.multiLabel(gold: gold, predicted: predicted), gold.isEmpty ? 0 : Double(hits) / Double(gold.count), unscored)
}
