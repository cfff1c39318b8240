// Decoders: token strings back to text. ByteLevel, WordPiece, Metaspace, ByteFallback, Fuse, Strip,
// Replace, BPEDecoder and Sequence, each a step over the list of token strings (decode_chain), as in
// Hugging Face's tokenizers; the final text is the concatenation. An unknown "type" is an error.

protocol TokenDecoder {
    func chain(_ tokens: [String]) -> [String]
}

func makeDecoder(_ j: JSONValue) throws -> TokenDecoder? {
    if j.isNull { return nil }
    guard let type = j["type"]?.stringValue else { throw TokenizerError("decoder without a \"type\"") }
    switch type {
    case "ByteLevel": return ByteLevelDecoder()
    case "WordPiece":
        return WordPieceDecoder(prefix: j["prefix"]?.stringValue ?? "##", cleanup: j["cleanup"]?.boolValue ?? true)
    case "Metaspace":
        var scheme = j["prepend_scheme"]?.stringValue ?? "always"
        if j["prepend_scheme"] == nil, let add = j["add_prefix_space"]?.boolValue { scheme = add ? "always" : "never" }
        return MetaspaceDecoder(replacement: (j["replacement"]?.stringValue ?? "\u{2581}").unicodeScalars.first ?? "\u{2581}",
                                prependScheme: scheme)
    case "ByteFallback": return ByteFallbackDecoder()
    case "Fuse": return FuseDecoder()
    case "Strip":
        let start = try j["start"]?.numberValue?.int() ?? 0
        let stop = try j["stop"]?.numberValue?.int() ?? 0
        guard start >= 0, stop >= 0 else { throw TokenizerError("Strip decoder: start \(start) and stop \(stop) must not be negative") }
        return StripDecoder(content: (j["content"]?.stringValue ?? " ").unicodeScalars.first ?? " ", start: start, stop: stop)
    case "Replace":
        let p = j["pattern"]
        return ReplaceDecoder(pattern: try makeSplitPattern(string: p?["String"]?.stringValue, regex: p?["Regex"]?.stringValue),
                              content: scalars(j["content"]?.stringValue ?? ""))
    case "BPEDecoder": return BPEDecoder(suffix: j["suffix"]?.stringValue ?? "</w>")
    case "Sequence": return SequenceDecoder(items: try (j["decoders"]?.arrayValue ?? []).compactMap { try makeDecoder($0) })
    default: throw TokenizerError("unknown decoder type \"\(type)\"")
    }
}

struct SequenceDecoder: TokenDecoder {
    let items: [TokenDecoder]
    func chain(_ tokens: [String]) -> [String] { items.reduce(tokens) { $1.chain($0) } }
}

struct ByteLevelDecoder: TokenDecoder {
    func chain(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for t in tokens {
            if let b = ByteLevel.bytes(of: scalars(t)) { bytes += b } else { bytes += Array(t.utf8) }
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}

struct WordPieceDecoder: TokenDecoder {
    let prefix: String, cleanup: Bool
    func chain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, t in
            var t = t
            if i != 0 {
                if t.utf8.starts(with: prefix.utf8) { t = String(decoding: t.utf8.dropFirst(prefix.utf8.count), as: UTF8.self) } else { t = " " + t }
            }
            return cleanup ? wordPieceCleanup(t) : t
        }
    }
}

/// HF's decoders::wordpiece::cleanup: undo the spaces tokenization put before punctuation.
func wordPieceCleanup(_ s: String) -> String {
    var r = Array(s.utf8)
    for (a, b) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                   (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
        r = replaceBytes(r, Array(a.utf8), Array(b.utf8))
    }
    return String(decoding: r, as: UTF8.self)
}

func replaceBytes(_ s: [UInt8], _ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
    guard !a.isEmpty, s.count >= a.count else { return s }
    var out: [UInt8] = []
    out.reserveCapacity(s.count)
    var i = 0
    while i < s.count {
        if i + a.count <= s.count && s[i] == a[0] && s[i..<(i + a.count)].elementsEqual(a) { out += b; i += a.count } else { out.append(s[i]); i += 1 }
    }
    return out
}

struct MetaspaceDecoder: TokenDecoder {
    let replacement: Unicode.Scalar, prependScheme: String
    func chain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, t in
            var v = String.UnicodeScalarView()
            for (k, c) in t.unicodeScalars.enumerated() {
                if c == replacement {
                    if i == 0 && k == 0 && prependScheme != "never" { continue }
                    v.append(" ")
                } else { v.append(c) }
            }
            return String(v)
        }
    }
}

struct ByteFallbackDecoder: TokenDecoder {
    func chain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let s = String(validating: pending, as: UTF8.self) { out.append(s) } else {
                out += [String](repeating: "\u{FFFD}", count: pending.count)
            }
            pending.removeAll()
        }
        for t in tokens {
            let u = Array(t.utf8)
            if u.count == 6, u.starts(with: Array("<0x".utf8)), u[5] == UInt8(ascii: ">"),
               let b = UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16) {
                pending.append(b)
            } else { flush(); out.append(t) }
        }
        flush()
        return out
    }
}

struct FuseDecoder: TokenDecoder {
    func chain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

struct StripDecoder: TokenDecoder {
    let content: Unicode.Scalar, start: Int, stop: Int
    func chain(_ tokens: [String]) -> [String] {
        tokens.map { t in
            let c = Array(t.unicodeScalars)
            var lo = 0
            for i in 0..<min(start, c.count) { if c[i] == content { lo = i + 1 } else { break } }
            var hi = c.count
            for i in 0..<min(stop, c.count) { let k = c.count - i - 1; if c[k] == content { hi = k } else { break } }
            if hi < lo { hi = lo }
            var v = String.UnicodeScalarView()
            v.append(contentsOf: c[lo..<hi])
            return String(v)
        }
    }
}

struct ReplaceDecoder: TokenDecoder {
    let pattern: SplitPattern, content: [UInt32]
    func chain(_ tokens: [String]) -> [String] {
        tokens.map { t in
            var n = NormalizedText(scalars(t), from: 0)
            n.replace(pattern, content)
            return n.string
        }
    }
}

struct BPEDecoder: TokenDecoder {
    let suffix: String
    func chain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, t in
            String(decoding: replaceBytes(Array(t.utf8), Array(suffix.utf8), i == tokens.count - 1 ? [] : [32]), as: UTF8.self)
        }
    }
}
