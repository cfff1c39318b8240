// From per-token class probabilities to per-word ones, for taggers that label words from sub-tokens
// (ls-llama, prokd): a word takes its first sub-token's row (the reference convention), or the mean or
// max of its sub-tokens' rows; a word cut off by truncation has none. And the entities of a tagged
// sentence as JSON records with word indices and character spans.

public enum WordAggregation: String, Sendable, CaseIterable { case first, mean, max }

/// Word rows of one sequence: `probs` holds [B, T, K] row-major; sequence `b` of `length` T was
/// encoded as `encoded`. nil for a word without tokens.
public func wordProbabilities(_ probs: UnsafeBufferPointer<Float>, sequence b: Int, length: Int, classes k: Int,
                              encoded: EncodedWords, aggregate: WordAggregation = .first) -> [[Float]?] {
    encoded.wordTokens.map { tokensOfWord -> [Float]? in
        guard let first = tokensOfWord.first else { return nil }
        func row(_ t: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(rebasing: probs[((b * length + t) * k)..<((b * length + t + 1) * k)]) }
        var p = Array(row(first))
        if aggregate != .first && tokensOfWord.count > 1 {
            for t in tokensOfWord.dropFirst() {
                for (j, v) in row(t).enumerated() { p[j] = aggregate == .mean ? p[j] + v : Swift.max(p[j], v) }
            }
            if aggregate == .mean { p = p.map { $0 / Float(tokensOfWord.count) } }
        }
        return p
    }
}

/// The index of the largest value (the first of ties, as argmax does; 0 for an empty array).
public func argmaxIndex(_ p: [Float]) -> Int {
    var best = 0
    for i in p.indices where p[i] > p[best] { best = i }
    return best
}

/// The entities of an IOB2 tag sequence as records: type, first/last word, [start, end) in code points
/// of the words joined by single spaces (`spans`), and the words' text.
public func entityRecords(tags: [String], words: [String], spans: [(Int, Int)]) -> [JSONValue] {
    EntityScores.entities(flat: tags).map { e -> JSONValue in
        .object(["type": .string(e.type), "first": .number(JSONNumber(e.start)), "last": .number(JSONNumber(e.end)),
                 "start": .number(JSONNumber(spans[e.start].0)), "end": .number(JSONNumber(spans[e.end].1)),
                 "text": .string(words[e.start...e.end].joined(separator: " "))])
    }
}

/// Entity scores as one JSON object (what `ls-llama eval` and `prokd eval` print): micro and macro
/// figures, per type, counts, and the words truncation cut off.
public func entityScoresRecord(_ s: EntityScores, sentences: Int, truncatedWords: Int) throws -> Record {
    var r = Record()
    for (k, v) in s.named { try r.set(k, double: v) }
    var types = JSONObject()
    for (t, p) in s.byType.sorted(by: { $0.key < $1.key }) {
        types[t] = .object(["precision": JSONValue.finite(p.precision), "recall": JSONValue.finite(p.recall), "f1": JSONValue.finite(p.f1),
                            "support": .number(JSONNumber(p.support))])
    }
    r.set("by_type", .object(types))
    r.set("sentences", int: sentences)
    r.set("true_entities", int: s.trueEntities)
    r.set("predicted_entities", int: s.predictedEntities)
    r.set("truncated_words", int: truncatedWords)
    return r
}
