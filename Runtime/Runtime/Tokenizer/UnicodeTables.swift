// UnicodeTables: the character classes tokenizers ask about, one lookup per code point.
//
// A flat table of flag bytes for all of U+0000...U+10FFFF, filled a page at a time from the standard library's
// Unicode properties: letters (\p{L}), numbers (\p{N}), White_Space (\s, Rust's char::is_whitespace),
// word characters (\w as Oniguruma defines it: Alphabetic, Mark, Nd, Pc; not ICU's Join_Control),
// punctuation (\p{P}), marks (Mn, Mc, Me: what StripAccents removes, as unicode-normalization's is_combining_mark) and BERT's "control" (Cc, Cf,
// Cn, Co, Cs). Canonical/compatibility decompositions come from Foundation, cached per code point.
import CPool
import Foundation

enum UChar {
    static let letter: UInt8 = 1, number: UInt8 = 2, space: UInt8 = 4, word: UInt8 = 8
    static let punct: UInt8 = 16, nonspacingMark: UInt8 = 32, other: UInt8 = 64, mark: UInt8 = 128

    /// Flags for every code point (surrogates get `other`), filled a page of 256 code points at a time
    /// on first use: the whole table took 150 ms of Unicode property lookups, two thirds of a program's
    /// start-up (a Spark stage pays it per partition); a text in one script touches a few pages. Readers
    /// read a page only after seeing its ready byte (acquire); a page is written under the lock.
    static let table: UnsafeMutablePointer<UInt8> = .allocate(capacity: 0x110000)
    static let ready: UnsafeMutablePointer<UInt8> = {
        let r = UnsafeMutablePointer<UInt8>.allocate(capacity: 0x1100)
        r.initialize(repeating: 0, count: 0x1100)
        return r
    }()
    static let fillLock = NSLock()

    static func computeFlags(_ v: Int) -> UInt8 {
        guard let s = Unicode.Scalar(UInt32(v)) else { return other }
        let p = s.properties
        var f: UInt8 = 0
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: f |= letter
        case .decimalNumber: f |= number | word
        case .letterNumber, .otherNumber: f |= number
        case .connectorPunctuation: f |= punct | word
        case .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: f |= punct
        case .nonspacingMark: f |= nonspacingMark | mark | word
        case .spacingMark, .enclosingMark: f |= mark | word
        case .control, .format, .unassigned, .privateUse, .surrogate: f |= other
        default: break
        }
        if p.isWhitespace { f |= space }
        if p.isAlphabetic { f |= word }
        return f
    }

    @inline(never) static func fill(page: Int) {
        fillLock.lock()
        defer { fillLock.unlock() }
        guard pool_load_acquire(ready + page) == 0 else { return }
        for v in (page << 8)..<((page + 1) << 8) { table[v] = computeFlags(v) }
        pool_store_release(ready + page, 1)
    }

    @inline(__always) static func flags(_ c: UInt32) -> UInt8 {
        guard c < 0x110000 else { return other }
        let page = Int(c >> 8)
        if pool_load_acquire(ready + page) == 0 { fill(page: page) }
        return table[Int(c)]
    }
    @inline(__always) static func isLetter(_ c: UInt32) -> Bool { flags(c) & letter != 0 }
    @inline(__always) static func isNumber(_ c: UInt32) -> Bool { flags(c) & number != 0 }
    @inline(__always) static func isSpace(_ c: UInt32) -> Bool {
        c < 0x80 ? (c == 32 || (c >= 9 && c <= 13)) : flags(c) & space != 0
    }
    @inline(__always) static func isWord(_ c: UInt32) -> Bool { flags(c) & word != 0 }
    /// BERT's punctuation: ASCII punctuation and symbols, or any \p{P}.
    @inline(__always) static func isBertPunct(_ c: UInt32) -> Bool {
        (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)
            || flags(c) & punct != 0
    }
    static func isChinese(_ c: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(c) || (0x3400...0x4DBF).contains(c) || (0x20000...0x2A6DF).contains(c)
            || (0x2A700...0x2B73F).contains(c) || (0x2B740...0x2B81F).contains(c)
            || (0x2B920...0x2CEAF).contains(c) || (0xF900...0xFAFF).contains(c) || (0x2F800...0x2FA1F).contains(c)
    }

    // MARK: case mapping and decomposition (cached)

    private static let lock = NSLock()
    nonisolated(unsafe) private static var lowerCache: [UInt32: [UInt32]] = [:]
    nonisolated(unsafe) private static var decompCache: [[UInt32: [UInt32]]] = [[:], [:]]
    nonisolated(unsafe) private static var composeCache: [[UInt32]: [UInt32]] = [:]

    /// Full lowercase mapping (Rust's char::to_lowercase): one or more scalars.
    static func lowercase(_ c: UInt32) -> [UInt32] {
        if c < 0x80 { return [(c >= 65 && c <= 90) ? c + 32 : c] }
        lock.lock(); defer { lock.unlock() }
        if let r = lowerCache[c] { return r }
        let r = Unicode.Scalar(c).map { $0.properties.lowercaseMapping.unicodeScalars.map(\.value) } ?? [c]
        lowerCache[c] = r
        return r
    }

    /// Full canonical (compat false) or compatibility decomposition, canonically ordered.
    static func decompose(_ c: UInt32, compat: Bool) -> [UInt32] {
        if c < 0xC0 && (!compat || c < 0xA0) { return [c] }
        lock.lock(); defer { lock.unlock() }
        let k = compat ? 1 : 0
        if let r = decompCache[k][c] { return r }
        var r = [c]
        if let s = Unicode.Scalar(c) {
            let str = String(Character(s))
            let d = compat ? str.decomposedStringWithCompatibilityMapping : str.decomposedStringWithCanonicalMapping
            r = d.unicodeScalars.map(\.value)
        }
        decompCache[k][c] = r
        return r
    }

    /// NFC (compat false) or NFKC of a short run of scalars, through Foundation.
    static func compose(_ s: [UInt32], compat: Bool) -> [UInt32] {
        var str = String.UnicodeScalarView()
        for c in s { if let u = Unicode.Scalar(c) { str.append(u) } }
        let t = String(str)
        let r = compat ? t.precomposedStringWithCompatibilityMapping : t.precomposedStringWithCanonicalMapping
        return r.unicodeScalars.map(\.value)
    }

    static func combiningClass(_ c: UInt32) -> UInt8 {
        c < 0x300 ? 0 : (Unicode.Scalar(c)?.properties.canonicalCombiningClass.rawValue ?? 0)
    }
}
