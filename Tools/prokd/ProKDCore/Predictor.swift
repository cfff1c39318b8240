// Tagging with a trained tagger: each word's distribution from its first sub-token (or the mean/max of
// its sub-tokens), words cut off by max_length tagged "O"; entity scores as seqeval's default mode.
import Runtime

public struct WordTags: Sendable {
    public var tags: [Int]
    public var spans: [(Int, Int)]
    public var truncatedWords: Int
}

public func tagWords(_ bundle: TaggerBundle, _ encoded: [EncodedWords], batch: Int, aggregate: WordAggregation = .first) -> [WordTags] {
    let k = bundle.config.tags.count, o = bundle.config.tags.firstIndex(of: "O") ?? 0
    bundle.tagger.eval()
    var out: [WordTags] = []
    for start in stride(from: 0, to: encoded.count, by: batch) {
        let chunk = Array(encoded[start..<min(start + batch, encoded.count)])
        let tokens = TokenBatch(chunk.map(\.ids), padId: bundle.padId)
        let probs = withoutGrad { softmax(bundle.tagger.logits(features: bundle.tagger.features(tokens)), axis: -1) }.scalars
        for (b, e) in chunk.enumerated() {
            let rows = probs.withUnsafeBufferPointer { wordProbabilities($0, sequence: b, length: tokens.length, classes: k, encoded: e, aggregate: aggregate) }
            out.append(WordTags(tags: rows.map { $0.map(argmaxIndex) ?? o }, spans: e.spans, truncatedWords: e.truncatedWords))
        }
    }
    return out
}

/// Entity scores on tagged sentences, and how many words max_length cut off (tagged "O", not dropped).
public func evaluate(_ bundle: TaggerBundle, _ sentences: [TaggedSentence], batch: Int,
                     aggregate: WordAggregation = .first) throws -> (scores: EntityScores, truncatedWords: Int) {
    if let i = sentences.firstIndex(where: { $0.tags == nil }) { throw ProKDError("sentence \(i + 1) has no tags to score against") }
    let encoder = bundle.encoder
    let encoded = try sentences.map { try encoder.encodeWords($0.words) }
    let preds = tagWords(bundle, encoded, batch: batch, aggregate: aggregate)
    let tags = bundle.config.tags
    return (EntityScores.score(gold: sentences.map { $0.tags ?? [] }, predicted: preds.map { $0.tags.map { tags[$0] } }),
            preds.reduce(0) { $0 + $1.truncatedWords })
}
