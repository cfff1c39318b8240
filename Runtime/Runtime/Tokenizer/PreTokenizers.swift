// PreTokenizers: cutting normalized text into words before the model sees them.
//
// BertPreTokenizer, ByteLevel (add_prefix_space, use_regex with GPT-2's pattern; the byte-to-char
// mapping is in ByteLevel.swift), Whitespace, WhitespaceSplit, Metaspace (replacement,
// prepend_scheme always/first/never, split), Split (string or regex, five behaviours, invert),
// Digits, Punctuation and Sequence. Each maps one piece to several; pieces already claimed by an
// added token are left alone by the caller. An unknown "type" is an error naming it.

protocol PreTokenizer {
    func split(_ piece: NormalizedText, isFirst: Bool) -> [NormalizedText]
}

func makePreTokenizer(_ j: JSONValue) throws -> PreTokenizer? {
    if j.isNull { return nil }
    guard let type = j["type"]?.stringValue else { throw TokenizerError("pre_tokenizer without a \"type\"") }
    func behavior(_ key: String = "behavior", _ def: SplitBehavior) throws -> SplitBehavior {
        guard let s = j[key]?.stringValue else { return def }
        guard let b = SplitBehavior(rawValue: s) else { throw TokenizerError("unknown split behavior \"\(s)\"") }
        return b
    }
    switch type {
    case "BertPreTokenizer": return BertPreTokenizer()
    case "ByteLevel":
        return ByteLevelPreTokenizer(addPrefixSpace: j["add_prefix_space"]?.boolValue ?? true,
                                     useRegex: j["use_regex"]?.boolValue ?? true)
    case "Whitespace": return PatternPreTokenizer(pattern: WordPattern(joinControl: true), behavior: .removed, invert: true)
    case "WhitespaceSplit": return CharSplitPreTokenizer(behavior: .removed) { UChar.isSpace($0) }
    case "Metaspace":
        let rep = (j["replacement"]?.stringValue ?? "\u{2581}").unicodeScalars.map(\.value)
        var scheme = j["prepend_scheme"]?.stringValue ?? "always"
        if j["prepend_scheme"] == nil, let add = j["add_prefix_space"]?.boolValue { scheme = add ? "always" : "never" }
        guard ["always", "first", "never"].contains(scheme) else { throw TokenizerError("unknown Metaspace prepend_scheme \"\(scheme)\"") }
        return MetaspacePreTokenizer(replacement: rep.first ?? 0x2581, scheme: scheme, split: j["split"]?.boolValue ?? true)
    case "Split":
        let p = j["pattern"]
        return PatternPreTokenizer(pattern: try makeSplitPattern(string: p?["String"]?.stringValue, regex: p?["Regex"]?.stringValue),
                                   behavior: try behavior("behavior", .removed), invert: j["invert"]?.boolValue ?? false)
    case "Digits":
        let individual = j["individual_digits"]?.boolValue ?? false
        return CharSplitPreTokenizer(behavior: individual ? .isolated : .contiguous) { UChar.isNumber($0) }
    case "Punctuation":
        return CharSplitPreTokenizer(behavior: try behavior("behavior", .isolated)) { UChar.isBertPunct($0) }
    case "Sequence":
        return SequencePreTokenizer(items: try (j["pretokenizers"]?.arrayValue ?? []).compactMap { try makePreTokenizer($0) })
    default: throw TokenizerError("unknown pre_tokenizer type \"\(type)\"")
    }
}

struct SequencePreTokenizer: PreTokenizer {
    let items: [PreTokenizer]
    func split(_ piece: NormalizedText, isFirst: Bool) -> [NormalizedText] {
        var pieces = [piece]
        for p in items {
            var next: [NormalizedText] = []
            for q in pieces { next += p.split(q, isFirst: q.origin == 0) }
            pieces = next
        }
        return pieces
    }
}

struct BertPreTokenizer: PreTokenizer {
    func split(_ piece: NormalizedText, isFirst: Bool) -> [NormalizedText] {
        var m: [(Int, Int)] = []
        var remove: [Bool] = []
        let c = piece.chars
        for i in 0..<c.count {
            if UChar.isSpace(c[i]) { m.append((i, i + 1)); remove.append(true) }
            else if UChar.isBertPunct(c[i]) { m.append((i, i + 1)); remove.append(false) }
        }
        if m.isEmpty { return piece.isEmpty ? [] : [piece] }
        var out: [NormalizedText] = []
        var prev = 0
        for (k, (s, e)) in m.enumerated() {
            if prev < s { out.append(piece.slice(prev, s)) }
            if !remove[k] { out.append(piece.slice(s, e)) }
            prev = e
        }
        if prev < c.count { out.append(piece.slice(prev, c.count)) }
        return out
    }
}

struct PatternPreTokenizer: PreTokenizer {
    let pattern: SplitPattern, behavior: SplitBehavior, invert: Bool
    func split(_ piece: NormalizedText, isFirst: Bool) -> [NormalizedText] {
        piece.split(matches: pattern.matches(piece.chars), behavior: behavior, invert: invert)
    }
}

struct CharSplitPreTokenizer: PreTokenizer {
    let behavior: SplitBehavior
    let isDelimiter: (UInt32) -> Bool
    init(behavior: SplitBehavior, _ isDelimiter: @escaping (UInt32) -> Bool) {
        self.behavior = behavior; self.isDelimiter = isDelimiter
    }
    func split(_ piece: NormalizedText, isFirst: Bool) -> [NormalizedText] {
        piece.split(where: isDelimiter, behavior: behavior)
    }
}

struct MetaspacePreTokenizer: PreTokenizer {
    let replacement: UInt32, scheme: String, split: Bool
    func split(_ piece: NormalizedText, isFirst: Bool) -> [NormalizedText] {
        var t = piece
        if t.chars.contains(32) {
            t.transform(t.chars.map { ($0 == 32 ? replacement : $0, 0) })
        }
        if t.chars.first != replacement && (scheme == "always" || (scheme == "first" && isFirst)) {
            t.prepend([replacement])
        }
        if !split { return t.isEmpty ? [] : [t] }
        return t.split(where: { $0 == replacement }, behavior: .mergedWithNext)
    }
}

struct ByteLevelPreTokenizer: PreTokenizer {
    let addPrefixSpace: Bool, useRegex: Bool
    func split(_ piece: NormalizedText, isFirst: Bool) -> [NormalizedText] {
        var t = piece
        if addPrefixSpace && t.chars.first != 32 { t.prepend([32]) }
        let parts = useRegex ? t.split(matches: GPT2Pattern().matches(t.chars), behavior: .isolated) : (t.isEmpty ? [] : [t])
        return parts.map { ByteLevel.encode($0) }
    }
}
