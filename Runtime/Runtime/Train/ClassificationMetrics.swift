// Classification scores as scikit-learn computes them (precision_recall_fscore_support with
// zero_division=0, accuracy_score), for single-label (one class per record) and multi-label (a set
// per record) predictions over string labels:
//
//   micro     P = ΣTP / Σ(TP + FP), R = ΣTP / Σ(TP + FN), F1 = 2PR / (P + R)
//   macro     the unweighted mean of each label's P, R, F1 (labels: every label that occurs in the
//             gold or the predicted sets, as MultiLabelBinarizer would list them)
//   weighted  each label's P, R, F1 weighted by its gold count (support)
//   accuracy  single-label: the share of exact matches; multi-label: the share of records whose
//             predicted set equals the gold set (sklearn's subset accuracy)
public struct ClassificationScores: Sendable, Equatable {
    public var accuracy: Double
    public var microPrecision: Double, microRecall: Double, microF1: Double
    public var macroPrecision: Double, macroRecall: Double, macroF1: Double
    public var weightedF1: Double
    /// The mean over records of each record's own F1 (sklearn's average="samples"; 0 when a record's
    /// gold and predicted sets are both empty, zero_division 0).
    public var samplesF1: Double
    public var records: Int
    public var labels: Int

    /// Every score by its usual name (for a log line or a results table).
    public var named: [(String, Double)] {
        [("accuracy", accuracy), ("micro_precision", microPrecision), ("micro_recall", microRecall), ("micro_f1", microF1),
         ("macro_precision", macroPrecision), ("macro_recall", macroRecall), ("macro_f1", macroF1), ("weighted_f1", weightedF1), ("samples_f1", samplesF1)]
    }

    /// Multi-label scores of `predicted` sets against `gold` sets (record by record).
    public static func multiLabel(gold: [Set<String>], predicted: [Set<String>]) -> ClassificationScores {
        // invariant: callers pair each record's gold set with its prediction (a programming error otherwise)
        precondition(gold.count == predicted.count, "ClassificationScores: \(gold.count) gold rows, \(predicted.count) predicted")
        var tp: [String: Int] = [:], fp: [String: Int] = [:], fn: [String: Int] = [:]
        var exact = 0
        var samples = 0.0
        for (g, p) in zip(gold, predicted) {
            if g == p { exact += 1 }
            let hit = Double(g.intersection(p).count)
            let (sp, sr) = (p.isEmpty ? 0 : hit / Double(p.count), g.isEmpty ? 0 : hit / Double(g.count))
            samples += sp + sr > 0 ? 2 * sp * sr / (sp + sr) : 0
            for l in g.intersection(p) { tp[l, default: 0] += 1 }
            for l in p.subtracting(g) { fp[l, default: 0] += 1 }
            for l in g.subtracting(p) { fn[l, default: 0] += 1 }
        }
        let labels = Set(tp.keys).union(fp.keys).union(fn.keys)
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        func f1(_ p: Double, _ r: Double) -> Double { p + r == 0 ? 0 : 2 * p * r / (p + r) }
        let (stp, sfp, sfn) = (tp.values.reduce(0, +), fp.values.reduce(0, +), fn.values.reduce(0, +))
        let mp = ratio(stp, stp + sfp), mr = ratio(stp, stp + sfn)
        var (sp, sr, sf, wf, support) = (0.0, 0.0, 0.0, 0.0, 0)
        // Sorted: a Set's order changes from process to process, and so would the sums' last bits.
        for l in labels.sorted() {
            let (t, falsePos, n) = (tp[l] ?? 0, fp[l] ?? 0, fn[l] ?? 0)
            let p = ratio(t, t + falsePos), r = ratio(t, t + n), f = f1(p, r)
            (sp, sr, sf) = (sp + p, sr + r, sf + f)
            wf += f * Double(t + n)
            support += t + n
        }
        let m = Double(Swift.max(labels.count, 1))
        return ClassificationScores(accuracy: ratio(exact, gold.count), microPrecision: mp, microRecall: mr, microF1: f1(mp, mr),
                                    macroPrecision: sp / m, macroRecall: sr / m, macroF1: sf / m,
                                    weightedF1: support == 0 ? 0 : wf / Double(support),
                                    samplesF1: gold.isEmpty ? 0 : samples / Double(gold.count), records: gold.count, labels: labels.count)
    }

    /// Single-label scores (each record one gold and one predicted class).
    public static func singleLabel(gold: [String], predicted: [String]) -> ClassificationScores {
        multiLabel(gold: gold.map { [$0] }, predicted: predicted.map { [$0] })
    }
}
