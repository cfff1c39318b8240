// ggml tensor types and their dequantization to Float32, block by block exactly as ggml's
// dequantize_row_* functions do (ggml-quants.c). Legacy quants hold 32 values per block, k-quants 256.
//
//   Q4_0 {f16 d; u8 qs[16]}                  x = (q - 8)·d       (low nibbles: values 0..15, high: 16..31)
//   Q4_1 {f16 d, m; u8 qs[16]}               x = q·d + m
//   Q5_0 {f16 d; u32 qh; u8 qs[16]}          x = (q | h<<4) - 16) · d
//   Q5_1 {f16 d, m; u32 qh; u8 qs[16]}       x = (q | h<<4)·d + m
//   Q8_0 {f16 d; i8 qs[32]}                  x = q·d
//   Q4_K {f16 d, dmin; u8 scales[12]; u8 qs[128]}              8 sub-blocks of 32, 6-bit scales/mins
//   Q5_K {f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]}   as Q4_K plus a fifth bit from qh
//   Q6_K {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}         16 sub-blocks of 16, 8-bit scales

public enum GGMLType: UInt32, Sendable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8
    case q4_K = 12, q5_K = 13, q6_K = 14, bf16 = 30

    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return 32
        case .q4_K, .q5_K, .q6_K: return 256
        }
    }

    public var blockBytes: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .q4_0: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q8_0: return 34
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        }
    }

    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        }
    }
}

@inline(__always) func halfToFloat(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }
@inline(__always) func bfloatToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

@inline(__always) private func f16(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
    halfToFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

/// The 6-bit scale and min of sub-block j from a k-quant's 12 packed scale bytes.
@inline(__always) private func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (Float, Float) {
    if j < 4 { return (Float(q[j] & 63), Float(q[j + 4] & 63)) }
    let d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4)
    let m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4)
    return (Float(d), Float(m))
}

/// Dequantizes `count` values of `type` from `src` into `dst`: the plain reference that the CQuant
/// expansion (which GGUFFile and QuantizedMatrix use) is tested against bit for bit.
func dequantize(_ src: UnsafeRawBufferPointer, type: GGMLType, count: Int, into dst: UnsafeMutablePointer<Float>) {
    let base = src.baseAddress!  // invariant: callers pass a slice of the mapped file (a non-nil start)
    let blocks = count / type.blockSize
    switch type {
    case .f32:
        for i in 0..<count { dst[i] = Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
    case .f16:
        for i in 0..<count { dst[i] = f16(base, 2 * i) }
    case .bf16:
        for i in 0..<count { dst[i] = bfloatToFloat(base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
    case .q4_0, .q4_1:
        let hasMin = type == .q4_1
        for b in 0..<blocks {
            let blk = base + b * type.blockBytes, y = dst + b * 32
            let d = f16(blk, 0), m: Float = hasMin ? f16(blk, 2) : 0
            let qs = (blk + (hasMin ? 4 : 2)).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                if hasMin {
                    y[j] = Float(qs[j] & 0xF) * d + m
                    y[j + 16] = Float(qs[j] >> 4) * d + m
                } else {
                    y[j] = Float(Int(qs[j] & 0xF) - 8) * d
                    y[j + 16] = Float(Int(qs[j] >> 4) - 8) * d
                }
            }
        }
    case .q5_0, .q5_1:
        let hasMin = type == .q5_1
        for b in 0..<blocks {
            let blk = base + b * type.blockBytes, y = dst + b * 32
            let d = f16(blk, 0), m: Float = hasMin ? f16(blk, 2) : 0
            let off = hasMin ? 4 : 2
            let qh = UInt32(littleEndian: blk.loadUnaligned(fromByteOffset: off, as: UInt32.self))
            let qs = (blk + off + 4).assumingMemoryBound(to: UInt8.self)
            for j in 0..<16 {
                let h0 = UInt8(truncatingIfNeeded: ((qh >> UInt32(j)) << 4) & 0x10)
                let h1 = UInt8(truncatingIfNeeded: (qh >> UInt32(j + 12)) & 0x10)
                let x0 = Int((qs[j] & 0x0F) | h0), x1 = Int((qs[j] >> 4) | h1)
                if hasMin {
                    y[j] = Float(x0) * d + m
                    y[j + 16] = Float(x1) * d + m
                } else {
                    y[j] = Float(x0 - 16) * d
                    y[j + 16] = Float(x1 - 16) * d
                }
            }
        }
    case .q8_0:
        for b in 0..<blocks {
            let blk = base + b * 34, y = dst + b * 32
            let d = f16(blk, 0)
            let qs = (blk + 2).assumingMemoryBound(to: Int8.self)
            for j in 0..<32 { y[j] = Float(qs[j]) * d }
        }
    case .q4_K, .q5_K:
        let five = type == .q5_K
        for b in 0..<blocks {
            let blk = base + b * type.blockBytes
            var y = dst + b * 256
            let d = f16(blk, 0), dmin = f16(blk, 2)
            let scales = (blk + 4).assumingMemoryBound(to: UInt8.self)
            let qh = (blk + 16).assumingMemoryBound(to: UInt8.self)  // Q5_K only
            var q = (blk + (five ? 48 : 16)).assumingMemoryBound(to: UInt8.self)
            var u1: UInt8 = 1, u2: UInt8 = 2
            for j in stride(from: 0, to: 256, by: 64) {
                let is0 = j / 32
                let (sc1, m1) = scaleMinK4(is0, scales), (sc2, m2) = scaleMinK4(is0 + 1, scales)
                let d1 = d * sc1, mm1 = dmin * m1, d2 = d * sc2, mm2 = dmin * m2
                for l in 0..<32 {
                    let hi: Float = five && (qh[l] & u1) != 0 ? 16 : 0
                    y[l] = d1 * (Float(q[l] & 0xF) + hi) - mm1
                }
                for l in 0..<32 {
                    let hi: Float = five && (qh[l] & u2) != 0 ? 16 : 0
                    y[l + 32] = d2 * (Float(q[l] >> 4) + hi) - mm2
                }
                y += 64; q += 32
                u1 <<= 2; u2 <<= 2
            }
        }
    case .q6_K:
        for b in 0..<blocks {
            let blk = base + b * 210
            var y = dst + b * 256
            var ql = blk.assumingMemoryBound(to: UInt8.self)
            var qh = (blk + 128).assumingMemoryBound(to: UInt8.self)
            var sc = (blk + 192).assumingMemoryBound(to: Int8.self)
            let d = f16(blk, 208)
            for _ in 0..<2 {
                for l in 0..<32 {
                    let s = l / 16
                    let q1 = Int((ql[l] & 0xF) | ((qh[l] >> 0) & 3) << 4) - 32
                    let q2 = Int((ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4) - 32
                    let q3 = Int((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32
                    let q4 = Int((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32
                    y[l] = d * Float(sc[s]) * Float(q1)
                    y[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                    y[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                    y[l + 96] = d * Float(sc[s + 6]) * Float(q4)
                }
                y += 128; ql += 64; qh += 32; sc += 8
            }
        }
    }
}
