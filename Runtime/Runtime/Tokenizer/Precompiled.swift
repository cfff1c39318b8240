// Precompiled: SentencePiece's normalization rules (the "precompiled_charsmap" of XLM-R, T5, ALBERT
// tokenizer.json files), read and applied as Hugging Face's spm_precompiled crate does.
//
// The charsmap is: u32 trie size (little-endian), a darts-clone double-array trie of that many bytes
// mapping UTF-8 prefixes to offsets, then NUL-terminated replacement strings. Text is processed one
// extended grapheme cluster at a time: a cluster shorter than 6 bytes is looked up whole (the first,
// shortest trie hit replaces the whole cluster, as HF does); otherwise each code point is looked up.
import Foundation

struct PrecompiledNormalizer: Normalizer {
    let trie: [UInt32]
    let normalized: [UInt8]

    init(base64: String) throws {
        guard let data = Data(base64Encoded: base64) else { throw TokenizerError("Precompiled: charsmap is not base64") }
        try self.init(bytes: [UInt8](data))
    }

    init(bytes b: [UInt8]) throws {
        guard b.count >= 4 else { throw TokenizerError("Precompiled: charsmap too short") }
        let size = Int(b[0]) | Int(b[1]) << 8 | Int(b[2]) << 16 | Int(b[3]) << 24
        guard size % 4 == 0, 4 + size <= b.count else { throw TokenizerError("Precompiled: bad trie size \(size)") }
        var t: [UInt32] = []
        t.reserveCapacity(size / 4)
        for i in stride(from: 4, to: 4 + size, by: 4) {
            t.append(UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)
        }
        trie = t
        normalized = Array(b[(4 + size)...])
    }

    /// The replacement for the first (shortest) prefix of `key` in the trie, if any.
    func transform(_ key: [UInt8]) -> [UInt8]? {
        guard !trie.isEmpty else { return nil }
        var pos = 0
        var unit = trie[0]
        pos ^= offset(unit)
        for c in key {
            if c == 0 { break }
            pos ^= Int(c)
            guard pos < trie.count else { return nil }
            unit = trie[pos]
            if Int(unit & ((1 << 31) | 0xFF)) != Int(c) { return nil }
            pos ^= offset(unit)
            if (unit >> 8) & 1 == 1 {
                guard pos < trie.count else { return nil }
                let index = Int(trie[pos] & ((1 << 31) - 1))
                // The offset comes from the charsmap: one past the strings is no replacement (not a trap).
                guard index <= normalized.count else { return nil }
                var end = index
                while end < normalized.count && normalized[end] != 0 { end += 1 }
                return index <= end ? Array(normalized[index..<end]) : nil
            }
        }
        return nil
    }

    private func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }

    func normalize(_ t: inout NormalizedText) {
        var dest: [(UInt32, Int)] = []
        dest.reserveCapacity(t.count)
        var modified = false
        func replace(_ oldCount: Int, _ new: [UInt8]) {
            let chars = String(decoding: new, as: UTF8.self).unicodeScalars.map(\.value)
            let diff = chars.count - oldCount
            let first = dest.count
            dest += chars.map { ($0, 0) }
            if diff > 0 {
                for k in max(first, dest.count - diff)..<dest.count { dest[k].1 = 1 }
            } else if diff < 0, !dest.isEmpty {
                dest[dest.count - 1].1 += diff
            }
        }
        for g in t.string {  // extended grapheme clusters
            let scalars = g.unicodeScalars.map(\.value)
            let utf8 = Array(String(g).utf8)
            if utf8.count < 6, let r = transform(utf8) {
                modified = true
                replace(scalars.count, r)
                continue
            }
            for c in scalars {
                let u = Array(String(Unicode.Scalar(c)!).utf8)  // invariant: c came from a String's unicodeScalars
                if let r = transform(u) { modified = true; replace(1, r) } else { dest.append((c, 0)) }
            }
        }
        if modified { t.transform(dest) }
    }
}
