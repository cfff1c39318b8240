// Sentences as the tagger takes them: token ids (the runtime's encode(words:), cut at max_length),
// each word's first sub-token (the position its label, or its teacher distribution, sits at), and the
// tag indices of labelled data. A batch flattens the words' first sub-tokens to rows of [B·T, ·].
import Runtime

public struct TaggerExample: Sendable {
    public var ids: [Int]
    /// The first sub-token of each word that survived truncation.
    public var firstTokens: [Int]
    /// The index of each such word in the sentence.
    public var words: [Int]
    /// Tag indices of those words (labelled data), else empty.
    public var tags: [Int]
}

public struct TaggerEncoder {
    public let tokenizer: Tokenizer
    public let config: ProKDConfig

    public init(tokenizer: Tokenizer, config: ProKDConfig) { (self.tokenizer, self.config) = (tokenizer, config) }

    public func encodeWords(_ words: [String]) throws -> EncodedWords {
        do { return try tokenizer.encode(words: words, maxLength: config.maxLength) } catch let e as DataError { throw ProKDError(e.description) }
    }

    /// A sentence; with `labelled` its tags must be among the config's.
    public func encode(_ s: TaggedSentence, labelled: Bool) throws -> TaggerExample {
        let enc = try encodeWords(s.words)
        var e = TaggerExample(ids: enc.ids, firstTokens: [], words: [], tags: [])
        for (w, first) in enc.firstTokens.enumerated() {
            guard let first else { continue }
            e.firstTokens.append(first)
            e.words.append(w)
        }
        if labelled {
            guard let tags = s.tags else { throw ProKDError("a sentence has no tags") }
            e.tags = try e.words.map { w in
                guard let k = config.tags.firstIndex(of: tags[w]) else { throw ProKDError("tag '\(tags[w])' is not one of \(config.tags)") }
                return k
            }
        }
        return e
    }

    /// Sentences for training: those with no word left after truncation are dropped (they would
    /// give a batch without rows).
    public func encode(_ sentences: [TaggedSentence], labelled: Bool) throws -> [TaggerExample] {
        try sentences.enumerated().compactMap { i, s in
            do {
                let e = try encode(s, labelled: labelled)
                return e.words.isEmpty ? nil : e
            } catch let e as ProKDError { throw ProKDError("sentence \(i + 1): \(e)") }
        }
    }
}

/// A padded batch and the flat row (b·T + t) of every labelled word's first sub-token, in example order.
public struct TaggerBatch {
    public let tokens: TokenBatch
    public let rows: [Int]
    /// For each row, its example in the batch.
    public let rowExample: [Int]

    public init(_ items: [TaggerExample], padId: Int, panelAligned: Bool = false) {
        tokens = TokenBatch(items.map(\.ids), padId: padId, panelAligned: panelAligned)
        var rows: [Int] = [], of: [Int] = []
        for (b, e) in items.enumerated() {
            for t in e.firstTokens { rows.append(b * tokens.length + t); of.append(b) }
        }
        (self.rows, rowExample) = (rows, of)
    }

    /// [B, T, X] → the word rows [N, X].
    public func wordRows(_ x: Tensor) -> Tensor {
        let width = x.shape[x.rank - 1]
        return x.reshaped([tokens.batch * tokens.length, width]).indexSelect(axis: 0, rows)
    }
}
