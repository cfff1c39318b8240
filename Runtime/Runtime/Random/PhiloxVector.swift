// Normal numbers from Philox fast enough to regenerate a 135M-parameter perturbation several times a
// step (zeroth-order training never stores z). Eight Philox blocks run side by side in SIMD lanes
// (32 words per group), and Box–Muller uses vector log and sin/cos (Cephes-style polynomials, within
// a few ULP). Element i of a stream is always computed in group ⌊i / 32⌋ by this same code, so a value
// depends only on (seed, stream, i), never on how a fill is split across calls or threads.
//
// Layout: group g holds blocks 8g…8g+7; block 8g+j gives words (w0, w1, w2, w3) → normals
// (r₀cos θ₀, r₀sin θ₀, r₁cos θ₁, r₁sin θ₁), from 23 random bits per uniform (the log argument in (0, 1]).
// Element 32g + 8k + j is normal k of block 8g + j, so a whole group is four vector stores.

typealias U8 = SIMD8<UInt32>

@inline(__always)
private func mulhilo(_ a: U8, _ m: UInt32) -> (hi: U8, lo: U8) {
    let p = SIMD8<UInt64>(truncatingIfNeeded: a) &* SIMD8<UInt64>(repeating: UInt64(m))
    return (U8(truncatingIfNeeded: p &>> 32), U8(truncatingIfNeeded: p))
}

/// Philox4x32-10 on eight counters at once (lanes = block indices base...base+7 of one stream).
@inline(__always)
func philoxBlocks8(seed: UInt64, stream: UInt64, firstBlock: UInt64) -> (U8, U8, U8, U8) {
    let lanes = U8(0, 1, 2, 3, 4, 5, 6, 7)
    let lo = UInt32(truncatingIfNeeded: firstBlock), hi = UInt32(truncatingIfNeeded: firstBlock >> 32)
    var c0 = U8(repeating: lo) &+ lanes
    // Carry into the high word where the low word wrapped.
    var c1 = U8(repeating: hi) &+ U8(repeating: 1).replacing(with: 0, where: c0 .>= U8(repeating: lo))
    var c2 = U8(repeating: UInt32(truncatingIfNeeded: stream)), c3 = U8(repeating: UInt32(truncatingIfNeeded: stream >> 32))
    var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
    for round in 0..<10 {
        if round > 0 { k0 &+= Philox.w0; k1 &+= Philox.w1 }
        let (hi0, lo0) = mulhilo(c0, Philox.m0), (hi1, lo1) = mulhilo(c2, Philox.m1)
        (c0, c1, c2, c3) = (hi1 ^ c1 ^ U8(repeating: k0), lo1, hi0 ^ c3 ^ U8(repeating: k1), lo0)
    }
    return (c0, c1, c2, c3)
}

/// Exact Float of small integers (|v| < 2²²) through the 1.5·2²³ trick (no per-lane conversion).
@inline(__always)
func smallIntToFloat(_ v: SIMD8<Int32>) -> Float8 {
    unsafeBitCast(v &+ 0x4B40_0000, to: Float8.self) - 12582912
}

/// log(x) for x in (0, 1] (normal floats).
@inline(__always)
func vlog(_ x: Float8) -> Float8 {
    let bits = unsafeBitCast(x, to: SIMD8<Int32>.self)
    var e = smallIntToFloat((bits &>> 23) &- 127)
    var m = unsafeBitCast((bits & 0x007f_ffff) | 0x3f80_0000, to: Float8.self)  // [1, 2)
    // m > √2: halve it and bump the exponent (selects as 0/1 arithmetic: vector-valued `replacing`
    // compiles to a lane loop).
    let big = Float8(repeating: 0).replacing(with: 1, where: m .> 1.41421356)
    m = m * (1 - 0.5 * big)
    e = e + big
    let f = m - 1, z = f * f
    var p = Float8(repeating: 7.0376836292e-2)
    p = p * f - 1.1514610310e-1
    p = p * f + 1.1676998740e-1
    p = p * f - 1.2420140846e-1
    p = p * f + 1.4249322787e-1
    p = p * f - 1.6668057665e-1
    p = p * f + 2.0000714765e-1
    p = p * f - 2.4999993993e-1
    p = p * f + 3.3333331174e-1
    var y = p * f * z
    y += e * -2.12194440e-4
    y += -0.5 * z
    return f + y + e * 0.693359375
}

/// (sin θ, cos θ) for θ in [0, 2π).
@inline(__always)
func vsincos(_ theta: Float8) -> (Float8, Float8) {
    let q = (theta * 0.63661977236758134 + 0.5).rounded(.down)  // nearest quadrant
    var r = theta - q * 1.5703125
    r = r - q * 4.8375129699707031e-4
    r = r - q * 7.5497899548918821e-8
    let r2 = r * r
    let s = r + r * r2 * (-1.6666654611e-1 + r2 * (8.3321608736e-3 + r2 * -1.9515295891e-4))
    let c = 1 - 0.5 * r2 + r2 * r2 * (4.166664568298827e-2 + r2 * (-1.388731625493765e-3 + r2 * 2.443315711809948e-5))
    // Quadrant q mod 4 → which of (s, c) and which signs, as exact 0/1 arithmetic.
    let qm = q - 4 * (q * 0.25).rounded(.down)            // 0, 1, 2, 3
    let half = (qm * 0.5).rounded(.down)                  // 0, 0, 1, 1
    let odd = qm - 2 * half                               // 0, 1, 0, 1
    let t = ((qm + 1) * 0.5).rounded(.down)               // 0, 1, 1, 2
    let cosNegative = t - 2 * (t * 0.5).rounded(.down)    // 0, 1, 1, 0
    let sinV = (s * (1 - odd) + c * odd) * (1 - 2 * half)
    let cosV = (c * (1 - odd) + s * odd) * (1 - 2 * cosNegative)
    return (sinV, cosV)
}

/// The 32 normals of group `g` as four vectors: element 32g + 8k + j is lane j of vector k.
@inline(__always)
func philoxNormalGroup(seed: UInt64, stream: UInt64, group g: UInt64) -> (Float8, Float8, Float8, Float8) {
    let (w0, w1, w2, w3) = philoxBlocks8(seed: seed, stream: stream, firstBlock: g * 8)
    // 23 random bits as the mantissa of a float in [1, 2): f − 1 is in [0, 1), 2 − f in (0, 1].
    func mantissa(_ w: U8) -> Float8 { unsafeBitCast((w &>> 9) | 0x3f80_0000, to: Float8.self) }
    let twoPi: Float = 6.2831853071795865
    let r0 = vsqrt(-2 * vlog(2 - mantissa(w0))), (s0, c0) = vsincos(twoPi * (mantissa(w1) - 1))
    let r1 = vsqrt(-2 * vlog(2 - mantissa(w2))), (s1, c1) = vsincos(twoPi * (mantissa(w3) - 1))
    return (r0 * c0, r0 * s0, r1 * c1, r1 * s1)
}

/// dst[0..<n] = mean + std · (elements offset..<offset+n of the (seed, stream) normal sequence),
/// on all threads for large fills.
public func philoxNormalFill(_ dst: UnsafeMutablePointer<Float>, count n: Int, seed: UInt64, stream: UInt64,
                             offset: UInt64 = 0, mean: Float = 0, std: Float = 1) {
    guard n > 0 else { return }
    let first = offset / 32, last = (offset + UInt64(n) - 1) / 32
    let groups = Int(last - first + 1)
    let raw = UnsafeMutableRawPointer(dst)
    parallelFor(groups, grain: 1 << 12) { range in
        var tmp = (Float8(), Float8(), Float8(), Float8())
        for gi in range {
            let g = first + UInt64(gi)
            let (a, b, c, d) = philoxNormalGroup(seed: seed, stream: stream, group: g)
            let lo = max(offset, g * 32), hi = min(offset + UInt64(n), g * 32 + 32)
            if lo == g * 32 && hi == g * 32 + 32 {
                let o = Int(lo - offset) * 4
                raw.storeBytes(of: mean + std * a, toByteOffset: o, as: Float8.self)
                raw.storeBytes(of: mean + std * b, toByteOffset: o + 32, as: Float8.self)
                raw.storeBytes(of: mean + std * c, toByteOffset: o + 64, as: Float8.self)
                raw.storeBytes(of: mean + std * d, toByteOffset: o + 96, as: Float8.self)
            } else {
                tmp = (a, b, c, d)
                withUnsafeBytes(of: &tmp) { t in
                    let v = t.bindMemory(to: Float.self)
                    for e in lo..<hi { dst[Int(e - offset)] = mean + std * v[Int(e - g * 32)] }
                }
            }
        }
    }
}
