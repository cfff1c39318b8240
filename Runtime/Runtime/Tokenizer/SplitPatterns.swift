// SplitPatterns: finding the pieces a Split pre-tokenizer or a Replace normalizer cuts on.
//
// A pattern reports its matches as code-point ranges. Literal strings are searched directly. The
// pre-tokenizer regexes that matter for speed (GPT-2's, Llama-3's and Qwen2's, and Whitespace's
// \w+|[^\w\s]+) have hand-written matchers that follow the regex engine step by step (alternatives in
// order, greedy runs, the backtracking of \s+(?!\S) and \s*[\r\n]+); tests check them against the
// generic engine on the corpus. Every other regex goes to ICU through NSRegularExpression, whose
// syntax covers what tokenizer.json files use (\p{L}, (?i:...), lookahead, possessive and atomic).
import Foundation

protocol SplitPattern {
    /// Non-empty, non-overlapping matches, left to right, as [start, end) code-point ranges.
    func matches(_ s: [UInt32]) -> [(Int, Int)]
}

/// Build the matcher for a tokenizer.json pattern: {"String": ...} or {"Regex": ...}.
func makeSplitPattern(string: String? = nil, regex: String? = nil) throws -> SplitPattern {
    if let string { return LiteralPattern(Array(string.unicodeScalars.map(\.value))) }
    guard let regex else { throw TokenizerError("a pattern needs \"String\" or \"Regex\"") }
    switch regex {
    case GPT2Pattern.source: return GPT2Pattern()
    case LlamaPattern.llama3: return LlamaPattern(maxDigits: 3)
    case LlamaPattern.qwen2: return LlamaPattern(maxDigits: 1)
    case WordPattern.source: return WordPattern()
    default: return try ICUPattern(regex)
    }
}

struct LiteralPattern: SplitPattern {
    let needle: [UInt32]
    init(_ needle: [UInt32]) { self.needle = needle }
    func matches(_ s: [UInt32]) -> [(Int, Int)] {
        let n = needle.count
        guard n > 0, s.count >= n else { return [] }
        var out: [(Int, Int)] = []
        var i = 0
        while i + n <= s.count {
            if s[i] == needle[0] && (n == 1 || s[i..<(i + n)].elementsEqual(needle)) { out.append((i, i + n)); i += n } else { i += 1 }
        }
        return out
    }
}

/// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
struct GPT2Pattern: SplitPattern {
    static let source = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

    func matches(_ s: [UInt32]) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        out.reserveCapacity(s.count / 3)
        s.withUnsafeBufferPointer { c in
            let n = c.count
            @inline(__always) func kind(_ x: UInt32) -> Int {  // 0 letter, 1 number, 2 space, 3 other
                if x < 0x80 {
                    if (x >= 97 && x <= 122) || (x >= 65 && x <= 90) { return 0 }
                    if x >= 48 && x <= 57 { return 1 }
                    if x == 32 || (x >= 9 && x <= 13) { return 2 }
                    return 3
                }
                let f = UChar.flags(x)
                return f & UChar.letter != 0 ? 0 : f & UChar.number != 0 ? 1 : f & UChar.space != 0 ? 2 : 3
            }
            var i = 0
            while i < n {
                let x = c[i]
                if x == 39, i + 1 < n {  // contractions
                    let a = c[i + 1]
                    if a == 115 || a == 116 || a == 109 || a == 100 { out.append((i, i + 2)); i += 2; continue }
                    if i + 2 < n {
                        let b = c[i + 2]
                        if (a == 114 && b == 101) || (a == 118 && b == 101) || (a == 108 && b == 108) {
                            out.append((i, i + 3)); i += 3; continue
                        }
                    }
                }
                var k = kind(x)
                var j = i
                if x == 32, i + 1 < n {
                    let k1 = kind(c[i + 1])
                    if k1 != 2 { k = k1; j = i + 1 }
                }
                if k != 2 {
                    j += 1
                    while j < n && kind(c[j]) == k { j += 1 }
                    out.append((i, j)); i = j; continue
                }
                // whitespace run
                j = i + 1
                while j < n && kind(c[j]) == 2 { j += 1 }
                if j < n && j - 1 > i { j -= 1 }  // \s+(?!\S) leaves the last space to the next token
                out.append((i, j)); i = j
            }
        }
        return out
    }
}

/// Llama-3's split (maxDigits 3) and Qwen2's (maxDigits 1):
/// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
struct LlamaPattern: SplitPattern {
    static let llama3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    static let qwen2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
    let maxDigits: Int

    func matches(_ s: [UInt32]) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        out.reserveCapacity(s.count / 3)
        s.withUnsafeBufferPointer { c in
            let n = c.count
            @inline(__always) func kind(_ x: UInt32) -> Int {  // 0 letter, 1 number, 2 space, 3 other
                if x < 0x80 {
                    if (x >= 97 && x <= 122) || (x >= 65 && x <= 90) { return 0 }
                    if x >= 48 && x <= 57 { return 1 }
                    if x == 32 || (x >= 9 && x <= 13) { return 2 }
                    return 3
                }
                let f = UChar.flags(x)
                return f & UChar.letter != 0 ? 0 : f & UChar.number != 0 ? 1 : f & UChar.space != 0 ? 2 : 3
            }
            @inline(__always) func lower(_ x: UInt32) -> UInt32 { (x >= 65 && x <= 90) ? x + 32 : (x == 0x17F ? 115 : x) }
            var i = 0
            while i < n {
                let x = c[i]
                if x == 39, i + 1 < n {  // contractions, case-insensitive ('ſ' folds to 's')
                    let a = lower(c[i + 1])
                    if a == 115 || a == 116 || a == 109 || a == 100 { out.append((i, i + 2)); i += 2; continue }
                    if i + 2 < n {
                        let b = lower(c[i + 2])
                        if (a == 114 && b == 101) || (a == 118 && b == 101) || (a == 108 && b == 108) {
                            out.append((i, i + 3)); i += 3; continue
                        }
                    }
                }
                let k = kind(x)
                // [^\r\n\p{L}\p{N}]?\p{L}+
                if k == 0 || (k != 1 && x != 10 && x != 13 && i + 1 < n && kind(c[i + 1]) == 0) {
                    var j = k == 0 ? i + 1 : i + 2
                    while j < n && kind(c[j]) == 0 { j += 1 }
                    out.append((i, j)); i = j; continue
                }
                if k == 1 {
                    var j = i + 1
                    while j < n && j - i < maxDigits && kind(c[j]) == 1 { j += 1 }
                    out.append((i, j)); i = j; continue
                }
                // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
                if k == 3 || (x == 32 && i + 1 < n && kind(c[i + 1]) == 3) {
                    var j = k == 3 ? i + 1 : i + 2
                    while j < n && kind(c[j]) == 3 { j += 1 }
                    while j < n && (c[j] == 10 || c[j] == 13) { j += 1 }
                    out.append((i, j)); i = j; continue
                }
                // whitespace: \s*[\r\n]+ | \s+(?!\S) | \s+
                var j = i + 1
                var lastNL = (x == 10 || x == 13) ? i : -1
                while j < n && kind(c[j]) == 2 { if c[j] == 10 || c[j] == 13 { lastNL = j }; j += 1 }
                if lastNL >= 0 { out.append((i, lastNL + 1)); i = lastNL + 1; continue }
                if j < n && j - 1 > i { j -= 1 }
                out.append((i, j)); i = j
            }
        }
        return out
    }
}

/// \w+|[^\w\s]+. The Whitespace pre-tokenizer runs it in Rust's regex crate, whose \w includes
/// Join_Control (U+200C, U+200D); a Split with this regex runs in Oniguruma, whose \w does not.
struct WordPattern: SplitPattern {
    static let source = "\\w+|[^\\w\\s]+"
    var joinControl = false
    func matches(_ s: [UInt32]) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        let n = s.count
        let joinControl = self.joinControl
        @inline(__always) func isWord(_ c: UInt32) -> Bool { UChar.isWord(c) || (joinControl && (c == 0x200C || c == 0x200D)) }
        var i = 0
        while i < n {
            let x = s[i]
            if isWord(x) {
                var j = i + 1
                while j < n && isWord(s[j]) { j += 1 }
                out.append((i, j)); i = j
            } else if !UChar.isSpace(x) {
                var j = i + 1
                while j < n && !isWord(s[j]) && !UChar.isSpace(s[j]) { j += 1 }
                out.append((i, j)); i = j
            } else { i += 1 }
        }
        return out
    }
}

/// Any other regex, through ICU (NSRegularExpression), with UTF-16 offsets mapped to code points.
final class ICUPattern: SplitPattern, @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ pattern: String) throws {
        do { regex = try NSRegularExpression(pattern: pattern, options: []) } catch {
            throw TokenizerError("cannot compile regex \(pattern.debugDescription): \(error)")
        }
    }
    func matches(_ s: [UInt32]) -> [(Int, Int)] {
        var str = String.UnicodeScalarView()
        var utf16ToScalar: [Int] = []
        utf16ToScalar.reserveCapacity(s.count + 1)
        for (k, c) in s.enumerated() {
            guard let u = Unicode.Scalar(c) else { continue }
            str.append(u)
            utf16ToScalar.append(k)
            if c > 0xFFFF { utf16ToScalar.append(k) }
        }
        utf16ToScalar.append(s.count)
        let text = String(str)
        let ns = text as NSString
        var out: [(Int, Int)] = []
        for m in regex.matches(in: text, options: [], range: NSRange(location: 0, length: ns.length)) where m.range.length > 0 {
            out.append((utf16ToScalar[m.range.location], utf16ToScalar[m.range.location + m.range.length]))
        }
        return out
    }
}

/// An error in a tokenizer's description (wrapped in a CheckpointError naming the file at load).
struct TokenizerError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
