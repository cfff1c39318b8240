// Philox 4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11): a counter-based
// generator. Output block b of a stream is a pure function of (seed, stream, b), so element i of any
// random tensor can be regenerated alone, in any order, on any number of threads.
//
// Layout used everywhere in the runtime: key = (seed low, seed high); counter = (block low,
// block high, stream low, stream high). Element i of a stream is word i % 4 of block i / 4.

public enum Philox {
    static let m0: UInt32 = 0xD251_1F53, m1: UInt32 = 0xCD9E_8D57
    static let w0: UInt32 = 0x9E37_79B9, w1: UInt32 = 0xBB67_AE85

    /// One Philox4x32-10 block: 10 rounds of the counter under the key.
    @inline(__always)
    public static func block(_ c: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32))
        -> (UInt32, UInt32, UInt32, UInt32) {
        var (c0, c1, c2, c3) = c
        var (k0, k1) = key
        for round in 0..<10 {
            if round > 0 { k0 &+= w0; k1 &+= w1 }
            let p0 = UInt64(m0) * UInt64(c0), p1 = UInt64(m1) * UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
        }
        return (c0, c1, c2, c3)
    }

    /// Block `index` of stream `stream` under `seed`.
    @inline(__always)
    public static func block(seed: UInt64, stream: UInt64, index: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        block((UInt32(truncatingIfNeeded: index), UInt32(truncatingIfNeeded: index >> 32),
               UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32)),
              key: (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32)))
    }

    /// [0, 1) with 24 random bits.
    @inline(__always) static func unitOpen(_ x: UInt32) -> Float { Float(x >> 8) * 0x1p-24 }
    /// (0, 1] with 24 random bits (safe under log).
    @inline(__always) static func unitClosed(_ x: UInt32) -> Float { Float((x >> 8) + 1) * 0x1p-24 }
}

import Foundation

public enum RandomDistribution: Sendable {
    case uniform(low: Float, high: Float)
    case normal(mean: Float, std: Float)
}

/// Fills dst[0..<n] with elements offset..<offset+n of (seed, stream) drawn from `distribution`.
/// The value of each element depends only on (seed, stream, element index): chunks may be filled
/// in any order or in parallel.
public func philoxFill(_ dst: UnsafeMutablePointer<Float>, count n: Int, seed: UInt64, stream: UInt64,
                       offset: UInt64 = 0, _ distribution: RandomDistribution) {
    guard case let .uniform(lo, hi) = distribution else {
        if case let .normal(mean, std) = distribution {
            philoxNormalFill(dst, count: n, seed: seed, stream: stream, offset: offset, mean: mean, std: std)
        }
        return
    }
    let s = hi - lo
    var i = 0
    while i < n {
        let element = offset + UInt64(i)
        let blockIndex = element / 4, first = Int(element % 4)
        let w = Philox.block(seed: seed, stream: stream, index: blockIndex)
        // lo + s·u can round up to hi in Float (u = 1 − 2⁻²⁴); cap at the float below hi: [lo, hi).
        let top = hi > lo ? hi.nextDown : lo
        var vals = (Swift.min(lo + s * Philox.unitOpen(w.0), top), Swift.min(lo + s * Philox.unitOpen(w.1), top),
                    Swift.min(lo + s * Philox.unitOpen(w.2), top), Swift.min(lo + s * Philox.unitOpen(w.3), top))
        withUnsafeBytes(of: &vals) { raw in
            let v = raw.bindMemory(to: Float.self)
            var j = first
            while j < 4 && i < n { dst[i] = v[j]; i += 1; j += 1 }
        }
    }
}

/// A stream with a position: successive draws continue where the last one stopped.
/// Reference type, so a layer (dropout) and its owner advance the same stream.
public final class RandomGenerator: @unchecked Sendable {
    public let seed: UInt64
    public let stream: UInt64
    public private(set) var offset: UInt64

    public init(seed: UInt64, stream: UInt64 = 0, offset: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
        self.offset = offset
    }

    /// Fills `n` floats and advances the position by `n`.
    public func fill(_ dst: UnsafeMutablePointer<Float>, count n: Int, _ distribution: RandomDistribution) {
        philoxFill(dst, count: n, seed: seed, stream: stream, offset: offset, distribution)
        offset += UInt64(n)
    }

    public func uniform(_ shape: [Int], low: Float = 0, high: Float = 1) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        fill(t.data, count: t.count, .uniform(low: low, high: high))
        return t
    }

    public func normal(_ shape: [Int], mean: Float = 0, std: Float = 1) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        fill(t.data, count: t.count, .normal(mean: mean, std: std))
        return t
    }

    /// Next raw 32-bit word.
    public func nextWord() -> UInt32 {
        let w = Philox.block(seed: seed, stream: stream, index: offset / 4)
        let word: UInt32
        switch offset % 4 { case 0: word = w.0; case 1: word = w.1; case 2: word = w.2; default: word = w.3 }
        offset += 1
        return word
    }

    /// Uniform integer in 0..<n, without modulo bias (Lemire's method).
    public func nextInt(below n: Int) -> Int {
        // invariant: callers pass the size of something in memory (a permutation, a list to pick from)
        // or check data-sized bounds first (lm-infinite train: at most 2^32 batch starts).
        precondition(n > 0 && n <= Int(UInt32.max), "nextInt: bound \(n) out of range")
        let bound = UInt32(n)
        let threshold = (0 &- bound) % bound
        while true {
            let m = UInt64(nextWord()) * UInt64(bound)
            if UInt32(truncatingIfNeeded: m) >= threshold { return Int(m >> 32) }
        }
    }

    /// A random permutation of 0..<n (Fisher–Yates).
    public func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) } }
        return p
    }

    /// Shuffles an array in place.
    public func shuffle<T>(_ a: inout [T]) {
        if a.count > 1 { for i in stride(from: a.count - 1, to: 0, by: -1) { a.swapAt(i, nextInt(below: i + 1)) } }
    }
}

extension Tensor {
    /// N(mean, std²) from (seed, stream), elements 0..<count.
    public static func randn(_ shape: [Int], seed: UInt64, stream: UInt64 = 0, mean: Float = 0, std: Float = 1) -> Tensor {
        RandomGenerator(seed: seed, stream: stream).normal(shape, mean: mean, std: std)
    }

    /// U[low, high) from (seed, stream).
    public static func rand(_ shape: [Int], seed: UInt64, stream: UInt64 = 0, low: Float = 0, high: Float = 1) -> Tensor {
        RandomGenerator(seed: seed, stream: stream).uniform(shape, low: low, high: high)
    }
}
