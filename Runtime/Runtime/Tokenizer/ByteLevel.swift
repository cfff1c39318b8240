// ByteLevel: GPT-2's reversible byte <-> printable-char mapping (bytes_to_unicode), used by the
// ByteLevel pre-tokenizer (text -> chars standing for its UTF-8 bytes), the ByteLevel decoder (back
// to bytes, then lossy UTF-8) and offset trimming of the ByteLevel/Roberta post-processors.

enum ByteLevel {
    /// byte -> code point of its printable stand-in.
    static let byteToChar: [UInt32] = {
        var bs: [Int] = Array(33...126) + Array(161...172) + Array(174...255)
        var cs = bs
        var n = 0
        for b in 0..<256 where !bs.contains(b) { bs.append(b); cs.append(256 + n); n += 1 }
        var t = [UInt32](repeating: 0, count: 256)
        for (b, c) in zip(bs, cs) { t[b] = UInt32(c) }
        return t
    }()

    /// code point (< 324) -> byte, or -1.
    static let charToByte: [Int16] = {
        var t = [Int16](repeating: -1, count: 324)
        for (b, c) in byteToChar.enumerated() { t[Int(c)] = Int16(b) }
        return t
    }()

    static let space: UInt32 = byteToChar[32]  // 'Ġ'

    /// Every char of `t` becomes the stand-ins of its UTF-8 bytes, all aligned to that char.
    static func encode(_ t: NormalizedText) -> NormalizedText {
        if !t.chars.contains(where: { $0 >= 0x80 }) {  // ASCII: one stand-in per char, same spans
            var out = t
            for i in 0..<t.count { out.chars[i] = byteToChar[Int(t.chars[i])] }
            return out
        }
        var out = NormalizedText(chars: [], spans: [], origin: t.origin)
        out.chars.reserveCapacity(t.count * 2)
        out.spans.reserveCapacity(t.count * 2)
        for i in 0..<t.count {
            let c = t.chars[i], sp = t.spans[i]
            if c < 0x80 {
                out.chars.append(byteToChar[Int(c)]); out.spans.append(sp)
                continue
            }
            var buf: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
            let n = utf8Encode(c, &buf)
            withUnsafeBytes(of: &buf) { p in
                for k in 0..<n { out.chars.append(byteToChar[Int(p[k])]); out.spans.append(sp) }
            }
        }
        return out
    }

    /// The bytes a byte-level token spells, or nil if it has a char outside the alphabet.
    static func bytes(of token: [UInt32]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.count)
        for c in token {
            guard c < 324, charToByte[Int(c)] >= 0 else { return nil }
            out.append(UInt8(charToByte[Int(c)]))
        }
        return out
    }
}

/// UTF-8 of one code point into `buf`; returns the length.
@inline(__always) func utf8Encode(_ c: UInt32, _ buf: inout (UInt8, UInt8, UInt8, UInt8)) -> Int {
    if c < 0x80 { buf.0 = UInt8(c); return 1 }
    if c < 0x800 { buf.0 = UInt8(0xC0 | (c >> 6)); buf.1 = UInt8(0x80 | (c & 0x3F)); return 2 }
    if c < 0x10000 {
        buf.0 = UInt8(0xE0 | (c >> 12)); buf.1 = UInt8(0x80 | ((c >> 6) & 0x3F)); buf.2 = UInt8(0x80 | (c & 0x3F))
        return 3
    }
    buf.0 = UInt8(0xF0 | (c >> 18)); buf.1 = UInt8(0x80 | ((c >> 12) & 0x3F))
    buf.2 = UInt8(0x80 | ((c >> 6) & 0x3F)); buf.3 = UInt8(0x80 | (c & 0x3F))
    return 4
}

func utf8Bytes(_ chars: [UInt32]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(chars.count)
    var buf: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
    for c in chars {
        let n = utf8Encode(c, &buf)
        withUnsafeBytes(of: &buf) { p in for k in 0..<n { out.append(p[k]) } }
    }
    return out
}

func scalars(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }
