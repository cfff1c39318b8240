// From text to token ids. Sequences: the text as the tokenizer encodes it (its own special tokens),
// cut to max_length. Tagged sentences: the words joined by single spaces and encoded as one text, each
// token assigned to the word its first non-space character falls in (code-point offsets), so a word's
// first sub-token is the first token assigned to it. This differs from the reference's
// is_split_into_words (a byte-level BPE then encodes each word without its leading space, which the
// model never saw in pre-training) and gives every word a character span for the output.
import Foundation
import Runtime

public struct EncodedWords: Sendable {
    public var ids: [Int]
    /// For each token, the word it belongs to (nil: a special token).
    public var tokenWord: [Int?]
    /// For each word, its tokens (empty when truncation cut the word off).
    public var wordTokens: [[Int]]
    /// Each word's [start, end) in code points of the joined text.
    public var spans: [(Int, Int)]
    public var truncatedWords: Int { wordTokens.filter(\.isEmpty).count }
}

public struct LSEncoder {
    public let tokenizer: Tokenizer
    public let maxLength: Int

    public init(tokenizer: Tokenizer, maxLength: Int) {
        (self.tokenizer, self.maxLength) = (tokenizer, maxLength)
    }

    public func encode(_ text: String) throws -> [Int] {
        let ids = try tokenizer.encode(text, maxLength: maxLength).ids
        guard !ids.isEmpty else { throw LSLlamaError("the text encodes to no tokens") }
        return ids
    }

    public func encode(words: [String]) throws -> EncodedWords {
        guard !words.isEmpty else { throw LSLlamaError("a sentence needs at least one word") }
        if let w = words.firstIndex(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
            throw LSLlamaError("word \(w + 1) is empty or white space")
        }
        var charWord: [Int?] = [], spans: [(Int, Int)] = []
        for (w, word) in words.enumerated() {
            if w > 0 { charWord.append(nil) }
            let n = word.unicodeScalars.count
            spans.append((charWord.count, charWord.count + n))
            charWord += [Int?](repeating: w, count: n)
        }
        let enc = try tokenizer.encode(words.joined(separator: " "), maxLength: maxLength)
        var tokenWord: [Int?] = [], wordTokens = [[Int]](repeating: [], count: words.count)
        for (t, (s, e)) in enc.offsets.enumerated() {
            var word: Int? = nil
            if enc.specialTokensMask[t] == 0 {
                for c in s..<max(s, min(e, charWord.count)) where charWord[c] != nil { word = charWord[c]; break }
            }
            tokenWord.append(word)
            if let word { wordTokens[word].append(t) }
        }
        guard !enc.ids.isEmpty else { throw LSLlamaError("the sentence encodes to no tokens") }
        return EncodedWords(ids: enc.ids, tokenWord: tokenWord, wordTokens: wordTokens, spans: spans)
    }
}
