// Tokenizer: text <-> token ids, identical to Hugging Face's tokenizers for a tokenizer.json (and
// to the tokenizer transformers builds from a GGUF file, GGUFTokenizer.swift).
//
// encode: added tokens are split off, the rest normalized, pre-tokenized into words, each word
// tokenized by the model (WordPiece, BPE, Unigram); then truncation, the post-processor's special
// tokens and padding. Offsets are code-point ranges into the original text. decode: ids -> token
// strings -> the decoder. Loading: a directory holding tokenizer.json, a tokenizer.json, or a .gguf.
import Foundation

public final class Tokenizer: @unchecked Sendable {
    var normalizer: Normalizer?
    var preTokenizer: PreTokenizer?
    var model: TokenModel
    var postProcessor: PostProcessor?
    var decoder: TokenDecoder?
    public private(set) var addedTokens: [AddedToken] = []
    private var addedById: [Int: AddedToken] = [:]
    private var rawMatcher = AddedTokenMatcher([], normalizer: nil)
    private var normMatcher = AddedTokenMatcher([], normalizer: nil)
    public var truncation: Truncation?
    public var padding: Padding?
    /// Special token ids when the tokenizer defines them.
    public var bosId: Int?, eosId: Int?, unkId: Int?, padId: Int?, clsId: Int?, sepId: Int?

    init(model: TokenModel) {
        self.model = model
        model.vocab.freeze()
    }

    /// Load from a directory with tokenizer.json, a tokenizer.json file, or a .gguf file.
    public static func load(path: String) throws -> Tokenizer {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw CheckpointError(path, "no such file or directory") }
        if isDir.boolValue {
            let f = (path as NSString).appendingPathComponent("tokenizer.json")
            guard FileManager.default.fileExists(atPath: f) else {
                throw CheckpointError(path, "no tokenizer.json in this directory (a .gguf file can be given directly)")
            }
            return try load(path: f)
        }
        if path.hasSuffix(".gguf") { return try fromGGUF(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError(path, "cannot read") }
        do {
            return try Tokenizer(json: JSONValue(parsing: [UInt8](data)))
        } catch let e as TokenizerError {
            throw CheckpointError(path, e.description)
        } catch let e as JSONError {
            throw CheckpointError(path, "not valid JSON: \(e)")
        }
    }

    /// Build from a parsed tokenizer.json.
    public convenience init(json j: JSONValue) throws {
        let m = j["model"] ?? .null
        let type = m["type"]?.stringValue ?? (m["merges"] != nil ? "BPE" : m["vocab"]?.arrayValue != nil ? "Unigram" : "WordPiece")
        let model: TokenModel
        switch type {
        case "WordPiece": model = try WordPieceModel(m)
        case "BPE": model = try BPEModel(m)
        case "Unigram": model = try UnigramModel(m)
        default: throw TokenizerError("unknown model type \"\(type)\"")
        }
        self.init(model: model)
        normalizer = try makeNormalizer(j["normalizer"] ?? .null)
        preTokenizer = try makePreTokenizer(j["pre_tokenizer"] ?? .null)
        postProcessor = try makePostProcessor(j["post_processor"] ?? .null)
        decoder = try makeDecoder(j["decoder"] ?? .null)
        var added: [AddedToken] = []
        for a in j["added_tokens"]?.arrayValue ?? [] {
            guard let content = a["content"]?.stringValue, let id = try a["id"]?.numberValue?.int() else {
                throw TokenizerError("added token without content or id")
            }
            added.append(AddedToken(content: content, id: id, special: a["special"]?.boolValue ?? false,
                                    singleWord: a["single_word"]?.boolValue ?? false, lstrip: a["lstrip"]?.boolValue ?? false,
                                    rstrip: a["rstrip"]?.boolValue ?? false, normalized: a["normalized"]?.boolValue ?? !(a["special"]?.boolValue ?? false)))
        }
        // Ids as HF assigns them on load: a token the model knows keeps the model's id; a new one
        // gets the next id past the model's vocabulary (the file's id is only checked, by HF, with a warning).
        var seen: [[UInt8]: Int] = [:]
        for k in added.indices {
            let key = Array(added[k].content.utf8)
            if let id = model.vocab.id(added[k].content) { added[k].id = id }
            else if let id = seen[key] { added[k].id = id }
            else {
                let size = model.vocab.count
                if let m = added[..<k].map(\.id).max() { added[k].id = m >= size || size == 0 ? m + 1 : size } else { added[k].id = size }
            }
            seen[key] = added[k].id
        }
        setAddedTokens(added)
        if let t = j["truncation"], !t.isNull {
            let strategy = Truncation.Strategy(rawValue: t["strategy"]?.stringValue ?? "LongestFirst") ?? .longestFirst
            let maxLen = try t["max_length"]?.numberValue?.int() ?? 512
            let overlap = try t["stride"]?.numberValue?.int() ?? 0
            guard maxLen >= 0, overlap >= 0 else {
                throw TokenizerError("truncation: max_length \(maxLen) and stride \(overlap) must not be negative")
            }
            truncation = Truncation(maxLength: maxLen, strategy: strategy, stride: overlap, left: t["direction"]?.stringValue == "Left")
        }
        if let p = j["padding"], !p.isNull {
            var pad = Padding()
            if let f = try p["strategy"]?["Fixed"]?.numberValue?.int() { pad.fixedLength = f }
            pad.left = p["direction"]?.stringValue == "Left"
            pad.padToMultipleOf = try p["pad_to_multiple_of"]?.numberValue?.int()
            pad.padId = try p["pad_id"]?.numberValue?.int() ?? 0
            pad.padTypeId = try p["pad_type_id"]?.numberValue?.int() ?? 0
            pad.padToken = p["pad_token"]?.stringValue ?? "[PAD]"
            // Lengths size every padded encoding and ids index embedding tables: refused here when
            // negative or absurd, not allocated or emitted.
            let fixed = pad.fixedLength ?? 0, multiple = pad.padToMultipleOf ?? 0
            guard fixed >= 0, fixed <= Tokenizer.maxPadding, multiple >= 0, multiple <= Tokenizer.maxPadding else {
                throw TokenizerError("padding: length \(fixed) and pad_to_multiple_of \(multiple) must be in 0...\(Tokenizer.maxPadding)")
            }
            guard pad.padId >= 0, pad.padId < Int(Int32.max), pad.padTypeId >= 0, pad.padTypeId < Int(Int32.max) else {
                throw TokenizerError("padding: pad_id \(pad.padId) and pad_type_id \(pad.padTypeId) must be ids (0..<2^31)")
            }
            padding = pad
        }
        for (name, slot) in [("[CLS]", \Tokenizer.clsId), ("[SEP]", \.sepId), ("[PAD]", \.padId), ("[UNK]", \.unkId),
                             ("<s>", \.bosId), ("</s>", \.eosId), ("<unk>", \.unkId), ("<pad>", \.padId)] as [(String, ReferenceWritableKeyPath<Tokenizer, Int?>)] {
            if self[keyPath: slot] == nil, let id = tokenToId(name) { self[keyPath: slot] = id }
        }
        if let u = m["unk_token"]?.stringValue { unkId = tokenToId(u) ?? unkId }
    }

    func setAddedTokens(_ added: [AddedToken]) {
        addedTokens = added
        // A normalized added token is stored, and decoded, in its normalized spelling (as HF does).
        addedById = Dictionary(added.map { a in
            var a = a
            if a.normalized, let n = normalizer { var t = NormalizedText(scalars(a.content), from: 0); n.normalize(&t); a.content = t.string }
            return (a.id, a)
        }, uniquingKeysWith: { $1 })
        rawMatcher = AddedTokenMatcher(added.filter { !$0.normalized }, normalizer: nil)
        normMatcher = AddedTokenMatcher(added.filter { $0.normalized }, normalizer: normalizer)
    }

    /// Adds tokens as Hugging Face's add_tokens does: each one the vocabulary lacks gets the next id
    /// (len(tokenizer)), is matched in the raw text before normalization, and (special) is dropped by
    /// decode's skipSpecialTokens; tokens already known keep their ids. Returns every token's id.
    @discardableResult
    public func addTokens(_ contents: [String], special: Bool) -> [Int] {
        var added = addedTokens
        let ids = contents.map { content -> Int in
            if let id = tokenToId(content) { return id }
            let id = max(vocabSize, (added.map(\.id).max() ?? -1) + 1)
            added.append(AddedToken(content: content, id: id, special: special, normalized: !special))
            setAddedTokens(added)
            return id
        }
        return ids
    }

    // MARK: vocabulary

    /// Longest padding a tokenizer.json may ask for (fixed length or multiple).
    static let maxPadding = 1 << 20

    /// One past the largest id encode can produce: the model's and added tokens', and the special
    /// tokens of the post-processor and padding (a model checks it has an embedding row for each).
    public var vocabSize: Int {
        max(model.vocab.maxId + 1, (addedTokens.map(\.id).max() ?? -1) + 1,
            (postProcessor?.specialIds.max() ?? -1) + 1, padding.map { $0.padId + 1 } ?? 0)
    }

    public func tokenToId(_ token: String) -> Int? {
        let b = Array(token.utf8)
        if let a = addedTokens.last(where: { Array($0.content.utf8) == b }) { return a.id }
        if let a = addedById.values.first(where: { Array($0.content.utf8) == b }) { return a.id }
        return model.vocab.id(token)
    }

    public func idToToken(_ id: Int) -> String? { addedById[id]?.content ?? model.vocab.string(id) }

    // MARK: encode

    /// Encode one text or a pair. Throws only where HF does: a truncation that cannot be met
    /// (only_first/only_second on a too-short or missing sequence), or a model with no unknown token
    /// for a word it cannot spell. With truncation, overflowing windows are kept for single
    /// sequences (HF's cross product of pair overflows is not built).
    public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true) throws -> Encoding {
        var out = try encodeUnpadded(text, pair: pair, addSpecialTokens: addSpecialTokens)
        if let p = padding {
            var one = [out]
            padBatch(&one, p)
            out = one[0]
        }
        return out
    }

    /// Encode one text as `encode(_:pair:addSpecialTokens:)` does, without the overflowing windows (what
    /// `embed` and `tokenize` use). With right-side truncation, a text far longer than the truncation
    /// needs is tokenized from a prefix instead of whole: the work and memory follow the tokens kept,
    /// not the text (a 15 MB text cut to 128 tokens took 1 GB and 6-9 s whole). The prefix ends where a
    /// whitespace run starts, at least 32 scalars per kept token plus 4,096 into the text; the result is
    /// taken only when that prefix and one twice as long give the same encoding, so tokens near the cut
    /// (a word split by it, a merge or Viterbi path it changed) can never reach the kept ones. Otherwise,
    /// or for left truncation, the whole text is encoded.
    public func encode(_ text: String, addSpecialTokens: Bool = true, keepOverflow: Bool) throws -> Encoding {
        if !keepOverflow, let t = truncation, !t.left,
           let head = try prefixEncoding(text, addSpecialTokens: addSpecialTokens, truncation: t) {
            return head
        }
        var out = try encode(text, addSpecialTokens: addSpecialTokens)
        if !keepOverflow { out.overflowing = [] }
        return out
    }

    /// The encoding of a long text from its prefix (nil: the text is short, or the prefixes disagree).
    func prefixEncoding(_ text: String, addSpecialTokens: Bool, truncation t: Truncation) throws -> Encoding? {
        let kept = max(0, t.maxLength) + 2
        let (first, overflow) = kept.multipliedReportingOverflow(by: 32)
        guard !overflow, first + 4096 < Int.max / 8 else { return nil }
        let cut1 = first + 4096, cut2 = 2 * cut1
        // Scalars ≤ UTF-8 bytes: a text of fewer bytes than twice the longer cut is encoded whole.
        guard text.utf8.count > 2 * cut2 else { return nil }
        var head: [Unicode.Scalar] = []
        head.reserveCapacity(cut2 + 1)
        for u in text.unicodeScalars { head.append(u); if head.count > cut2 { break } }
        guard head.count > cut2 else { return nil }
        /// The end of the last word before `c` (where a whitespace run starts), or `c` when the second
        /// half holds none.
        func boundary(_ c: Int) -> Int {
            var i = c
            while i > c / 2 {
                if UChar.isSpace(head[i].value) && !UChar.isSpace(head[i - 1].value) { return i }
                i -= 1
            }
            return c
        }
        /// The prefix's encoding, and whether truncation cut it (what it cut went to `overflowing`).
        func encoded(_ end: Int) throws -> (Encoding, truncated: Bool) {
            var e = try encodeUnpadded(String(String.UnicodeScalarView(head[..<end])), pair: nil,
                                       addSpecialTokens: addSpecialTokens, truncation: t)
            let truncated = !e.overflowing.isEmpty
            e.overflowing = []
            if let p = padding { var one = [e]; padBatch(&one, p); e = one[0] }
            return (e, truncated)
        }
        // The shorter prefix must already be truncated, and agree with the longer.
        let (a, truncated) = try encoded(boundary(cut1))
        guard truncated else { return nil }
        return try encoded(boundary(cut2)).0 == a ? a : nil
    }

    /// Encode several texts (and optional pairs); with padding configured, all to one length.
    public func encodeBatch(_ texts: [String], pairs: [String]? = nil, addSpecialTokens: Bool = true) throws -> [Encoding] {
        var out = try texts.indices.map { try encodeUnpadded(texts[$0], pair: pairs?[$0], addSpecialTokens: addSpecialTokens) }
        if let p = padding { padBatch(&out, p) }
        return out
    }

    /// Encode one text with the special tokens, cut to `maxLength` tokens from the right as
    /// transformers' `tokenizer(text, truncation=True, max_length=maxLength)` does (whatever this
    /// tokenizer's own truncation and padding say); nil: no truncation.
    public func encode(_ text: String, maxLength: Int?) throws -> Encoding {
        try encodeUnpadded(text, pair: nil, addSpecialTokens: true, truncation: maxLength.map { Truncation(maxLength: $0) } ?? nil)
    }

    /// How many special tokens the post-processor adds to one text (or a pair).
    public func specialTokenCount(pair: Bool = false) -> Int { postProcessor?.addedTokens(pair: pair) ?? 0 }

    /// Encode, truncate and add special tokens; no padding.
    func encodeUnpadded(_ text: String, pair: String?, addSpecialTokens: Bool) throws -> Encoding {
        try encodeUnpadded(text, pair: pair, addSpecialTokens: addSpecialTokens, truncation: truncation)
    }

    func encodeUnpadded(_ text: String, pair: String?, addSpecialTokens: Bool, truncation: Truncation?) throws -> Encoding {
        var a = try encodeSequence(text, typeId: 0)
        var b = try pair.map { try encodeSequence($0, typeId: 1) }
        if let t = truncation {
            let n = addSpecialTokens ? (postProcessor?.addedTokens(pair: b != nil) ?? 0) : 0
            try truncatePair(&a, &b, t, maxLength: max(0, t.maxLength - n))
        }
        var encs = [a] + (b.map { [$0] } ?? [])
        if let p = postProcessor {
            let overA = a.overflowing
            encs = defaultProcess(p.process(encs, addSpecialTokens: addSpecialTokens))
            if b == nil && !overA.isEmpty {
                encs[0].overflowing = overA.map { defaultProcess(p.process([$0], addSpecialTokens: addSpecialTokens))[0] }
            }
        } else {
            encs = defaultProcess(encs)
        }
        return encs[0]
    }

    func encodeSequence(_ text: String, typeId: Int) throws -> Encoding {
        let chars = scalars(text)
        // Offsets are kept as Int32 (NormalizedText): a longer text is an error, not a trap.
        guard chars.count < Int(Int32.max) else {
            throw TokenizerError("a text of \(chars.count) code points is too long to tokenize (at most 2^31 - 2)")
        }
        var enc = Encoding()
        var word = 0
        var pieces: [NormalizedText] = []
        func flush() throws {
            if pieces.isEmpty { return }
            let words = preTokenizer.map { p in pieces.flatMap { p.split($0, isFirst: $0.origin == 0) } } ?? pieces
            var toks: [ModelToken] = []
            let names = model.vocab.strings
            for w in words where !w.isEmpty {
                toks.removeAll(keepingCapacity: true)
                try model.tokenize(w.chars, into: &toks)
                for t in toks {
                    let (s, e) = w.originalRange(Int(t.lo), Int(t.hi))
                    enc.append(id: Int(t.id), token: Int(t.id) < names.count ? names[Int(t.id)] : "", start: s, end: e, typeId: typeId, special: false, word: word)
                }
                word += 1
            }
            pieces.removeAll()
        }
        for (lo, hi, id, _) in rawMatcher.isEmpty ? [(0, chars.count, nil, false)] : rawMatcher.split(chars) {
            if let id {
                try flush()
                enc.append(id: id, token: String(String.UnicodeScalarView(chars[lo..<hi].compactMap(Unicode.Scalar.init))),
                           start: lo, end: hi, typeId: typeId, special: false, word: word)
                word += 1
                continue
            }
            var t = NormalizedText(chars[lo..<hi], from: lo)
            normalizer?.normalize(&t)
            if normMatcher.isEmpty { pieces.append(t); continue }
            for (l, h, nid, _) in normMatcher.split(t.chars) {
                let sub = t.slice(l, h)
                if let nid {
                    try flush()
                    let (s, e) = t.originalRange(l, h)
                    enc.append(id: nid, token: sub.string, start: s, end: e, typeId: typeId, special: false, word: word)
                    word += 1
                } else if !sub.isEmpty { pieces.append(sub) }
            }
        }
        try flush()
        return enc
    }

    // MARK: decode

    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        let toks: [String] = ids.compactMap { id in
            if let a = addedById[id] { return skipSpecialTokens && a.special ? nil : a.content }
            return model.vocab.string(id)
        }
        if let d = decoder { return d.chain(toks).joined() }
        return toks.joined(separator: " ")
    }
}
