// WordPiece (BERT): greedy longest-match-first over a word's UTF-8, continuation pieces spelled with
// a prefix ("##"); a word with an unmatchable part, or longer than max_input_chars_per_word code
// points, becomes the single unknown token.

/// One token from a model: its id and its code-point range within the word.
struct ModelToken {
    var id: Int32
    var lo: Int32
    var hi: Int32
}

protocol TokenModel: AnyObject {
    var vocab: Vocab { get }
    func tokenize(_ word: [UInt32], into out: inout [ModelToken]) throws
}

final class WordPieceModel: TokenModel {
    let vocab: Vocab
    let unkId: Int?
    let unkToken: String
    let prefix: [UInt8]
    let maxChars: Int
    /// Bytes of the longest token: a longer piece is never looked up.
    let longest: Int

    init(vocab: Vocab, unkToken: String, prefix: String = "##", maxChars: Int = 100) {
        self.vocab = vocab
        self.unkToken = unkToken
        unkId = vocab.id(unkToken)
        self.prefix = Array(prefix.utf8)
        self.maxChars = maxChars
        longest = vocab.longestToken
    }

    init(_ j: JSONValue) throws {
        vocab = Vocab()
        guard let v = j["vocab"]?.objectValue else { throw TokenizerError("WordPiece model without a vocab") }
        for m in v { vocab.insert(Array(m.key.utf8), id: try vocabId(m, entries: v.count)) }
        unkToken = j["unk_token"]?.stringValue ?? "[UNK]"
        unkId = vocab.id(unkToken)
        prefix = Array((j["continuing_subword_prefix"]?.stringValue ?? "##").utf8)
        maxChars = try j["max_input_chars_per_word"]?.numberValue?.int() ?? 100
        longest = vocab.longestToken
    }

    func tokenize(_ word: [UInt32], into out: inout [ModelToken]) throws {
        let n = word.count
        func unk() throws {
            guard let u = unkId else { throw TokenizerError("WordPiece: unknown token \"\(unkToken)\" is not in the vocabulary") }
            out.append(ModelToken(id: Int32(u), lo: 0, hi: Int32(n)))
        }
        if n > maxChars { try unk(); return }
        // UTF-8 of the word behind the prefix, and where each code point starts.
        var buf = prefix
        let p = prefix.count
        var charStart: [Int] = []
        charStart.reserveCapacity(n + 1)
        var tmp: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        for c in word {
            charStart.append(buf.count - p)
            let k = utf8Encode(c, &tmp)
            withUnsafeBytes(of: &tmp) { for i in 0..<k { buf.append($0[i]) } }
        }
        charStart.append(buf.count - p)
        let mark = out.count
        var start = 0
        var key: [UInt8] = []
        key.reserveCapacity(buf.count)
        let ok: Bool = buf.withUnsafeBufferPointer { b in
            let base = b.baseAddress!  // invariant: words are never empty, so neither is buf
            while start < n {
                var end = n
                let extra = start == 0 ? 0 : p
                while end > start + 1 && charStart[end] - charStart[start] + extra > longest { end -= 1 }
                var found = -1
                while start < end {
                    let bs = charStart[start], be = charStart[end]
                    if start == 0 {
                        if let id = vocab.id(base + p + bs, be - bs) { found = id; break }
                    } else {
                        key.removeAll(keepingCapacity: true)
                        key += prefix
                        key += UnsafeBufferPointer(start: base + p + bs, count: be - bs)
                        if let id = key.withUnsafeBufferPointer({ vocab.id($0.baseAddress!, $0.count) }) { found = id; break }  // invariant: key holds a char
                    }
                    end -= 1
                }
                if found < 0 { return false }
                out.append(ModelToken(id: Int32(found), lo: Int32(start), hi: Int32(end)))
                start = end
            }
            return true
        }
        if !ok { out.removeSubrange(mark...); try unk() }
    }
}

/// The id of one "token": id member of a vocab object; a non-negative integer below 2^31, and less
/// than 2^20 past the number of entries (ids index an array sized by the largest: a file of a few
/// entries claiming id 2^31 - 2 is refused, not allocated).
func vocabId(_ m: JSONObject.Member, entries: Int) throws -> Int {
    guard let id = try? m.value.numberValue?.int(), id >= 0, id < Int(Int32.max) else {
        throw TokenizerError("vocab entry \"\(m.key)\" has no valid id")
    }
    guard id < entries + (1 << 20) else {
        throw TokenizerError("vocab entry \"\(m.key)\" has id \(id), far past the vocabulary's \(entries) entries (ids must stay below \(entries + (1 << 20)))")
    }
    return id
}
