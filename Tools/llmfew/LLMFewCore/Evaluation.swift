// Prediction and scores. The reference prints torchmetrics' Multiclass* with their default
// average='macro': its "Accuracy" is the balanced accuracy (mean per-class recall). Both are reported
// here under their own names: `accuracy` (share of series right) and `macro_accuracy` (mean recall over
// classes), with macro precision and F1.
import Runtime

/// Class probabilities for every series, in batches (eval mode).
public func predictProbabilities(_ model: LLMFewModel, _ series: [Series], batch: Int) throws -> [[Float]] {
    model.eval()
    var out: [[Float]] = []
    out.reserveCapacity(series.count)
    for start in stride(from: 0, to: series.count, by: max(1, batch)) {
        out += try model.probabilities(Array(series[start..<min(start + batch, series.count)]))
    }
    return out
}

public struct LLMFewScores: Sendable {
    public var accuracy: Double
    public var macroAccuracy: Double
    public var macroPrecision: Double
    public var macroF1: Double
    public var count: Int

    public init(gold: [String], predicted: [String]) {
        let s = ClassificationScores.singleLabel(gold: gold, predicted: predicted)
        (accuracy, macroAccuracy, macroPrecision, macroF1, count) = (s.accuracy, s.macroRecall, s.macroPrecision, s.macroF1, gold.count)
    }

    public var named: [(String, Double)] {
        [("accuracy", accuracy), ("macro_accuracy", macroAccuracy), ("macro_precision", macroPrecision), ("macro_f1", macroF1)]
    }
}

/// Scores of the model on labelled series, and the mean loss (the model's own loss: with the reference
/// head, of the double softmax).
public func evaluate(_ model: LLMFewModel, _ series: [Series], batch: Int) throws -> (scores: LLMFewScores, loss: Double) {
    let classes = model.config.classes
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    var gold: [String] = [], predicted: [String] = []
    var lossSum = 0.0
    model.eval()
    for start in stride(from: 0, to: series.count, by: max(1, batch)) {
        let part = Array(series[start..<min(start + batch, series.count)])
        let targets = try part.map { s -> Int in
            guard let l = s.label else { throw LLMFewError("a series without a label") }
            guard let k = index[l] else { throw LLMFewError("label '\(l)' is not one of the model's classes \(classes)") }
            return k
        }
        let out = try withoutGrad { try model.outputs(part) }
        lossSum += Double(crossEntropy(out, targets: targets).item()) * Double(part.count)
        let best = out.argmax(axis: 1)
        gold += targets.map { classes[$0] }
        predicted += best.map { classes[$0] }
    }
    return (LLMFewScores(gold: gold, predicted: predicted), series.isEmpty ? 0 : lossSum / Double(series.count))
}
