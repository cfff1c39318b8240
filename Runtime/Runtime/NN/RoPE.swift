// Rotary position embeddings (RoPE), in Hugging Face's "rotate half" form, with the rope_scaling
// types of config.json: default, linear, dynamic (NTK), llama3 and yarn.
//
// inv_freq[i] = 1 / θ^(2i/D), i < D/2; angle(t, i) = t · inv_freq[i]; a head vector x of size D
// becomes x·cos + rotate_half(x)·sin with cos/sin over [f, f] (the D/2 frequencies twice) and
// rotate_half([x1, x2]) = [-x2, x1]. Angles are float32 products as in transformers, so logits match.
import Foundation

public struct RoPEScaling: Sendable, Equatable {
    public enum Kind: String, Sendable { case linear, dynamic, llama3, yarn }
    public var kind: Kind
    public var factor: Double
    public var originalMaxPositions: Int?
    public var lowFreqFactor: Double = 1
    public var highFreqFactor: Double = 4
    public var betaFast: Double = 32
    public var betaSlow: Double = 1
    public var attentionFactor: Double? = nil

    public init(kind: Kind, factor: Double, originalMaxPositions: Int? = nil) {
        self.kind = kind
        self.factor = factor
        self.originalMaxPositions = originalMaxPositions
    }
}

public struct RoPE: Sendable {
    public let headDim: Int
    public let theta: Double
    public let scaling: RoPEScaling?
    public let maxPositions: Int
    /// Frequencies for sequences within maxPositions (dynamic scaling recomputes beyond).
    public let invFreq: [Float]
    /// Multiplies cos and sin (yarn's attention factor; 1 otherwise).
    public let attentionScaling: Float

    public init(headDim: Int, theta: Double = 10000, scaling: RoPEScaling? = nil, maxPositions: Int = 2048) {
        precondition(headDim % 2 == 0, "RoPE: head dimension \(headDim) must be even")
        self.headDim = headDim
        self.theta = theta
        self.scaling = scaling
        self.maxPositions = maxPositions
        var inv = RoPE.baseFrequencies(headDim, theta)
        var attn: Float = 1
        if let sc = scaling {
            switch sc.kind {
            case .linear:
                inv = inv.map { $0 / Float(sc.factor) }
            case .dynamic:
                break  // depends on the sequence length: see frequencies(forLength:)
            case .llama3:
                let old = Double(sc.originalMaxPositions ?? 8192)
                let lowWavelen = old / sc.lowFreqFactor, highWavelen = old / sc.highFreqFactor
                inv = inv.map { f in
                    let wavelen = 2 * Double.pi / Double(f)
                    if wavelen < highWavelen { return f }
                    if wavelen > lowWavelen { return f / Float(sc.factor) }
                    let smooth = (old / wavelen - sc.lowFreqFactor) / (sc.highFreqFactor - sc.lowFreqFactor)
                    return Float((1 - smooth) * Double(f) / sc.factor + smooth * Double(f))
                }
            case .yarn:
                let old = Double(sc.originalMaxPositions ?? maxPositions)
                let d = Double(headDim)
                func correctionDim(_ rotations: Double) -> Double {
                    d * log(old / (rotations * 2 * Double.pi)) / (2 * log(theta))
                }
                let low = max(floor(correctionDim(sc.betaFast)), 0), high = min(ceil(correctionDim(sc.betaSlow)), d - 1)
                let half = headDim / 2
                inv = (0..<half).map { i in
                    let extrapolation = Double(inv[i]), interpolation = Double(inv[i]) / sc.factor
                    let ramp = min(max((Double(i) - low) / max(high - low, 0.001), 0), 1)
                    let extrapolationFactor = 1 - ramp
                    return Float(interpolation * (1 - extrapolationFactor) + extrapolation * extrapolationFactor)
                }
                attn = Float(sc.attentionFactor ?? (sc.factor <= 1 ? 1 : 0.1 * log(sc.factor) + 1))
            }
        }
        invFreq = inv
        attentionScaling = attn
    }

    /// 1 / θ^(2i/D) computed in float32 as torch does (arange → float, divide, pow, reciprocal).
    static func baseFrequencies(_ d: Int, _ theta: Double) -> [Float] {
        (0..<(d / 2)).map { i in
            let exponent = Float(2 * i) / Float(d)
            return 1 / Float(Foundation.pow(Double(Float(theta)), Double(exponent)))
        }
    }

    /// Frequencies for a sequence of `length` positions (only dynamic scaling depends on it).
    public func frequencies(forLength length: Int) -> [Float] {
        guard let sc = scaling, sc.kind == .dynamic, length > maxPositions else { return invFreq }
        let d = Double(headDim)
        let base = theta * Foundation.pow(sc.factor * Double(length) / Double(maxPositions) - (sc.factor - 1), d / (d - 2))
        return RoPE.baseFrequencies(headDim, base)
    }

    /// cos and sin tables [positions.count, D] (each D/2 block repeated twice).
    public func tables(positions: [Int], sequenceLength: Int? = nil) -> (cos: Tensor, sin: Tensor) {
        let inv = frequencies(forLength: sequenceLength ?? ((positions.max() ?? 0) + 1))
        let half = headDim / 2, n = positions.count
        let c = Tensor(uninitializedShape: [n, headDim]), s = Tensor(uninitializedShape: [n, headDim])
        for (r, pos) in positions.enumerated() {
            let cr = c.data + r * headDim, sr = s.data + r * headDim
            let p = Float(pos)
            for i in 0..<half {
                let angle = p * inv[i]
                let cv = Foundation.cos(angle) * attentionScaling, sv = Foundation.sin(angle) * attentionScaling
                cr[i] = cv; cr[i + half] = cv
                sr[i] = sv; sr[i + half] = sv
            }
        }
        return (c, s)
    }
}

/// Rotates x: [B, T, H, D] by position: row t uses cos[t], sin[t] ([T, D]). Differentiable in x.
public func applyRoPE(_ x: Tensor, cos: Tensor, sin: Tensor) -> Tensor {
    precondition(x.rank == 4, "applyRoPE: x must be [B, T, H, D], got \(x.shape)")
    let (b, t, h, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    precondition(cos.shape == [t, d] && sin.shape == [t, d], "applyRoPE: tables \(cos.shape) for \(x.shape)")
    let out = Tensor(uninitializedShape: x.shape)
    rotate(x.data, out.data, cos.data, sin.data, b: b, t: t, h: h, d: d, inverse: false)
    propagate(out, [x]) { applyRoPE(x.tangent!, cos: cos, sin: sin) }
    return record(out, "rope", [x]) { g in
        let gx = Tensor(uninitializedShape: g.shape)
        rotate(g.data, gx.data, cos.data, sin.data, b: b, t: t, h: h, d: d, inverse: true)
        return [gx]
    }
}

/// y = x·cos + rotate_half(x)·sin, or its transpose (the backward): y = x·cos + rotate_halfᵀ(x·sin),
/// rotate_halfᵀ([y1, y2]) = [y2, -y1].
private func rotate(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                    _ c: UnsafeMutablePointer<Float>, _ s: UnsafeMutablePointer<Float>,
                    b: Int, t: Int, h: Int, d: Int, inverse: Bool) {
    let half = d / 2
    for bi in 0..<b {
        for ti in 0..<t {
            let cr = c + ti * d, sr = s + ti * d
            for hi in 0..<h {
                let off = ((bi * t + ti) * h + hi) * d
                let xr = x + off, yr = y + off
                if inverse {
                    for i in 0..<half {
                        yr[i] = xr[i] * cr[i] + xr[i + half] * sr[i + half]
                        yr[i + half] = xr[i + half] * cr[i + half] - xr[i] * sr[i]
                    }
                } else {
                    for i in 0..<half {
                        yr[i] = xr[i] * cr[i] - xr[i + half] * sr[i]
                        yr[i + half] = xr[i + half] * cr[i + half] + xr[i] * sr[i + half]
                    }
                }
            }
        }
    }
}
