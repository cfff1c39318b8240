// LaBo's bottleneck (asso_opt.py, AssoConceptFast): concept scores s = X·Cᵀ (image features against the
// selected concepts' text features, raw dot products; L2-normalized both with featureNorm), an association
// matrix W [K, N] initialized to initVal at each concept's own class (0 elsewhere), M = softmax(W) over
// the concepts of each class, logits = 100 · s · Mᵀ. Only W is trained (Adam, cross-entropy).
import Foundation
import Runtime

public final class ConceptBottleneck: Module {
    public var w: Tensor
    public let concepts: Tensor
    public let classes: [String]
    public let conceptNames: [String]
    public let conceptClass: [Int]
    public let featureNorm: Bool
    public static let scale: Float = 100
    override public var keyMap: [String: String] { ["w": "asso_mat"] }
    override public var bufferNames: Set<String> { ["concepts"] }

    /// W from the concept → class membership (initVal at the own class).
    public init(classes: [String], conceptNames: [String], conceptClass: [Int], conceptVectors: [[Float]], initVal: Float = 1, featureNorm: Bool = false) {
        let k = classes.count, n = conceptNames.count
        var init0 = [Float](repeating: 0, count: k * n)
        for (j, y) in conceptClass.enumerated() { init0[y * n + j] = initVal }
        w = Tensor(shape: [k, n], scalars: init0).requiringGrad()
        concepts = Tensor(shape: [n, conceptVectors.first?.count ?? 0], scalars: Array(conceptVectors.joined()))
        (self.classes, self.conceptNames, self.conceptClass, self.featureNorm) = (classes, conceptNames, conceptClass, featureNorm)
        super.init()
    }

    public var width: Int { concepts.shape[1] }

    static func unitRows(_ x: Tensor) -> Tensor { x / sqrt(square(x).sum(axis: 1, keepDims: true)) }

    /// Concept scores [B, N] of image features [B, d] (no gradient: W alone is trained).
    public func scores(_ x: Tensor) -> Tensor {
        withoutGrad {
            featureNorm ? matmul(Self.unitRows(x), Self.unitRows(concepts), transposeB: true) : matmul(x, concepts, transposeB: true)
        }
    }

    /// The association M = softmax(W) [K, N].
    public var association: Tensor { softmax(resolved(w), axis: 1) }

    /// 100 · s · Mᵀ: [B, K].
    public func logits(scores s: Tensor) -> Tensor { matmul(s, association, transposeB: true) * Self.scale }
}

public struct BottleneckTrainOptions: Sendable {
    public var epochs = 5000
    public var batch = 32
    public var lr: Float = 1e-4
    public var evalEvery = 10
    public var seed: UInt64 = 1
    public init() {}
}

public final class BottleneckTraining {
    public let model: ConceptBottleneck
    let scores: Tensor
    let targets: [Int]
    public let options: BottleneckTrainOptions
    public let optimizer: Adam
    public internal(set) var stepsDone = 0
    public let stepsPerEpoch: Int
    public var totalSteps: Int { stepsPerEpoch * options.epochs }

    public init(model: ConceptBottleneck, features: [[Float]], targets: [Int], options: BottleneckTrainOptions) throws {
        guard !features.isEmpty, features.count == targets.count else { throw LaboError("no training images") }
        (self.model, self.targets, self.options) = (model, targets, options)
        scores = model.scores(Tensor(shape: [features.count, model.width], scalars: Array(features.joined())))
        stepsPerEpoch = (features.count + options.batch - 1) / options.batch
        optimizer = Adam([model.w], lr: options.lr)
    }

    public func batchIndices(_ s: Int) -> [Int] {
        let epoch = s / stepsPerEpoch, i = s % stepsPerEpoch
        let order = RandomGenerator(seed: options.seed, stream: 0x0E_0000_0000 | UInt64(epoch)).permutation(targets.count)
        return Array(order[(i * options.batch)..<min((i + 1) * options.batch, targets.count)])
    }

    /// One Adam step on the given rows (the next batch of the shuffled order by default).
    @discardableResult
    public func step(rows: [Int]? = nil) throws -> Float {
        let idx = rows ?? batchIndices(stepsDone)
        let loss = crossEntropy(model.logits(scores: scores.indexSelect(axis: 0, idx)), targets: idx.map { targets[$0] })
        let value: Float
        do { (value, _) = try optimizer.update(loss, maxGradNorm: .infinity) } catch { throw LaboError("step \(stepsDone + 1): \(error) (zero-norm features with --feature-norm, or features too large)") }
        stepsDone += 1
        return value
    }

    public func stateTensors() -> [(String, Tensor)] { trainingState([("asso_mat", model.w)], optimizer) }

    public func loadState(_ tensors: [String: Tensor], steps: Int) throws {
        try restoreTrainingState(tensors, trained: [("asso_mat", model.w)], optimizer: optimizer)
        stepsDone = steps
    }
}

/// Accuracy, macro accuracy and the predicted classes of image features.
public func evaluateBottleneck(_ model: ConceptBottleneck, features: [[Float]], labels: [String]) -> (accuracy: Double, macroAccuracy: Double, loss: Double) {
    guard !features.isEmpty else { return (0, 0, 0) }
    return evaluateBottleneck(model, scores: model.scores(Tensor(shape: [features.count, model.width], scalars: Array(features.joined()))), labels: labels)
}

/// The same from concept scores computed once (validation during training: only W changes).
public func evaluateBottleneck(_ model: ConceptBottleneck, scores: Tensor, labels: [String]) -> (accuracy: Double, macroAccuracy: Double, loss: Double) {
    guard !labels.isEmpty else { return (0, 0, 0) }
    let index = Dictionary(model.classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    let logits = withoutGrad { model.logits(scores: scores) }
    let best = logits.argmax(axis: 1)
    let known = labels.enumerated().compactMap { i, l in index[l].map { (i, $0) } }
    let loss = known.isEmpty ? 0 : Double(withoutGrad { crossEntropy(logits.indexSelect(axis: 0, known.map(\.0)), targets: known.map(\.1)) }.item())
    let s = ClassificationScores.singleLabel(gold: labels, predicted: best.map { model.classes[$0] })
    return (s.accuracy, s.macroRecall, loss)
}
