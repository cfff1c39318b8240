// Normalizers: the first stage of a tokenizer.json pipeline, each editing a NormalizedText in place
// with Hugging Face's alignment rules (so offsets still point into the original text).
//
// BertNormalizer (clean_text, handle_chinese_chars, strip_accents, lowercase), NFC/NFD/NFKC/NFKD,
// Lowercase, StripAccents, Replace (string or regex), Prepend, Strip, Sequence and Precompiled
// (SentencePiece's charsmap, Precompiled.swift). An unknown "type" is an error naming it.

protocol Normalizer {
    func normalize(_ t: inout NormalizedText)
}

func makeNormalizer(_ j: JSONValue) throws -> Normalizer? {
    if j.isNull { return nil }
    guard let type = j["type"]?.stringValue else { throw TokenizerError("normalizer without a \"type\"") }
    switch type {
    case "BertNormalizer":
        let lowercase = j["lowercase"]?.boolValue ?? true
        return BertNormalizer(cleanText: j["clean_text"]?.boolValue ?? true,
                              chinese: j["handle_chinese_chars"]?.boolValue ?? true,
                              stripAccents: j["strip_accents"]?.boolValue ?? lowercase, lowercase: lowercase)
    case "NFC": return UnicodeNormalizer(compose: true, compat: false)
    case "NFD": return UnicodeNormalizer(compose: false, compat: false)
    case "NFKC": return UnicodeNormalizer(compose: true, compat: true)
    case "NFKD": return UnicodeNormalizer(compose: false, compat: true)
    case "Lowercase": return LowercaseNormalizer()
    case "StripAccents": return StripAccentsNormalizer()
    case "Replace":
        let p = j["pattern"]
        return ReplaceNormalizer(pattern: try makeSplitPattern(string: p?["String"]?.stringValue, regex: p?["Regex"]?.stringValue),
                                 content: (j["content"]?.stringValue ?? "").unicodeScalars.map(\.value))
    case "Prepend": return PrependNormalizer(prefix: (j["prepend"]?.stringValue ?? "").unicodeScalars.map(\.value))
    case "Strip": return StripNormalizer(left: j["strip_left"]?.boolValue ?? true, right: j["strip_right"]?.boolValue ?? true)
    case "Sequence":
        return SequenceNormalizer(items: try (j["normalizers"]?.arrayValue ?? []).compactMap { try makeNormalizer($0) })
    case "Precompiled":
        guard let b64 = j["precompiled_charsmap"]?.stringValue else { return SequenceNormalizer(items: []) }
        return try PrecompiledNormalizer(base64: b64)
    default: throw TokenizerError("unknown normalizer type \"\(type)\"")
    }
}

struct SequenceNormalizer: Normalizer {
    let items: [Normalizer]
    func normalize(_ t: inout NormalizedText) { for n in items { n.normalize(&t) } }
}

struct BertNormalizer: Normalizer {
    let cleanText: Bool, chinese: Bool, stripAccents: Bool, lowercase: Bool
    func normalize(_ t: inout NormalizedText) {
        if cleanText {
            if t.chars.contains(where: { $0 >= 0x7F || ($0 < 32 && $0 != 9 && $0 != 10 && $0 != 13) }) {
                t.filter { c in
                    if c == 0 || c == 0xFFFD { return false }
                    if c == 9 || c == 10 || c == 13 { return true }
                    return UChar.flags(c) & UChar.other == 0
                }
            }
            t.map { c in (c == 9 || c == 10 || c == 13 || UChar.isSpace(c)) ? 32 : c }
        }
        if chinese, t.chars.contains(where: { $0 >= 0x3400 && UChar.isChinese($0) }) {
            var dest: [(UInt32, Int)] = []
            for c in t.chars {
                if UChar.isChinese(c) { dest += [(32, 0), (c, 1), (32, 1)] } else { dest.append((c, 0)) }
            }
            t.transform(dest)
        }
        if stripAccents {
            UnicodeNormalizer(compose: false, compat: false).normalize(&t)
            t.filter { UChar.flags($0) & UChar.nonspacingMark == 0 }  // BERT drops Mn only; StripAccents all marks
        }
        if lowercase { LowercaseNormalizer().normalize(&t) }
    }
}

struct LowercaseNormalizer: Normalizer {
    func normalize(_ t: inout NormalizedText) {
        if !t.chars.contains(where: { $0 >= 0x80 }) {
            t.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
            return
        }
        var dest: [(UInt32, Int)] = []
        dest.reserveCapacity(t.count)
        for c in t.chars {
            let l = UChar.lowercase(c)
            for (k, x) in l.enumerated() { dest.append((x, k == 0 ? 0 : 1)) }
        }
        t.transform(dest)
    }
}

struct StripAccentsNormalizer: Normalizer {
    func normalize(_ t: inout NormalizedText) { t.filter { UChar.flags($0) & UChar.mark == 0 } }
}

struct ReplaceNormalizer: Normalizer {
    let pattern: SplitPattern, content: [UInt32]
    func normalize(_ t: inout NormalizedText) { t.replace(pattern, content) }
}

struct PrependNormalizer: Normalizer {
    let prefix: [UInt32]
    func normalize(_ t: inout NormalizedText) { if !t.isEmpty { t.prepend(prefix) } }
}

/// SentencePiece's whitespace handling as llama.cpp's UGM tokenizer does it: spaces escaped to U+2581;
/// `prepend`: one U+2581 before the first non-space character; `merge` (remove_extra_whitespaces): spaces
/// dropped and one U+2581 put before every run of non-space characters (so none at either end).
struct SentencePieceSpacesNormalizer: Normalizer {
    let prepend: Bool, merge: Bool
    func normalize(_ t: inout NormalizedText) {
        var dest: [(UInt32, Int)] = []
        dest.reserveCapacity(t.count + 8)
        var leading = 0, inWord = false, prepended = false
        for c in t.chars {
            if c != 32 {
                if !inWord {
                    inWord = true
                    if (prepend && !prepended) || merge { dest.append((0x2581, 1)); prepended = true }
                }
                dest.append((c, 0))
            } else {
                inWord = false
                if merge {
                    if dest.isEmpty { leading += 1 } else { dest[dest.count - 1].1 -= 1 }
                } else {
                    dest.append((0x2581, 0))
                }
            }
        }
        t.transform(dest, initialRemoved: leading)
    }
}

struct StripNormalizer: Normalizer {
    let left: Bool, right: Bool
    func normalize(_ t: inout NormalizedText) { t.strip(left: left, right: right) }
}

/// NFC, NFD, NFKC, NFKD with HF's (unicode-normalization-alignments) change bookkeeping: a char's
/// decomposition keeps its alignment; a composed char takes the alignment of its first part.
struct UnicodeNormalizer: Normalizer {
    let compose: Bool, compat: Bool

    func normalize(_ t: inout NormalizedText) {
        // ASCII is stable under every form, and no ASCII char composes with what precedes it.
        guard t.chars.contains(where: { $0 >= 0xA0 || ($0 >= 0x80 && compat) }) else { return }
        var dest: [(UInt32, Int)] = []
        dest.reserveCapacity(t.count + 8)
        // 1. Decompose, then put each run of non-starters in canonical order (stable by class).
        var dec: [(UInt32, Int, UInt8)] = []
        for c in t.chars {
            let d = UChar.decompose(c, compat: compat)
            for (k, x) in d.enumerated() { dec.append((x, k == 0 ? 0 : 1, UChar.combiningClass(x))) }
        }
        var i = 0
        while i < dec.count {
            if dec[i].2 == 0 { i += 1; continue }
            var j = i
            while j < dec.count && dec[j].2 != 0 { j += 1 }
            if j - i > 1 {
                let run = dec[i..<j].enumerated().sorted { ($0.element.2, $0.offset) < ($1.element.2, $1.offset) }.map(\.element)
                dec.replaceSubrange(i..<j, with: run)
            }
            i = j
        }
        if !compose {
            t.transform(dec.map { ($0.0, $0.1) })
            return
        }
        // 2. Compose chunk by chunk: a chunk starts at a starter and runs to the next starter that
        // cannot combine backwards (approximated: the next ASCII char or a char below U+0300).
        var k = 0
        while k < dec.count {
            var e = k + 1
            while e < dec.count && !(dec[e].0 < 0x300 && dec[e].2 == 0) { e += 1 }
            let chunk = dec[k..<e]
            if chunk.count == 1 {
                dest.append((chunk.first!.0, chunk.first!.1))  // invariant: chunk.count == 1
            } else {
                let composed = UChar.compose(chunk.map(\.0), compat: false)
                // Walk the composed chars, consuming the decomposed ones each stands for.
                var p = chunk.startIndex
                for (ci, c) in composed.enumerated() {
                    let parts = ci == composed.count - 1 ? chunk.endIndex - p : UChar.decompose(c, compat: false).count
                    let take = min(max(parts, 1), chunk.endIndex - p)
                    var change = 0
                    for q in p..<(p + take) { change += dec[q].1 }
                    change -= take - 1
                    dest.append((c, change))
                    p += take
                }
            }
            k = e
        }
        t.transform(dest)
    }
}
