// PostProcessors: adding the special tokens a model expects around one sequence or a pair.
// TemplateProcessing ("[CLS] $A [SEP] $B:1 [SEP]:1"), BertProcessing, RobertaProcessing (with its
// offset trimming), ByteLevel (offset trimming only) and Sequence. Without add_special_tokens the
// sequences are still joined and typed as the processor says, as in Hugging Face's tokenizers.

protocol PostProcessor {
    /// Tokens added for one sequence (pair false) or a pair.
    func addedTokens(pair: Bool) -> Int
    func process(_ encs: [Encoding], addSpecialTokens: Bool) -> [Encoding]
    /// Every id it can add (they count in the tokenizer's vocabSize).
    var specialIds: [Int] { get }
}

/// Join encodings one after the other (HF's default_process; processors return lists, the tokenizer joins).
func defaultProcess(_ encs: [Encoding]) -> [Encoding] {
    guard encs.count > 1 else { return encs }
    var out = Encoding()
    for e in encs { out.append(e) }
    return [out]
}

func makePostProcessor(_ j: JSONValue) throws -> PostProcessor? {
    if j.isNull { return nil }
    guard let type = j["type"]?.stringValue else { throw TokenizerError("post_processor without a \"type\"") }
    func pairOf(_ k: String) throws -> (String, Int) {
        guard let a = j[k]?.arrayValue, a.count == 2, let s = a[0].stringValue, let id = try a[1].numberValue?.int() else {
            throw TokenizerError("\(type): \"\(k)\" is not [token, id]")
        }
        return (s, id)
    }
    switch type {
    case "TemplateProcessing": return try TemplateProcessing(j)
    case "BertProcessing":
        let cls = try pairOf("cls"), sep = try pairOf("sep")
        return try TemplateProcessing(single: [.special(cls.0, 0), .seq(0, 0), .special(sep.0, 0)],
                                      pair: [.special(cls.0, 0), .seq(0, 0), .special(sep.0, 0), .seq(1, 1), .special(sep.0, 1)],
                                      specials: [cls.0: ([cls.1], [cls.0]), sep.0: ([sep.1], [sep.0])])
    case "RobertaProcessing":
        let cls = try pairOf("cls"), sep = try pairOf("sep")
        let t = try TemplateProcessing(single: [.special(cls.0, 0), .seq(0, 0), .special(sep.0, 0)],
                                       pair: [.special(cls.0, 0), .seq(0, 0), .special(sep.0, 0), .special(sep.0, 0), .seq(1, 0), .special(sep.0, 0)],
                                       specials: [cls.0: ([cls.1], [cls.0]), sep.0: ([sep.1], [sep.0])])
        let trim = j["trim_offsets"]?.boolValue ?? true
        return ProcessorSequence(items: trim ? [TrimOffsets(addPrefixSpace: j["add_prefix_space"]?.boolValue ?? true), t] : [t])
    case "ByteLevel":
        return (j["trim_offsets"]?.boolValue ?? true) ? TrimOffsets(addPrefixSpace: j["add_prefix_space"]?.boolValue ?? true) : ProcessorSequence(items: [])
    case "Sequence":
        return ProcessorSequence(items: try (j["processors"]?.arrayValue ?? []).compactMap { try makePostProcessor($0) })
    default: throw TokenizerError("unknown post_processor type \"\(type)\"")
    }
}

struct ProcessorSequence: PostProcessor {
    let items: [PostProcessor]
    var specialIds: [Int] { items.flatMap { $0.specialIds } }
    func addedTokens(pair: Bool) -> Int { items.reduce(0) { $0 + $1.addedTokens(pair: pair) } }
    func process(_ encs: [Encoding], addSpecialTokens: Bool) -> [Encoding] {
        return items.reduce(encs) { $1.process($0, addSpecialTokens: addSpecialTokens) }
    }
}

/// ByteLevel's trim_offsets: offsets leave out the leading/trailing spaces a token carries.
struct TrimOffsets: PostProcessor {
    let addPrefixSpace: Bool
    var specialIds: [Int] { [] }
    func addedTokens(pair: Bool) -> Int { 0 }
    func process(_ encs: [Encoding], addSpecialTokens: Bool) -> [Encoding] {
        encs.map(trim)
    }
    func trim(_ e: Encoding) -> Encoding {
        var e = e
        for i in 0..<e.count {
            let t = scalars(e.tokens[i])
            func isSp(_ c: UInt32) -> Bool { c == ByteLevel.space || UChar.isSpace(c) }
            var lead = 0
            while lead < t.count && isSp(t[lead]) { lead += 1 }
            var trail = 0
            while trail < t.count && isSp(t[t.count - 1 - trail]) { trail += 1 }
            if lead > 0 {
                let isFirst = i == 0 || e.starts[i] == 0
                if isFirst && addPrefixSpace && lead == 1 { lead = 0 }
                e.starts[i] = min(e.starts[i] + lead, e.ends[i])
            }
            if trail > 0 && e.ends[i] >= trail { e.ends[i] = max(e.ends[i] - trail, e.starts[i]) }
        }
        e.overflowing = e.overflowing.map(trim)
        return e
    }
}

struct TemplateProcessing: PostProcessor {
    enum Piece { case seq(Int, Int), special(String, Int) }  // (sequence 0/1 or token, type id)
    let single: [Piece], pair: [Piece]
    let specials: [String: ([Int], [String])]

    init(single: [Piece], pair: [Piece], specials: [String: ([Int], [String])]) throws {
        self.single = single; self.pair = pair; self.specials = specials
        for case .special(let s, _) in single + pair where specials[s] == nil {
            throw TokenizerError("TemplateProcessing: special token \"\(s)\" has no ids")
        }
        // Ids and type ids index a model's embedding tables: refused here when negative or past 2^31.
        for (s, v) in specials {
            if let bad = v.0.first(where: { $0 < 0 || $0 >= Int(Int32.max) }) {
                throw TokenizerError("TemplateProcessing: special token \"\(s)\" has id \(bad)")
            }
        }
        for piece in single + pair {
            switch piece {
            case .seq(_, let t), .special(_, let t):
                if t < 0 || t >= Int(Int32.max) { throw TokenizerError("TemplateProcessing: type id \(t)") }
            }
        }
    }

    var specialIds: [Int] { specials.values.flatMap { $0.0 } }

    init(_ j: JSONValue) throws {
        func pieces(_ v: JSONValue?) throws -> [Piece] {
            if let s = v?.stringValue { return try TemplateProcessing.parse(s) }
            return try (v?.arrayValue ?? []).map { p in
                if let s = p["Sequence"] {
                    return .seq(s["id"]?.stringValue == "B" ? 1 : 0, try s["type_id"]?.numberValue?.int() ?? 0)
                }
                if let s = p["SpecialToken"], let id = s["id"]?.stringValue { return .special(id, try s["type_id"]?.numberValue?.int() ?? 0) }
                throw TokenizerError("TemplateProcessing: unknown piece")
            }
        }
        var sp: [String: ([Int], [String])] = [:]
        if let o = j["special_tokens"]?.objectValue {
            for m in o {
                let ids = try (m.value["ids"]?.arrayValue ?? []).map { try $0.numberValue?.int() ?? 0 }
                let toks = (m.value["tokens"]?.arrayValue ?? []).compactMap(\.stringValue)
                sp[m.value["id"]?.stringValue ?? m.key] = (ids, toks)
            }
        }
        try self.init(single: try pieces(j["single"]), pair: try pieces(j["pair"]), specials: sp)
    }

    /// "[CLS]:0 $A:0 [SEP]:0" -> pieces.
    static func parse(_ s: String) throws -> [Piece] {
        try s.split(separator: " ").map { w in
            let parts = w.split(separator: ":", maxSplits: 1)
            guard let first = parts.first else { throw TokenizerError("TemplateProcessing: bad piece \(w)") }  // ":" alone
            let name = String(first)
            let type = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            if name.hasPrefix("$") {
                let r = name.dropFirst()
                if r == "" || r == "A" { return .seq(0, type) }
                if r == "B" { return .seq(1, type) }
                if let n = Int(r) { return .seq(0, n) }
                throw TokenizerError("TemplateProcessing: bad piece \(w)")
            }
            return .special(name, type)
        }
    }

    func addedTokens(pair p: Bool) -> Int {
        (p ? pair : single).reduce(0) { n, piece in
            if case .special(let s, _) = piece { return n + (specials[s]?.0.count ?? 0) }
            return n
        }
    }

    func process(_ encs: [Encoding], addSpecialTokens: Bool) -> [Encoding] {
        let template = encs.count > 1 ? pair : single
        var out = Encoding()
        for piece in template {
            switch piece {
            case .seq(let k, let type):
                guard k < encs.count else { continue }
                var e = encs[k]
                e.typeIds = [Int](repeating: type, count: e.count)
                out.append(e)
            case .special(let s, let type):
                guard addSpecialTokens, let (ids, toks) = specials[s] else { continue }
                for (i, id) in ids.enumerated() {
                    out.append(id: id, token: i < toks.count ? toks[i] : s, start: 0, end: 0, typeId: type, special: true, word: nil)
                }
            }
        }
        return [out]
    }
}
