// The optimizers' in-place updates from a zeroth-order (or forward-gradient) estimate
// G_i = c · z_i (c: projected gradient, its sign, or a directional derivative; z_i regenerated),
// one tensor at a time so no more than one tensor's worth of gradient ever exists:
//
//   zo-sgd (MeZO)     θ ← θ − η (G + λθ)                       λ only where weight decay applies
//   zo-sgd-mmt        b ← μ b + (G + λθ) (b = G + λθ at first);  θ ← θ − η b
//   zo-sgd-sign       as zo-sgd with c = sign(projected gradient) (the reference code's SignSGD)
//   zo-adam           Adam on G + λθ (bias-corrected, as torch.optim.Adam)
//   forward-grad      as zo-sgd with c = ∇L·v (exact directional derivative)
//
// The same function applies updates in training and in `zo replay`, so a replayed run reproduces the
// weights bit for bit.
import Foundation
import Runtime

public enum ZOOptimizer: String, CaseIterable, Sendable {
    case zoSGD = "zo-sgd", zoSGDMomentum = "zo-sgd-mmt", zoSGDConservative = "zo-sgd-cons", zoSGDSign = "zo-sgd-sign"
    case zoAdam = "zo-adam", forwardGrad = "forward-grad", foSGD = "fo-sgd", foAdam = "fo-adam"

    public var isFirstOrder: Bool { self == .foSGD || self == .foAdam }
}

/// Optimizer state (momentum buffers, Adam moments) for the ZO updates, per tensor.
public final class ZOState {
    var momentum: [Int: Tensor] = [:]
    var adamM: [Int: Tensor] = [:], adamV: [Int: Tensor] = [:], adamT: [Int: Int] = [:]
    public init() {}
}

public struct UpdateRule: Sendable {
    public var optimizer: ZOOptimizer
    public var weightDecay: Float = 0
    public var momentum: Float = 0.9
    public var beta1: Float = 0.9, beta2: Float = 0.999, adamEps: Float = 1e-8
    public init(optimizer: ZOOptimizer) { self.optimizer = optimizer }
}

/// θ_i ← update with G = Σ_k coefficients[k] · z_i(seeds[k]) / q, learning rate `lr`. G is formed and
/// applied in chunks of `ZOParameters.directionChunk` (2²⁰) elements, so the update needs
/// 8 MB of scratch however large the tensor (the tied embedding of SmolLM2 is 113 MB).
func applyUpdate(_ params: ZOParameters, tensor i: Int, seeds: [UInt64], coefficients: [Float], lr: Float,
                 rule: UpdateRule, state: ZOState) {
    let t = params.tensor(i), n = t.count, chunk = ZOParameters.directionChunk
    let g = UnsafeMutablePointer<Float>.allocate(capacity: max(1, min(chunk, n)))
    let z = UnsafeMutablePointer<Float>.allocate(capacity: max(1, min(chunk, n)))
    defer { g.deallocate(); z.deallocate() }
    let q = Float(seeds.count)
    let wd: Float = params.decays[i] ? rule.weightDecay : 0
    // Optimizer state, created on the first update.
    var freshMomentum = false
    if rule.optimizer == .zoSGDMomentum && state.momentum[i] == nil {
        state.momentum[i] = Tensor(uninitializedShape: t.shape)
        freshMomentum = true
    }
    var stepSize: Float = 0, sqrtBC2: Float = 0
    if rule.optimizer == .zoAdam {
        if state.adamM[i] == nil { (state.adamM[i], state.adamV[i]) = (Tensor.zeros(t.shape), Tensor.zeros(t.shape)) }
        let step = (state.adamT[i] ?? 0) + 1
        state.adamT[i] = step
        let bc1 = 1 - Foundation.pow(Double(rule.beta1), Double(step)), bc2 = 1 - Foundation.pow(Double(rule.beta2), Double(step))
        (stepSize, sqrtBC2) = (Float(Double(lr) / bc1), Float(bc2.squareRoot()))
    }
    var start = 0
    while start < n {
        let m = min(chunk, n - start)
        g.initialize(repeating: 0, count: m)
        for (seed, c) in zip(seeds, coefficients) {
            let cq = c / q
            params.direction(i, seed: seed, start: start, count: m, into: z)
            for j in 0..<m { g[j] += cq * z[j] }
        }
        let p = t.data + start
        switch rule.optimizer {
        case .zoSGD, .zoSGDSign, .zoSGDConservative, .forwardGrad:
            for j in 0..<m { p[j] -= lr * (g[j] + wd * p[j]) }
        case .zoSGDMomentum:
            let mu = rule.momentum, bp = state.momentum[i]!.data + start
            if freshMomentum {
                for j in 0..<m { bp[j] = g[j] + wd * p[j]; p[j] -= lr * bp[j] }
            } else {
                for j in 0..<m { bp[j] = mu * bp[j] + (g[j] + wd * p[j]); p[j] -= lr * bp[j] }
            }
        case .zoAdam:
            let (b1, b2) = (rule.beta1, rule.beta2)
            let mp = state.adamM[i]!.data + start, vp = state.adamV[i]!.data + start
            for j in 0..<m {
                let gj = g[j] + wd * p[j]
                mp[j] = b1 * mp[j] + (1 - b1) * gj
                vp[j] = b2 * vp[j] + (1 - b2) * gj * gj
                p[j] -= stepSize * mp[j] / (vp[j].squareRoot() / sqrtBC2 + rule.adamEps)
            }
        case .foSGD, .foAdam:
            preconditionFailure("first-order optimizers update through the runtime's SGD/Adam")
        }
        start += m
    }
}

/// θ ← θ + m·(−η G) for the chosen candidate of zo-sgd-cons (m = 1: θ − ηG; m = −1: θ + ηG).
func applyConservative(_ params: ZOParameters, tensor i: Int, seed: UInt64, coefficient c: Float, lr: Float, multiplier: Float) {
    guard multiplier != 0 else { return }
    let p = params.tensor(i).data, k = multiplier * lr * c
    params.forEachDirectionChunk(i, seed: seed) { start, m, z in
        for j in 0..<m { p[start + j] -= k * z[j] }
    }
}
