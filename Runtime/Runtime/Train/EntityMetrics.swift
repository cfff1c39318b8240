// Entity-level scores of tag sequences as seqeval computes them in its default (conlleval-style)
// mode: sentences are joined with an "O" between them, chunks are read with seqeval's
// get_entities rules (B/I/E/S prefixes; a change of type or a stray I- starts a chunk; "O" and "."
// are outside), and an entity counts as found when its type, start and end all match.
//
//   per type  P = TP / predicted, R = TP / true, F1 = 2PR / (P + R)   (0 when a denominator is 0)
//   micro     the same over all types' counts (what seqeval's f1_score returns by default)
//   macro     the unweighted mean over types; weighted: by each type's true count
//   accuracy  the share of tokens whose tag is right (seqeval's accuracy_score)

public struct EntityScores: Sendable, Equatable {
    public struct PerType: Sendable, Equatable {
        public var precision: Double, recall: Double, f1: Double
        public var support: Int
    }
    public var precision: Double, recall: Double, f1: Double
    public var macroPrecision: Double, macroRecall: Double, macroF1: Double
    public var weightedF1: Double
    public var accuracy: Double
    public var byType: [String: PerType]
    public var trueEntities: Int, predictedEntities: Int, correctEntities: Int

    /// Every overall score by its usual name (for a log line or a results table).
    public var named: [(String, Double)] {
        [("precision", precision), ("recall", recall), ("f1", f1), ("accuracy", accuracy), ("macro_precision", macroPrecision),
         ("macro_recall", macroRecall), ("macro_f1", macroF1), ("weighted_f1", weightedF1)]
    }

    /// Scores predicted tag sequences against gold ones, sentence by sentence (equal lengths).
    public static func score(gold: [[String]], predicted: [[String]]) -> EntityScores {
        // invariant: callers pair each sentence's gold tags with as many predicted tags
        precondition(gold.count == predicted.count && zip(gold, predicted).allSatisfy { $0.count == $1.count },
                     "EntityScores: gold and predicted sentences must pair up with equal lengths")
        let g = entities(gold), p = entities(predicted)
        let types = Set(g.map(\.type)).union(p.map(\.type)).sorted()
        var byType: [String: PerType] = [:]
        var tp = 0, predSum = 0, trueSum = 0
        var macro = (0.0, 0.0, 0.0), weighted = 0.0
        for type in types {
            let gt = Set(g.filter { $0.type == type }.map { [$0.start, $0.end] })
            let pt = Set(p.filter { $0.type == type }.map { [$0.start, $0.end] })
            let hit = gt.intersection(pt).count
            let (pr, rc, f) = prf(hit, pt.count, gt.count)
            byType[type] = PerType(precision: pr, recall: rc, f1: f, support: gt.count)
            tp += hit; predSum += pt.count; trueSum += gt.count
            macro.0 += pr; macro.1 += rc; macro.2 += f
            weighted += f * Double(gt.count)
        }
        let (pr, rc, f) = prf(tp, predSum, trueSum)
        let n = Double(max(types.count, 1))
        let tokens = gold.reduce(0) { $0 + $1.count }
        let right = zip(gold, predicted).reduce(0) { acc, s in acc + zip(s.0, s.1).filter { $0 == $1 }.count }
        return EntityScores(precision: pr, recall: rc, f1: f, macroPrecision: macro.0 / n, macroRecall: macro.1 / n, macroF1: macro.2 / n,
                            weightedF1: trueSum == 0 ? 0 : weighted / Double(trueSum), accuracy: tokens == 0 ? 0 : Double(right) / Double(tokens),
                            byType: byType, trueEntities: trueSum, predictedEntities: predSum, correctEntities: tp)
    }

    static func prf(_ tp: Int, _ predicted: Int, _ truth: Int) -> (Double, Double, Double) {
        let p = predicted == 0 ? 0 : Double(tp) / Double(predicted)
        let r = truth == 0 ? 0 : Double(tp) / Double(truth)
        return (p, r, p + r == 0 ? 0 : 2 * p * r / (p + r))
    }

    /// seqeval's get_entities over sentences joined by "O": (type, first, last) with positions in
    /// the joined sequence.
    public static func entities(_ sentences: [[String]]) -> [(type: String, start: Int, end: Int)] {
        var seq: [String] = []
        for s in sentences { seq += s; seq.append("O") }
        return entities(flat: seq)
    }

    public static func entities(flat seq: [String]) -> [(type: String, start: Int, end: Int)] {
        var chunks: [(type: String, start: Int, end: Int)] = []
        var prevTag: Character = "O", prevType = "", begin = 0
        for (i, chunk) in (seq + ["O"]).enumerated() {
            let tag = chunk.first ?? "O"
            let rest = chunk.dropFirst()
            // chunk[1:].split('-', maxsplit=1)[-1] or '_'
            let type: String = {
                let t = rest.firstIndex(of: "-").map { String(rest[rest.index(after: $0)...]) } ?? String(rest)
                return t.isEmpty ? "_" : t
            }()
            if endOfChunk(prevTag, tag, prevType, type) { chunks.append((prevType, begin, i - 1)) }
            if startOfChunk(prevTag, tag, prevType, type) { begin = i }
            prevTag = tag
            prevType = type
        }
        return chunks
    }

    static func endOfChunk(_ prev: Character, _ tag: Character, _ prevType: String, _ type: String) -> Bool {
        if prev == "E" || prev == "S" { return true }
        if prev == "B" && (tag == "B" || tag == "S" || tag == "O") { return true }
        if prev == "I" && (tag == "B" || tag == "S" || tag == "O") { return true }
        return prev != "O" && prev != "." && prevType != type
    }

    static func startOfChunk(_ prev: Character, _ tag: Character, _ prevType: String, _ type: String) -> Bool {
        if tag == "B" || tag == "S" { return true }
        if (prev == "E" || prev == "S" || prev == "O") && (tag == "E" || tag == "I") { return true }
        return tag != "O" && tag != "." && prevType != type
    }
}

/// IOB1 tags (I- opens an entity; B- only between two adjacent entities of one type, as CoNLL-2003
/// writes them) rewritten as IOB2 (every entity opens with B-). IOB2 input comes back unchanged.
public func iob1ToIOB2(_ tags: [String]) -> [String] {
    var out = tags
    for i in tags.indices where tags[i].hasPrefix("I-") {
        let type = tags[i].dropFirst(2)
        let prev = i == 0 ? "O" : tags[i - 1]
        if prev == "O" || prev.dropFirst(2) != type { out[i] = "B-" + type }
    }
    return out
}
