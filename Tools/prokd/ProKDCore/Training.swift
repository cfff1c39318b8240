// Training as TSL does it (microsoft/vert-papers SingleMulti-TS): AdamW (β 0.9/0.999, ε 1e-8, weight
// decay 0.01 except biases and LayerNorm weights), linear warm-up over a share of the steps then linear
// decay to 0, gradients clipped to a global norm of 1, every example once per epoch in a fresh order.
//
// Teacher: cross-entropy on the source words' first sub-tokens; with CPA, after the warm-up epochs, plus
// λ_CPA · L_CPA on a source batch and a target batch (Prototypes.swift).
// Student: TSL's distillation, MSE between the student's softmax and the teacher's over the target
// words' first sub-tokens (mean over words × tags); with PST, from an epoch on, plus λ_PST · CE towards
// the rectified pseudo-labels of the words confident enough.
//
// Everything random comes from (seed, step): the epoch's order from (seed, epoch), the target batches
// of CPA from (seed, pass over the target set), dropout from (seed, step). A run resumed from a
// checkpoint reaches the weights of a run never stopped.
import Foundation
import Runtime

public struct TrainOptions: Sendable {
    public var epochs = 3
    public var batch = 32
    public var lr: Float = 5e-5
    public var weightDecay: Float = 0.01
    public var warmupRatio: Double = 0.1
    public var maxGradNorm: Float = 1.0
    public var seed: UInt64 = 22
    public init() {}
}

public struct CPAOptions: Sendable {
    public var weight: Float = 0.1
    public var temperature: Float = 0.1
    public var momentum: Float = 0.9
    /// Target words whose teacher confidence is below this take no part.
    public var threshold: Float = 0.9
    public var granularity: PrototypeGranularity = .types
    /// Epochs of cross-entropy alone before the alignment starts.
    public var warmupEpochs = 1
    public init() {}
}

public struct PSTOptions: Sendable {
    public var weight: Float = 1.0
    public var temperature: Float = 0.1
    public var threshold: Float = 0.9
    public var distance: PrototypeDistance = .cosine
    public var granularity: PrototypeGranularity = .types
    /// The first (1-based) epoch with self-training; the epochs before distil only.
    public var fromEpoch = 2
    public init() {}
}

public struct StepReport {
    public var step: Int, epoch: Int
    public var loss: Float, gradNorm: Float, lr: Float
    /// The loss's parts (ce, cpa / kd, pst) and counts (cpa_classes, pst_words).
    public var parts: [(String, Double)] = []
}

/// What every trainer shares: the optimizer, schedule, epoch orders and checkpoint state.
public class TaggerTraining {
    public let tagger: TokenTagger
    public let padId: Int
    public let options: TrainOptions
    public let optimizer: Adam
    let scheduler: LRScheduler
    public internal(set) var stepsDone = 0
    public let stepsPerEpoch: Int
    public let exampleCount: Int
    public var totalSteps: Int { stepsPerEpoch * options.epochs }

    init(tagger: TokenTagger, padId: Int, examples: Int, options: TrainOptions) throws {
        guard examples > 0 else { throw ProKDError("no training sentences") }
        (self.tagger, self.padId, self.options, exampleCount) = (tagger, padId, options, examples)
        stepsPerEpoch = (examples + options.batch - 1) / options.batch
        optimizer = Adam.adamW(decayGroups(tagger, lr: options.lr, weightDecay: options.weightDecay))
        let total = stepsPerEpoch * options.epochs
        scheduler = LRScheduler(optimizer, .linear(warmup: Int((Double(total) * options.warmupRatio).rounded(.up)), total: total))
    }

    /// The examples of step `s` (0-based).
    public func batchExamples(_ s: Int) -> [Int] {
        let epoch = s / stepsPerEpoch, i = s % stepsPerEpoch
        let order = RandomGenerator(seed: options.seed, stream: 0x0E_0000_0000 | UInt64(epoch)).permutation(exampleCount)
        return Array(order[(i * options.batch)..<min((i + 1) * options.batch, exampleCount)])
    }

    func epoch(ofStep s: Int) -> Int { s / stepsPerEpoch + 1 }

    /// The word rows of a batch as the tagger sees them at inference: eval mode (no dropout anywhere),
    /// no gradient; training mode is restored after.
    func inferenceRows(_ b: TaggerBatch) -> Tensor {
        tagger.eval()
        defer { tagger.train() }
        return withoutGrad { b.wordRows(tagger.features(b.tokens)) }
    }

    /// Backward, clip, AdamW and the schedule; the report of the step just taken.
    func apply(_ loss: Tensor, parts: [(String, Double)]) throws -> StepReport {
        let s = stepsDone, lr = scheduler.currentLR
        let (value, norm): (Float, Float)
        do { (value, norm) = try optimizer.update(loss, maxGradNorm: options.maxGradNorm) } catch { throw ProKDError("step \(s + 1): \(error)") }
        scheduler.step()
        stepsDone += 1
        return StepReport(step: stepsDone, epoch: epoch(ofStep: s), loss: value, gradNorm: norm, lr: lr, parts: parts)
    }

    /// The prefix of the trainer's own checkpoint tensors.
    static let extraPrefix = "prokd."

    /// The trained tensors, the optimizer's state and the trainer's own (prototypes), for a checkpoint.
    public func stateTensors() -> [(String, Tensor)] { trainingState(tagger.trainedTensors(), optimizer) + extraState() }
    func extraState() -> [(String, Tensor)] { [] }
    func loadExtraState(_ tensors: [String: Tensor]) throws {}

    public func loadState(_ tensors: [String: Tensor], steps: Int) throws {
        try restoreTrainingState(tensors.filter { !$0.key.hasPrefix(Self.extraPrefix) }, trained: tagger.trainedTensors(), optimizer: optimizer)
        try loadExtraState(tensors)
        guard steps <= totalSteps else { throw ProKDError("the checkpoint is at step \(steps), past this run's \(totalSteps)") }
        while scheduler.t < steps { scheduler.step() }
        stepsDone = steps
    }
}

public final class TeacherTraining: TaggerTraining {
    public let source: [TaggerExample]
    public let target: [TaggerExample]
    public let cpa: CPAOptions?
    let classOfTag: [Int]
    var emaSource: EMAPrototypes, emaTarget: EMAPrototypes

    /// `target` (unlabelled) is read only with `cpa`.
    public init(tagger: TokenTagger, padId: Int, source: [TaggerExample], target: [TaggerExample], cpa: CPAOptions?, options: TrainOptions) throws {
        if cpa != nil && target.isEmpty { throw ProKDError("prototype alignment needs target sentences") }
        (self.source, self.target, self.cpa) = (source, target, cpa)
        let (ofTag, names) = tagger.config.prototypeClasses(cpa?.granularity ?? .types)
        classOfTag = ofTag
        let width = tagger.backbone.descriptor.hiddenSize
        emaSource = EMAPrototypes(classes: names.count, width: width, momentum: cpa?.momentum ?? 0.9)
        emaTarget = emaSource
        try super.init(tagger: tagger, padId: padId, examples: source.count, options: options)
    }

    /// The target examples of step `s`: consecutive slices of per-pass permutations of the target set.
    func targetBatch(_ s: Int) -> [Int] {
        let n = target.count
        return (0..<options.batch).map { i in
            let p = s * options.batch + i
            return RandomGenerator(seed: options.seed, stream: 0x7A_0000_0000 | UInt64(p / n)).permutation(n)[p % n]
        }
    }

    public func step() throws -> StepReport {
        let s = stepsDone
        tagger.train()
        tagger.seedDropout(seed: options.seed, step: s)
        let items = batchExamples(s).map { source[$0] }
        let sb = TaggerBatch(items, padId: padId)
        let hs = sb.wordRows(tagger.features(sb.tokens))
        let tags = items.flatMap(\.tags)
        let ce = crossEntropy(tagger.logits(features: hs), targets: tags)
        var loss = ce, parts: [(String, Double)] = [("ce", Double(ce.item()))]
        if let cpa, epoch(ofStep: s) > cpa.warmupEpochs {
            let tb = TaggerBatch(targetBatch(s).map { target[$0] }, padId: padId)
            // Pseudo-tags from the current teacher in eval mode (no dropout), no gradient through them.
            let probs = withoutGrad { softmax(tagger.classifier(inferenceRows(tb)), axis: -1) }.scalars
            let ht = tb.wordRows(tagger.features(tb.tokens))
            let k = tagger.config.tags.count
            let targetClasses: [Int] = (0..<ht.shape[0]).map { i in
                let row = Array(probs[(i * k)..<((i + 1) * k)])
                let best = argmaxIndex(row)
                return row[best] >= cpa.threshold ? classOfTag[best] : -1
            }
            let sourceClasses = tags.map { classOfTag[$0] }
            let (a, n) = alignmentStep(source: hs, sourceClasses: sourceClasses, target: ht, targetClasses: targetClasses,
                                       emaSource: &emaSource, emaTarget: &emaTarget, temperature: cpa.temperature)
            if let a {
                loss = loss + cpa.weight * a
                parts.append(("cpa", Double(a.item())))
            }
            parts.append(("cpa_classes", Double(n)))
        }
        return try apply(loss, parts: parts)
    }

    override func extraState() -> [(String, Tensor)] {
        cpa == nil ? [] : [("prokd.cpa.source", emaSource.tensor), ("prokd.cpa.target", emaTarget.tensor)]
    }

    override func loadExtraState(_ tensors: [String: Tensor]) throws {
        guard cpa != nil else { return }
        guard let a = tensors["prokd.cpa.source"], let b = tensors["prokd.cpa.target"] else { throw ProKDError("the checkpoint has no prototype state") }
        try emaSource.load(a)
        try emaTarget.load(b)
    }
}

public final class StudentTraining: TaggerTraining {
    public let target: [TaggerExample]
    /// The teacher's tag distributions of every target word, per example ([words][K]).
    public let teacherProbs: [[[Float]]]
    public let pst: PSTOptions?
    let classOfTag: [Int], classCount: Int
    /// PST's prototypes of the current epoch (recomputed when an epoch starts).
    var prototypes: [[Float]?] = []
    var prototypesEpoch = 0
    let inferenceBatch: Int

    public init(tagger: TokenTagger, padId: Int, target: [TaggerExample], teacherProbs: [[[Float]]], pst: PSTOptions?,
                options: TrainOptions, inferenceBatch: Int = 32) throws {
        (self.target, self.teacherProbs, self.pst, self.inferenceBatch) = (target, teacherProbs, pst, inferenceBatch)
        let (ofTag, names) = tagger.config.prototypeClasses(pst?.granularity ?? .types)
        (classOfTag, classCount) = (ofTag, names.count)
        try super.init(tagger: tagger, padId: padId, examples: target.count, options: options)
    }

    /// Prototypes of the whole target set in the student's current feature space, by teacher argmax.
    func computePrototypes() {
        tagger.eval()
        let width = tagger.backbone.descriptor.hiddenSize
        var features: [Float] = [], classes: [Int] = []
        withoutGrad {
            for start in stride(from: 0, to: target.count, by: inferenceBatch) {
                let items = Array(target[start..<min(start + inferenceBatch, target.count)])
                let b = TaggerBatch(items, padId: padId, panelAligned: true)
                features += b.wordRows(tagger.features(b.tokens)).scalars
            }
        }
        for p in teacherProbs { for w in p { classes.append(classOfTag[argmaxIndex(w)]) } }
        prototypes = ProKDCore.prototypes(features: features, width: width, classes: classes, count: classCount)
    }

    public func step() throws -> StepReport {
        let s = stepsDone, epoch = epoch(ofStep: s)
        if let pst, epoch >= pst.fromEpoch, prototypesEpoch != epoch {
            computePrototypes()
            prototypesEpoch = epoch
        }
        tagger.train()
        tagger.seedDropout(seed: options.seed, step: s)
        let ids = batchExamples(s)
        let b = TaggerBatch(ids.map { target[$0] }, padId: padId)
        let h = b.wordRows(tagger.features(b.tokens))
        let logits = tagger.logits(features: h)
        let p = ids.flatMap { teacherProbs[$0] }
        let k = tagger.config.tags.count
        let kd = distillationMSE(logits: logits, teacher: Tensor(shape: [p.count, k], scalars: p.flatMap { $0 }))
        var loss = kd, parts: [(String, Double)] = [("kd", Double(kd.item()))]
        if let pst, epoch >= pst.fromEpoch {
            let width = tagger.backbone.descriptor.hiddenSize
            // Distances from the features as prototypes see them: eval mode, no dropout.
            let rect = rectifiedLabels(features: inferenceRows(b).scalars, width: width, teacher: p, prototypes: prototypes,
                                       classOfTag: classOfTag, temperature: pst.temperature, distance: pst.distance)
            let targets = rect.map { $0.confidence >= pst.threshold ? $0.label : -100 }
            let used = targets.filter { $0 != -100 }.count
            if used > 0 {
                let ce = crossEntropy(logits, targets: targets)
                loss = loss + pst.weight * ce
                parts.append(("pst", Double(ce.item())))
            }
            parts.append(("pst_words", Double(used)))
            parts.append(("pst_changed", Double(zip(rect, p).filter { $0.0.label != argmaxIndex($0.1) && $0.0.confidence >= pst.threshold }.count)))
        }
        return try apply(loss, parts: parts)
    }

    override func extraState() -> [(String, Tensor)] {
        guard pst != nil, prototypesEpoch > 0 else { return [] }
        let width = tagger.backbone.descriptor.hiddenSize
        return [("prokd.pst.prototypes", prototypeTensor(prototypes, width: width)),
                ("prokd.pst.epoch", Tensor(scalar: Float(prototypesEpoch)))]
    }

    override func loadExtraState(_ tensors: [String: Tensor]) throws {
        guard pst != nil, let t = tensors["prokd.pst.prototypes"], let e = tensors["prokd.pst.epoch"] else { return }
        prototypes = try prototypeRows(t, classes: classCount, width: tagger.backbone.descriptor.hiddenSize)
        prototypesEpoch = Int(e.item())
    }
}

/// TSL's distillation loss: the mean squared error between the student's softmax and the teacher's
/// distributions over words × tags (torch MSELoss, reduction "mean").
public func distillationMSE(logits: Tensor, teacher: Tensor) -> Tensor {
    mseLoss(softmax(logits, axis: -1), teacher)
}

/// The teacher's tag distributions of every word of `examples` (eval mode, no dropout).
public func wordDistributions(_ tagger: TokenTagger, _ examples: [TaggerExample], padId: Int, batch: Int) -> [[[Float]]] {
    tagger.eval()
    let k = tagger.config.tags.count
    var out: [[[Float]]] = []
    withoutGrad {
        for start in stride(from: 0, to: examples.count, by: batch) {
            let items = Array(examples[start..<min(start + batch, examples.count)])
            let b = TaggerBatch(items, padId: padId, panelAligned: true)
            guard !b.rows.isEmpty else { out += items.map { _ in [] }; continue }
            let probs = softmax(tagger.logits(features: b.wordRows(tagger.features(b.tokens))), axis: -1).scalars
            var row = 0
            for e in items {
                out.append(e.firstTokens.indices.map { _ in defer { row += 1 }; return Array(probs[(row * k)..<((row + 1) * k)]) })
            }
        }
    }
    return out
}
