// The zeroth-order machinery: random directions z regenerated from (seed, parameter index) with
// Philox whenever needed (never stored), optional gradient-sparsity masks, and the parameter
// resolvers that let a forward pass see θ + σz (or carry tangents z for forward-gradient) while θ
// itself is never written: restoring θ after the probes is exact by construction.
import Foundation
import Runtime

/// The tensors a run trains; index i is the Philox stream of tensor i's directions.
public final class ZOParameters {
    public let named: [(String, Tensor)]
    let index: [ObjectIdentifier: Int]
    /// Whether weight decay applies (MeZO: not to biases and normalization weights).
    public let decays: [Bool]
    public var sparsity: SparsityMasks?

    public init(_ named: [(String, Tensor)]) {
        self.named = named
        index = Dictionary(uniqueKeysWithValues: named.enumerated().map { (ObjectIdentifier($0.element.1), $0.offset) })
        decays = named.map { name, t in
            let n = name.lowercased()
            return !(n.hasSuffix(".bias") || n.contains("norm") || t.rank < 2)
        }
    }

    public var count: Int { named.count }
    public var elementCount: Int { named.reduce(0) { $0 + $1.1.count } }
    public func tensor(_ i: Int) -> Tensor { named[i].1 }

    /// z for tensor i under `seed`, elements [start, start + n), into dst (masked entries 0).
    func direction(_ i: Int, seed: UInt64, start: Int, count n: Int, into dst: UnsafeMutablePointer<Float>) {
        philoxNormalFill(dst, count: n, seed: seed, stream: UInt64(i), offset: UInt64(start))
        sparsity?.apply(tensor: i, start: start, count: n, to: dst)
    }

    /// Elements of z drawn at a time: the scratch bound of every pass over a direction.
    static let directionChunk = 1 << 20

    /// Calls body(start, n, z) over tensor i in chunks of at most `chunk` elements.
    func forEachDirectionChunk(_ i: Int, seed: UInt64, chunk: Int = directionChunk,
                               _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let total = tensor(i).count
        let buf = UnsafeMutablePointer<Float>.allocate(capacity: max(1, min(chunk, total)))
        defer { buf.deallocate() }
        var start = 0
        while start < total {
            let n = min(chunk, total - start)
            direction(i, seed: seed, start: start, count: n, into: buf)
            body(start, n, buf)
            start += n
        }
    }
}

/// Gradient sparsity (ZO-Bench): directions are zeroed on a random subset of each tensor, redrawn
/// every `every` steps. `fraction[i]` is the share zeroed in tensor i: the same everywhere (random)
/// or, for magnitude, the share of tensor i's entries under the global magnitude quantile (ZO-Bench's
/// per-parameter ratios; the masks themselves stay random, as there). ZO-Bench draws its masks as
/// "normal < s", which zeroes a share Φ(s) instead of s; these masks zero exactly the intended share.
public struct SparsityMasks {
    public var fraction: [Float]
    public var every: Int
    public var seed: UInt64
    public private(set) var epoch = 0

    public init(fraction: [Float], every: Int, seed: UInt64) {
        (self.fraction, self.every, self.seed) = (fraction, every, seed)
    }

    mutating func setStep(_ step: Int) { epoch = step / max(1, every) }

    func apply(tensor i: Int, start: Int, count n: Int, to dst: UnsafeMutablePointer<Float>) {
        let s = fraction[i]
        guard s > 0 else { return }
        let u = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
        defer { u.deallocate() }
        philoxFill(u, count: n, seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15, stream: UInt64(i),
                   offset: UInt64(start), .uniform(low: 0, high: 1))
        for j in 0..<n where u[j] < s { dst[j] = 0 }
    }

    /// Ratios for magnitude sparsity: the global `s`-quantile of |θ| (estimated on up to 10⁶ sampled
    /// entries), then each tensor's share of entries at or under it.
    public static func magnitudeFractions(_ params: ZOParameters, sparsity s: Float, seed: UInt64) -> [Float] {
        let rng = RandomGenerator(seed: seed, stream: 0x3A6)
        let total = params.elementCount
        let take = min(total, 1_000_000)
        var sampleValues: [Float] = []
        sampleValues.reserveCapacity(take)
        let offsets = params.named.map(\.1.count).reduce(into: [0]) { $0.append($0.last! + $1) }
        for _ in 0..<take {
            let k = rng.nextInt(below: total)
            let i = offsets.lastIndex { $0 <= k }!
            sampleValues.append(Swift.abs(params.tensor(i).data[k - offsets[i]]))
        }
        sampleValues.sort()
        let threshold = sampleValues[min(sampleValues.count - 1, Int(Float(sampleValues.count) * s))]
        return params.named.map { _, t in
            var n = 0
            for j in 0..<t.count where Swift.abs(t.data[j]) <= threshold { n += 1 }
            return Float(n) / Float(max(t.count, 1))
        }
    }
}

/// Forward passes see θ + scale·z for the chosen tensors (all, or a block's), one layer at a time.
final class PerturbResolver: ParameterResolver {
    let params: ZOParameters
    let seed: UInt64
    let scale: Float
    let subset: Set<Int>?

    init(_ params: ZOParameters, seed: UInt64, scale: Float, subset: Set<Int>? = nil) {
        (self.params, self.seed, self.scale, self.subset) = (params, seed, scale, subset)
    }

    private func target(_ t: Tensor) -> Int? {
        guard let i = params.index[ObjectIdentifier(t)], subset?.contains(i) ?? true else { return nil }
        return i
    }

    func resolve(_ t: Tensor) -> Tensor {
        guard let i = target(t) else { return t }
        let out = t.detach().copy()
        let s = scale, o = out.data
        params.forEachDirectionChunk(i, seed: seed) { start, n, z in
            for j in 0..<n { o[start + j] += s * z[j] }
        }
        return out
    }

    func resolveRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
        guard let i = target(t) else { return t.indexSelect(axis: 0, rows) }
        let out = t.detach().indexSelect(axis: 0, rows)
        let width = t.count / max(t.shape[0], 1)
        let z = UnsafeMutablePointer<Float>.allocate(capacity: max(width, 1))
        defer { z.deallocate() }
        for (r, row) in rows.enumerated() {
            params.direction(i, seed: seed, start: row * width, count: width, into: z)
            let o = out.data + r * width
            for j in 0..<width { o[j] += scale * z[j] }
        }
        return out
    }
}

/// Forward-gradient: every trained tensor read carries the tangent v (its direction under `seed`), so
/// the loss's tangent is the exact directional derivative ∇L·v.
final class DirectionTangentResolver: ParameterResolver {
    let params: ZOParameters
    let seed: UInt64

    init(_ params: ZOParameters, seed: UInt64) {
        self.params = params
        self.seed = seed
    }

    func resolve(_ t: Tensor) -> Tensor {
        guard let i = params.index[ObjectIdentifier(t)] else { return t }
        let view = t.detach()
        let v = Tensor(uninitializedShape: t.shape)
        params.forEachDirectionChunk(i, seed: seed) { start, n, z in (v.data + start).update(from: z, count: n) }
        view.tangent = v
        return view
    }

    func resolveRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
        guard let i = params.index[ObjectIdentifier(t)] else { return t.indexSelect(axis: 0, rows) }
        let out = t.detach().indexSelect(axis: 0, rows)
        let width = t.count / max(t.shape[0], 1)
        let v = Tensor(uninitializedShape: out.shape)
        for (r, row) in rows.enumerated() { params.direction(i, seed: seed, start: row * width, count: width, into: v.data + r * width) }
        out.tangent = v
        return out
    }
}
