// Training a teacher or a student, as the reference's train_cifar_{baseline,kd,dkd}.py do:
//
//   L = w_ce·CE(z_s, y) + warm(epoch)·(w_kd·KD or DKD) + w_nd·ND(projector(s) or s, t, e_y)
//
// with KD = T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)), DKD = α·TCKD + β·NCKD, ND the norm-and-direction
// loss (Runtime/Ops/DistillationLosses.swift), warm(epoch) = min(1, epoch/warm-up). The reference's
// epochs are 0-based there, so KD is off for all of its first epoch; here epochs count from 1 as in
// mdistiller (--reference-warmup: the reference's). SGD with Nesterov momentum 0.9 and weight decay on
// every parameter (the reference passes model.parameters()), the rate ×γ at each milestone epoch.
// Every epoch visits the training set in a fresh order from (seed, epoch), batches of B (the last one
// smaller), each image augmented by a draw from (seed, epoch, index); dropout masks come from (seed,
// step). A run resumed from a checkpoint thus reaches the weights of one never stopped.
//
// The teacher runs in eval mode with no gradient. When the augmentation is flips only, its logits and
// embeddings are computed once per image and view (plain, flipped) and reused every epoch.
import Foundation
import Runtime

public enum StudentLoss: String, CaseIterable, Sendable {
    case ce, kd, kdpp = "kd++", dkd, dkdpp = "dkd++"
    public var usesKD: Bool { self == .kd || self == .kdpp }
    public var usesDKD: Bool { self == .dkd || self == .dkdpp }
    public var usesND: Bool { self == .kdpp || self == .dkdpp }
}

public struct TrainOptions: Sendable {
    public var epochs = 240
    public var batch = 128
    public var lr: Float = 0.1
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var milestones = [150, 180, 210]
    public var gamma: Float = 0.1
    public var augmentation = Augmentation(padding: 4, flip: true)
    public var seed: UInt64 = 0
    // Distillation (students).
    public var loss: StudentLoss = .ce
    public var ceWeight: Float = 1
    public var kdWeight: Float = 1
    public var ndWeight: Float = 1
    public var alpha: Float = 1
    public var beta: Float = 8
    public var temperature: Float = 4
    public var warmUp: Double = 20
    public var referenceWarmup = false
    public var logFloor: Float? = nil
    public init() {}

    /// The distillation weight in force in 1-based epoch `epoch`.
    public func warmFactor(epoch: Int) -> Float {
        guard warmUp > 0 else { return 1 }
        return Float(min(1, Double(referenceWarmup ? epoch - 1 : epoch) / warmUp))
    }

    /// The rate multiplier in 1-based epoch `epoch` (milestones count 0-based epochs, as the reference's
    /// `if epoch in [150, 180, 210]`).
    public func lrFactor(epoch: Int) -> Float {
        Float(pow(Double(gamma), Double(milestones.filter { $0 <= epoch - 1 }.count)))
    }
}

public struct StepReport {
    public var step = 0, epoch = 0
    public var loss: Float = 0, ce: Float = 0, kd: Float = 0, nd: Float = 0, accuracy: Float = 0, lr: Float = 0
}

/// The teacher's view of the training set, per image and view.
struct TeacherOutputs {
    let logits: Tensor, embeddings: Tensor  // [2N, K], [2N, D]: rows 0..<N plain, N..<2N flipped
}

public final class Trainer {
    public let net: ImageClassifier
    public let projector: Projector?
    public let teacher: ImageClassifier?
    let directions: Tensor?
    public let data: ImageSet
    let mean: [Float], std: [Float]
    public let options: TrainOptions
    public let optimizer: SGD
    public private(set) var stepsDone = 0
    public let stepsPerEpoch: Int
    var cache: TeacherOutputs?
    public var totalSteps: Int { stepsPerEpoch * options.epochs }

    /// A teacher's training (no `teacher`), or a student's (`teacher` with its class means [K, D_t] when
    /// the loss has ND).
    public init(net: ImageClassifier, data: ImageSet, mean: [Float], std: [Float], options: TrainOptions,
                teacher: ImageClassifier? = nil, classMeans: Tensor? = nil) throws {
        guard data.count > 0 else { throw NDKDError("no training images") }
        if options.loss != .ce && teacher == nil { throw NDKDError("--loss \(options.loss.rawValue) needs a teacher") }
        (self.net, self.data, self.mean, self.std, self.options, self.teacher) = (net, data, mean, std, options, teacher)
        var projector: Projector? = nil
        if options.loss.usesND {
            guard let teacher, let classMeans else { throw NDKDError("ND needs the teacher's class means") }
            let (ds, dt) = (net.spec.embeddingWidth, teacher.spec.embeddingWidth)
            guard classMeans.shape == [net.classes, dt] else { throw NDKDError("class means \(classMeans.shape) for \(net.classes) classes of width \(dt)") }
            if ds != dt { projector = Projector(from: ds, to: dt, generator: RandomGenerator(seed: options.seed, stream: 0x7E57_0000_0000_0000)) }
            directions = classDirections(classMeans)
        } else {
            directions = nil
        }
        self.projector = projector
        // A last batch of one image is left out of its epoch (BatchNorm cannot normalize a single value
        // per channel, where PyTorch raises); the order changes every epoch, so no image is always left out.
        guard data.count >= 2, options.batch >= 2 else { throw NDKDError("at least 2 training images and batches of at least 2 are needed (BatchNorm)") }
        stepsPerEpoch = data.count / options.batch + (data.count % options.batch > 1 ? 1 : 0)
        let params = net.parameters() + (projector?.parameters() ?? [])
        optimizer = SGD([ParameterGroup(params, lr: options.lr, weightDecay: options.weightDecay)], momentum: options.momentum, nesterov: true)
        teacher?.eval()
        if let teacher, options.augmentation.padding == 0 {
            cache = Self.teacherOutputs(teacher, data, mean: mean, std: std, flips: options.augmentation.flip)
        }
    }

    static func teacherOutputs(_ teacher: ImageClassifier, _ data: ImageSet, mean: [Float], std: [Float], flips: Bool, batch: Int = 256) -> TeacherOutputs {
        var logits: [Tensor] = [], embeddings: [Tensor] = []
        for flipped in flips ? [false, true] : [false] {
            embedAll(teacher, data, mean: mean, std: std, batch: batch, views: { _ in View(dy: 0, dx: 0, flipped: flipped) }) { _, e, z in
                logits.append(z)
                embeddings.append(e)
            }
        }
        if !flips { (logits, embeddings) = (logits + logits, embeddings + embeddings) }
        return TeacherOutputs(logits: concat(logits, axis: 0), embeddings: concat(embeddings, axis: 0))
    }

    /// The images of step `s` (0-based), in order.
    public func batchIndices(_ s: Int) -> [Int] {
        let epoch = s / stepsPerEpoch, i = s % stepsPerEpoch
        let order = RandomGenerator(seed: options.seed, stream: 0x0D_0000_0000 | UInt64(epoch)).permutation(data.count)
        return Array(order[(i * options.batch)..<min((i + 1) * options.batch, data.count)])
    }

    public func step() throws -> StepReport {
        let s = stepsDone, epoch = s / stepsPerEpoch + 1
        let idx = batchIndices(s)
        let views = idx.map { options.augmentation.draw(seed: options.seed, epoch: epoch - 1, index: $0) }
        let x = makeBatch(data, idx, views: views, padding: options.augmentation.padding, mean: mean, std: std)
        let y = idx.map { data.labels[$0] }
        let lr = options.lr * options.lrFactor(epoch: epoch)
        optimizer.groups[0].lr = lr
        net.train()
        projector?.train()
        projector?.seedDropout(seed: options.seed, step: s)
        let (emb, logits) = net.forward(x)
        var report = StepReport(step: s + 1, epoch: epoch, lr: lr)
        let ce = scale(crossEntropy(logits, targets: y), options.ceWeight)
        var loss = ce
        report.ce = ce.item()
        if let teacher {
            let (tEmb, tLogits): (Tensor, Tensor) = withoutGrad {
                if let cache {
                    let rows = zip(idx, views).map { $0 + ($1.flipped ? data.count : 0) }
                    return (cache.embeddings.indexSelect(axis: 0, rows), cache.logits.indexSelect(axis: 0, rows))
                }
                return teacher.forward(x)
            }
            let warm = options.warmFactor(epoch: epoch)
            if options.loss.usesKD {
                let kd = scale(distillationKL(student: logits, teacher: tLogits, temperature: options.temperature), options.kdWeight * warm)
                report.kd = kd.item()
                loss = loss + kd
            } else if options.loss.usesDKD {
                let dkd = scale(decoupledKD(student: logits, teacher: tLogits, targets: y, alpha: options.alpha, beta: options.beta,
                                            temperature: options.temperature, logFloor: options.logFloor), warm)
                report.kd = dkd.item()
                loss = loss + dkd
            }
            if let directions {
                let sEmb = projector.map { $0(emb) } ?? emb
                let nd = scale(normDirectionLoss(student: sEmb, teacher: tEmb, directions: directions, targets: y), options.ndWeight)
                report.nd = nd.item()
                loss = loss + nd
            }
        }
        report.loss = loss.item()
        guard report.loss.isFinite else { throw NDKDError("step \(s + 1): the loss is \(report.loss) (lower --lr, or --log-floor for DKD)") }
        let pred = logits.argmax(axis: 1)
        report.accuracy = Float(zip(pred, y).filter { $0 == $1 }.count) / Float(y.count)
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
        stepsDone += 1
        return report
    }

    /// What a checkpoint holds: the student's state (BatchNorm statistics included), the projector's and
    /// the optimizer's.
    public func stateTensors() -> [(String, Tensor)] { trainingState(trained(), optimizer) }

    func trained() -> [(String, Tensor)] {
        net.namedState() + (projector?.namedState().map { ("projector.\($0.0)", $0.1) } ?? [])
    }

    public func loadState(_ tensors: [String: Tensor], steps: Int) throws {
        try restoreTrainingState(tensors, trained: trained(), optimizer: optimizer)
        guard steps <= totalSteps else { throw NDKDError("the checkpoint is at step \(steps), past this run's \(totalSteps)") }
        stepsDone = steps
    }
}
