// scikit-learn's multi-label report over a fixed label list: classification_report(output_dict=True,
// zero_division=0) and jaccard_score with every average, for 0/1 indicator rows (MultiLabelBinarizer
// columns). Unlike ClassificationScores, whose macro average runs over the labels that occur, every
// label of the list counts here, one that never occurs included (its P, R, F1 are 0), as sklearn does
// when it is given the indicator matrix.
//
//   per label   P = TP/(TP+FP), R = TP/(TP+FN), F1 = 2PR/(P+R) (0 where a denominator is 0), support = TP+FN
//   micro       the same over the summed counts
//   macro       the unweighted mean over the labels
//   weighted    the mean weighted by support (0 when there is no support at all)
//   samples     per row P, R, F1 over the row's sets (0 for an empty denominator), averaged over rows
//   jaccard     TP/(TP+FP+FN) per label; micro over the summed counts; samples |g∩p|/|g∪p| per row
public struct MultiLabelReport: Sendable, Equatable {
    public struct Scores: Sendable, Equatable {
        public var precision: Double, recall: Double, f1: Double
        public var support: Int
    }

    public var labels: [String]
    public var perLabel: [Scores]
    public var micro: Scores, macro: Scores, weighted: Scores, samples: Scores
    public var jaccardMicro: Double, jaccardMacro: Double, jaccardWeighted: Double, jaccardSamples: Double
    /// Mean number of predicted and of gold labels per row.
    public var meanPredicted: Double, meanGold: Double
    /// Rows whose predicted set equals the gold set, as a share (sklearn's subset accuracy).
    public var subsetAccuracy: Double
    public var rows: Int

    /// The report of `predicted` against `gold` rows, each row a set of indices into `labels`.
    public init(labels: [String], gold: [Set<Int>], predicted: [Set<Int>]) {
        // invariant: one predicted set per gold row (callers pair them; a programming error otherwise)
        precondition(gold.count == predicted.count, "MultiLabelReport: \(gold.count) gold rows, \(predicted.count) predicted")
        let k = labels.count
        var tp = [Int](repeating: 0, count: k), fp = tp, fn = tp
        var sp = 0.0, sr = 0.0, sf = 0.0, sj = 0.0, exact = 0, nPred = 0, nGold = 0
        for (g, p) in zip(gold, predicted) {
            let hit = g.intersection(p)
            for l in hit where l < k { tp[l] += 1 }
            for l in p.subtracting(g) where l < k { fp[l] += 1 }
            for l in g.subtracting(p) where l < k { fn[l] += 1 }
            let h = Double(hit.count)
            let rp = p.isEmpty ? 0 : h / Double(p.count), rr = g.isEmpty ? 0 : h / Double(g.count)
            (sp, sr, sf) = (sp + rp, sr + rr, sf + Self.f1(rp, rr))
            let union = g.union(p).count
            sj += union == 0 ? 0 : h / Double(union)
            if g == p { exact += 1 }
            (nPred, nGold) = (nPred + p.count, nGold + g.count)
        }
        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        let per = (0..<k).map { l -> Scores in
            let p = ratio(tp[l], tp[l] + fp[l]), r = ratio(tp[l], tp[l] + fn[l])
            return Scores(precision: p, recall: r, f1: Self.f1(p, r), support: tp[l] + fn[l])
        }
        let (stp, sfp, sfn) = (tp.reduce(0, +), fp.reduce(0, +), fn.reduce(0, +))
        let support = stp + sfn
        let mp = ratio(stp, stp + sfp), mr = ratio(stp, stp + sfn)
        let n = Double(max(k, 1)), rows = Double(max(gold.count, 1))
        func weightedMean(_ f: (Scores) -> Double) -> Double {
            support == 0 ? 0 : per.reduce(0) { $0 + f($1) * Double($1.support) } / Double(support)
        }
        let jac = (0..<k).map { ratio(tp[$0], tp[$0] + fp[$0] + fn[$0]) }
        self.labels = labels
        perLabel = per
        micro = Scores(precision: mp, recall: mr, f1: Self.f1(mp, mr), support: support)
        macro = Scores(precision: per.reduce(0) { $0 + $1.precision } / n, recall: per.reduce(0) { $0 + $1.recall } / n,
                       f1: per.reduce(0) { $0 + $1.f1 } / n, support: support)
        weighted = Scores(precision: weightedMean(\.precision), recall: weightedMean(\.recall), f1: weightedMean(\.f1), support: support)
        samples = Scores(precision: sp / rows, recall: sr / rows, f1: sf / rows, support: support)
        jaccardMicro = ratio(stp, stp + sfp + sfn)
        jaccardMacro = jac.reduce(0, +) / n
        jaccardWeighted = support == 0 ? 0 : zip(jac, per).reduce(0) { $0 + $1.0 * Double($1.1.support) } / Double(support)
        jaccardSamples = sj / rows
        meanPredicted = Double(nPred) / rows
        meanGold = Double(nGold) / rows
        subsetAccuracy = Double(exact) / rows
        self.rows = gold.count
    }

    static func f1(_ p: Double, _ r: Double) -> Double { p + r == 0 ? 0 : 2 * p * r / (p + r) }

    /// The headline figures by name (for a log line or a results table).
    public var named: [(String, Double)] {
        [("macro_f1", macro.f1), ("micro_f1", micro.f1), ("weighted_f1", weighted.f1), ("samples_f1", samples.f1),
         ("macro_precision", macro.precision), ("macro_recall", macro.recall), ("micro_precision", micro.precision),
         ("micro_recall", micro.recall), ("jaccard_micro", jaccardMicro), ("jaccard_macro", jaccardMacro),
         ("jaccard_weighted", jaccardWeighted), ("jaccard_samples", jaccardSamples), ("subset_accuracy", subsetAccuracy),
         ("avg_n_predicted", meanPredicted), ("avg_n_labels", meanGold)]
    }
}
