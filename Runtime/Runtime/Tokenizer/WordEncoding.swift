// Pre-split words through a tokenizer, for tagging: the words joined by single spaces and encoded as
// one text, each token assigned to the word its first non-space character falls in (code-point
// offsets), so a word's first sub-token is the first token assigned to it and every word keeps a
// character span for the output. (Hugging Face's is_split_into_words encodes each word alone; a
// byte-level BPE then sees words without their leading space, which it never saw in pre-training.)

public struct EncodedWords: Sendable {
    public var ids: [Int]
    /// For each token, the word it belongs to (nil: a special token).
    public var tokenWord: [Int?]
    /// For each word, its tokens (empty when truncation cut the word off).
    public var wordTokens: [[Int]]
    /// Each word's [start, end) in code points of the joined text.
    public var spans: [(Int, Int)]
    public var truncatedWords: Int { wordTokens.filter(\.isEmpty).count }
    /// Each word's first token (nil: cut off).
    public var firstTokens: [Int?] { wordTokens.map(\.first) }
}

extension Tokenizer {
    /// `words` encoded as one text of at most `maxLength` tokens (special tokens included).
    public func encode(words: [String], maxLength: Int?) throws -> EncodedWords {
        guard !words.isEmpty else { throw DataError(description: "a sentence needs at least one word") }
        if let w = words.firstIndex(where: { $0.allSatisfy(\.isWhitespace) }) {
            throw DataError(description: "word \(w + 1) is empty or white space")
        }
        var charWord: [Int?] = [], spans: [(Int, Int)] = []
        for (w, word) in words.enumerated() {
            if w > 0 { charWord.append(nil) }
            let n = word.unicodeScalars.count
            spans.append((charWord.count, charWord.count + n))
            charWord += [Int?](repeating: w, count: n)
        }
        let enc = try encode(words.joined(separator: " "), maxLength: maxLength)
        var tokenWord: [Int?] = [], wordTokens = [[Int]](repeating: [], count: words.count)
        for (t, (s, e)) in enc.offsets.enumerated() {
            var word: Int? = nil
            if enc.specialTokensMask[t] == 0 {
                for c in s..<max(s, min(e, charWord.count)) where charWord[c] != nil { word = charWord[c]; break }
            }
            tokenWord.append(word)
            if let word { wordTokens[word].append(t) }
        }
        guard !enc.ids.isEmpty else { throw DataError(description: "the sentence encodes to no tokens") }
        return EncodedWords(ids: enc.ids, tokenWord: tokenWord, wordTokens: wordTokens, spans: spans)
    }
}
