// Inference: sequences get class probabilities (softmax of the pooled logits) and the argmax; sentences
// get a tag per word, from its first sub-token as the reference does, or from the mean or max of its
// sub-tokens' probabilities (--aggregate). Words cut off by max_length get "O" and are counted.
import Runtime


public struct SequencePrediction: Sendable {
    public var probs: [Float]
    public var best: Int
}

public struct WordPrediction: Sendable {
    public var tags: [Int]
    /// Each word's probability of its tag.
    public var confidence: [Float]
    public var spans: [(Int, Int)]
    public var truncatedWords: Int
}

public struct LSPredictor {
    public let bundle: LSBundle
    public var batch = 8
    public var aggregate = WordAggregation.first

    public init(bundle: LSBundle, batch: Int = 8, aggregate: WordAggregation = .first) {
        (self.bundle, self.batch, self.aggregate) = (bundle, batch, aggregate)
        bundle.model.eval()
    }

    public func predict(texts: [String]) throws -> [SequencePrediction] {
        let encoder = bundle.encoder
        return predict(encoded: try texts.map { try encoder.encode($0) })
    }

    /// Texts already encoded (LSEncoder.encode): a caller that encodes record by record can fail one
    /// record without failing its batch.
    public func predict(encoded ids: [[Int]]) -> [SequencePrediction] {
        var out: [SequencePrediction] = []
        for start in stride(from: 0, to: ids.count, by: batch) {
            let chunk = Array(ids[start..<min(start + batch, ids.count)])
            let probs = withoutGrad { softmax(bundle.model.sequenceLogits(TokenBatch(chunk, padId: bundle.padId)), axis: -1) }
            let k = bundle.config.labels.count
            let flat = probs.scalars
            for b in chunk.indices {
                let row = Array(flat[(b * k)..<((b + 1) * k)])
                out.append(SequencePrediction(probs: row, best: row.indices.max { row[$0] < row[$1] }!))
            }
        }
        return out
    }

    public func predict(sentences: [[String]]) throws -> [WordPrediction] {
        let encoder = bundle.encoder
        return predict(encoded: try sentences.map { try encoder.encode(words: $0) })
    }

    public func predict(encoded: [EncodedWords]) -> [WordPrediction] {
        let k = bundle.config.labels.count
        var out: [WordPrediction] = []
        for start in stride(from: 0, to: encoded.count, by: batch) {
            let chunk = Array(encoded[start..<min(start + batch, encoded.count)])
            let tokens = TokenBatch(chunk.map(\.ids), padId: bundle.padId)
            let probs = withoutGrad { softmax(bundle.model.tokenLogits(tokens), axis: -1) }.scalars
            let o = bundle.config.labels.firstIndex(of: "O") ?? 0
            for (b, e) in chunk.enumerated() {
                let rows = probs.withUnsafeBufferPointer { wordProbabilities($0, sequence: b, length: tokens.length, classes: k, encoded: e, aggregate: aggregate) }
                let tags = rows.map { $0.map(argmaxIndex) ?? o }
                let conf = zip(rows, tags).map { r, t in r?[t] ?? 0 }
                out.append(WordPrediction(tags: tags, confidence: conf, spans: e.spans, truncatedWords: e.truncatedWords))
            }
        }
        return out
    }
}

/// Scores of a sequence model on labelled texts: accuracy, macro-F1 (scikit-learn's).
public func evaluateSequences(_ bundle: LSBundle, _ examples: [SequenceExample], batch: Int = 8) throws -> ClassificationScores {
    if let i = examples.firstIndex(where: { $0.label == nil }) { throw LSLlamaError("example \(i + 1) has no label to score against") }
    let preds = try LSPredictor(bundle: bundle, batch: batch).predict(texts: examples.map(\.text))
    return ClassificationScores.singleLabel(gold: examples.map { $0.label ?? "" }, predicted: preds.map { bundle.config.labels[$0.best] })
}

/// Entity scores of a tagging model on tagged sentences (seqeval's default mode), and how many words
/// were cut off by max_length (predicted "O", not dropped).
public func evaluateSentences(_ bundle: LSBundle, _ sentences: [TaggedSentence], batch: Int = 8,
                              aggregate: WordAggregation = .first) throws -> (scores: EntityScores, truncatedWords: Int) {
    if let i = sentences.firstIndex(where: { $0.tags == nil }) { throw LSLlamaError("sentence \(i + 1) has no tags to score against") }
    let preds = try LSPredictor(bundle: bundle, batch: batch, aggregate: aggregate).predict(sentences: sentences.map(\.words))
    let labels = bundle.config.labels
    let scores = EntityScores.score(gold: sentences.map { $0.tags ?? [] }, predicted: preds.map { $0.tags.map { labels[$0] } })
    return (scores, preds.reduce(0) { $0 + $1.truncatedWords })
}
