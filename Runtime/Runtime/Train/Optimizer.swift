// Optimizers: parameter groups, SGD (momentum, Nesterov, weight decay), Adam and AdamW.
//
// The update rules are PyTorch's (torch.optim.SGD / Adam / AdamW with default options), written as
// one loop over each parameter's floats. A group carries its own base learning rate and weight
// decay; `lr` is the rate in force (a scheduler sets lr = baseLR · factor(step)).
import Foundation

public struct ParameterGroup {
    public var parameters: [Tensor]
    public var baseLR: Float
    public var lr: Float
    public var weightDecay: Float
    public var name: String

    public init(_ parameters: [Tensor], lr: Float, weightDecay: Float = 0, name: String = "") {
        self.parameters = parameters
        self.baseLR = lr
        self.lr = lr
        self.weightDecay = weightDecay
        self.name = name
    }
}

/// Splits a module's trainable parameters the usual way: weights of rank ≥ 2 get weight decay;
/// biases and normalization weights (rank ≤ 1) get none.
public func decayGroups(_ module: Module, lr: Float, weightDecay: Float) -> [ParameterGroup] {
    let trainable = module.namedParameters().filter { $0.1.requiresGrad }
    return [ParameterGroup(trainable.filter { $0.1.rank >= 2 }.map(\.1), lr: lr, weightDecay: weightDecay, name: "decay"),
            ParameterGroup(trainable.filter { $0.1.rank < 2 }.map(\.1), lr: lr, weightDecay: 0, name: "no_decay")]
}

public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get set }
    /// Number of completed steps.
    var stepCount: Int { get }
    /// Applies one update from the parameters' `.grad` (parameters without a gradient are skipped).
    func step()
    /// Everything the next step depends on besides the parameters, as named tensors (for checkpoints):
    /// parameter k of `allParameters` is "k" ("3.m", "3.v", "3.t" for Adam; "3.momentum" for SGD), and
    /// "step_count".
    func stateTensors() -> [(String, Tensor)]
    /// Restores what `stateTensors()` gave (for the same parameters, in the same order).
    func loadState(_ tensors: [String: Tensor]) throws
}

/// A checkpoint's optimizer state that does not fit the optimizer.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

/// A step counter as a checkpoint stores it (a float): a whole number that fits an Int, or an error
/// (Int(_:) would trap on NaN, infinity or 1e30 from a damaged file).
func stepCounter(_ x: Float, _ what: String) throws -> Int {
    guard x.isFinite, x >= 0, x == x.rounded(), x < 0x1p62 else {
        throw OptimizerStateError(description: "\(what) is \(x), not a step count")
    }
    return Int(x)
}

extension Optimizer {
    public func zeroGrad() {
        for g in groups { for p in g.parameters { p.grad = nil } }
    }

    public var allParameters: [Tensor] { groups.flatMap(\.parameters) }
}

/// torch.optim.SGD: d = g + wd·p; with momentum μ: b = μ·b + (1 - dampening)·d (b = d on the first
/// step); d = Nesterov ? d + μ·b : b; p -= lr·d.
public final class SGD: Optimizer {
    public var groups: [ParameterGroup]
    public let momentum: Float, dampening: Float, nesterov: Bool
    public private(set) var stepCount = 0
    private var buffers: [ObjectIdentifier: Tensor] = [:]

    public init(_ groups: [ParameterGroup], momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false) {
        // invariant: the only caller (zo) passes momentum 0 without Nesterov; a programming error otherwise.
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum > 0 and dampening 0")
        self.groups = groups
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
    }

    public convenience init(_ parameters: [Tensor], lr: Float, momentum: Float = 0, weightDecay: Float = 0,
                            nesterov: Bool = false) {
        self.init([ParameterGroup(parameters, lr: lr, weightDecay: weightDecay)], momentum: momentum, nesterov: nesterov)
    }

    public func step() {
        for group in groups {
            let lr = group.lr, wd = group.weightDecay, mu = momentum, damp = dampening
            for p in group.parameters {
                guard let g = p.grad else { continue }
                let n = p.count, pp = p.data, gp = g.data
                if mu == 0 {
                    for i in 0..<n { pp[i] -= lr * (gp[i] + wd * pp[i]) }
                    continue
                }
                let key = ObjectIdentifier(p)
                if let buf = buffers[key] {
                    let b = buf.data
                    for i in 0..<n {
                        let d = gp[i] + wd * pp[i]
                        b[i] = mu * b[i] + (1 - damp) * d
                        pp[i] -= lr * (nesterov ? d + mu * b[i] : b[i])
                    }
                } else {
                    let buf = Tensor(uninitializedShape: p.shape), b = buf.data
                    for i in 0..<n {
                        let d = gp[i] + wd * pp[i]
                        b[i] = d
                        pp[i] -= lr * (nesterov ? d + mu * d : d)
                    }
                    buffers[key] = buf
                }
            }
        }
        stepCount += 1
    }

    public func stateTensors() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = [("step_count", Tensor(shape: [], scalars: [Float(stepCount)]))]
        for (k, p) in allParameters.enumerated() { if let b = buffers[ObjectIdentifier(p)] { out.append(("\(k).momentum", b)) } }
        return out
    }

    public func loadState(_ tensors: [String: Tensor]) throws {
        guard let n = tensors["step_count"]?.scalars.first else { throw OptimizerStateError(description: "optimizer state without step_count") }
        stepCount = try stepCounter(n, "step_count")
        buffers = [:]
        for (k, p) in allParameters.enumerated() {
            guard let b = tensors["\(k).momentum"] else { continue }
            guard b.shape == p.shape else { throw OptimizerStateError(description: "momentum \(k) has shape \(b.shape), expected \(p.shape)") }
            buffers[ObjectIdentifier(p)] = b.copy()
        }
    }
}

/// torch.optim.Adam (L2 weight decay added to the gradient) and AdamW (decoupled: p *= 1 - lr·wd).
/// m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²; p -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + ε).
/// `huggingFace`: transformers' own AdamW (transformers.optimization.AdamW, correct_bias): ε outside
/// the bias correction, p -= lr·√(1-β2ᵗ)/(1-β1ᵗ) · m / (√v + ε), then the decay p -= lr·wd·p on the
/// updated weights.
public final class Adam: Optimizer {
    public var groups: [ParameterGroup]
    public let beta1: Float, beta2: Float, eps: Float, decoupled: Bool
    public let huggingFace: Bool
    public private(set) var stepCount = 0
    private var state: [ObjectIdentifier: (m: Tensor, v: Tensor, t: Int)] = [:]

    public init(_ groups: [ParameterGroup], betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8,
                decoupled: Bool = false, huggingFace: Bool = false) {
        self.groups = groups
        (beta1, beta2) = betas
        self.eps = eps
        self.decoupled = decoupled || huggingFace
        self.huggingFace = huggingFace
    }

    /// transformers.optimization.AdamW as PTEC's reference uses it (ε 1e-6 by default there).
    public static func huggingFaceAdamW(_ groups: [ParameterGroup], betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-6) -> Adam {
        Adam(groups, betas: betas, eps: eps, decoupled: true, huggingFace: true)
    }

    public convenience init(_ parameters: [Tensor], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                            eps: Float = 1e-8, weightDecay: Float = 0) {
        self.init([ParameterGroup(parameters, lr: lr, weightDecay: weightDecay)], betas: betas, eps: eps)
    }

    /// AdamW with PyTorch's default weight decay 0.01.
    public static func adamW(_ groups: [ParameterGroup], betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8) -> Adam {
        Adam(groups, betas: betas, eps: eps, decoupled: true)
    }

    public static func adamW(_ parameters: [Tensor], lr: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
        Adam([ParameterGroup(parameters, lr: lr, weightDecay: weightDecay)], decoupled: true)
    }

    public func step() {
        for group in groups {
            let lr = group.lr, wd = group.weightDecay
            for p in group.parameters {
                guard let g = p.grad else { continue }
                let key = ObjectIdentifier(p)
                var s = state[key] ?? (Tensor.zeros(p.shape), Tensor.zeros(p.shape), 0)
                s.t += 1
                state[key] = s
                let b1 = beta1, b2 = beta2, e = eps
                let bc1 = 1 - Foundation.pow(Double(b1), Double(s.t)), bc2 = 1 - Foundation.pow(Double(b2), Double(s.t))
                let stepSize = Float(Double(lr) / bc1 * (huggingFace ? bc2.squareRoot() : 1))
                let sqrtBC2 = huggingFace ? Float(1) : Float(bc2.squareRoot())
                let after = huggingFace
                let (pp, gp, mp, vp) = (p.data, g.data, s.m.data, s.v.data)
                let decay: Float = decoupled ? 1 - lr * wd : 1, l2: Float = decoupled ? 0 : wd
                // Chunks of 8-aligned ranges over the threads; each element's update is independent.
                parallelFor((p.count + 7) / 8, grain: 1 << 13) { r in
                    let lo = r.lowerBound * 8, hi = min(p.count, r.upperBound * 8)
                    adamUpdate(pp + lo, gp + lo, mp + lo, vp + lo, hi - lo, b1: b1, b2: b2, eps: e,
                               stepSize: stepSize, sqrtBC2: sqrtBC2, decay: decay, l2: l2, decayAfter: after)
                }
            }
        }
        stepCount += 1
    }

    public func stateTensors() -> [(String, Tensor)] {
        var out: [(String, Tensor)] = [("step_count", Tensor(shape: [], scalars: [Float(stepCount)]))]
        for (k, p) in allParameters.enumerated() {
            guard let s = state[ObjectIdentifier(p)] else { continue }
            out += [("\(k).m", s.m), ("\(k).v", s.v), ("\(k).t", Tensor(shape: [], scalars: [Float(s.t)]))]
        }
        return out
    }

    public func loadState(_ tensors: [String: Tensor]) throws {
        guard let n = tensors["step_count"]?.scalars.first else { throw OptimizerStateError(description: "optimizer state without step_count") }
        stepCount = try stepCounter(n, "step_count")
        state = [:]
        for (k, p) in allParameters.enumerated() {
            guard let m = tensors["\(k).m"], let v = tensors["\(k).v"], let t = tensors["\(k).t"]?.scalars.first else { continue }
            guard m.shape == p.shape && v.shape == p.shape else {
                throw OptimizerStateError(description: "Adam moments \(k) have shape \(m.shape), expected \(p.shape)")
            }
            let steps = try stepCounter(t, "Adam step \(k).t")
            state[ObjectIdentifier(p)] = (m.copy(), v.copy(), steps)
        }
    }
}

/// One Adam update over n floats, eight lanes at a time (SIMD8 keeps it vectorized whatever the
/// compiler concludes about pointer aliasing), the tail one by one with the same arithmetic.
@inline(__always)
private func adamUpdate(_ pp: UnsafeMutablePointer<Float>, _ gp: UnsafeMutablePointer<Float>,
                        _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>, _ n: Int,
                        b1: Float, b2: Float, eps: Float, stepSize: Float, sqrtBC2: Float, decay: Float, l2: Float,
                        decayAfter: Bool) {
    typealias V = SIMD8<Float>
    let lanes = V.scalarCount, full = n / lanes * lanes
    let rp = UnsafeMutableRawPointer(pp), rg = UnsafeRawPointer(gp), rm = UnsafeMutableRawPointer(m),
        rv = UnsafeMutableRawPointer(v)
    var i = 0
    while i < full {
        let o = i * 4
        let p0 = rp.loadUnaligned(fromByteOffset: o, as: V.self)
        let gi = rg.loadUnaligned(fromByteOffset: o, as: V.self) + l2 * p0
        let mi = b1 * rm.loadUnaligned(fromByteOffset: o, as: V.self) + (1 - b1) * gi
        let vi = b2 * rv.loadUnaligned(fromByteOffset: o, as: V.self) + (1 - b2) * gi * gi
        rm.storeBytes(of: mi, toByteOffset: o, as: V.self)
        rv.storeBytes(of: vi, toByteOffset: o, as: V.self)
        let update = stepSize * mi / (vsqrt(vi) / sqrtBC2 + eps)
        rp.storeBytes(of: decayAfter ? (p0 - update) * decay : p0 * decay - update, toByteOffset: o, as: V.self)
        i += lanes
    }
    while i < n {
        let gi = gp[i] + l2 * pp[i]
        m[i] = b1 * m[i] + (1 - b1) * gi
        v[i] = b2 * v[i] + (1 - b2) * gi * gi
        let update = stepSize * m[i] / (v[i].squareRoot() / sqrtBC2 + eps)
        pp[i] = decayAfter ? (pp[i] - update) * decay : pp[i] * decay - update
        i += 1
    }
}

/// Scales all gradients so their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_:
/// factor maxNorm / (norm + 1e-6), applied only when below 1). Returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var total = 0.0
    for p in parameters {
        guard let g = p.grad else { continue }
        let gp = g.data
        for i in 0..<g.count { total += Double(gp[i]) * Double(gp[i]) }
    }
    let norm = Float(total.squareRoot())
    let factor = maxNorm / (norm + 1e-6)
    if factor < 1 {
        // Out of place: a gradient tensor may be shared with another (see Backward.swift).
        for p in parameters { if let g = p.grad { p.grad = withoutGrad { scale(g, factor) } } }
    }
    return norm
}

/// Clamps every gradient element into [-value, value].
public func clipGradValue(_ parameters: [Tensor], _ value: Float) {
    for p in parameters { if let g = p.grad { p.grad = withoutGrad { clamp(g, min: -value, max: value) } } }
}

/// A loss that is not a finite number: the update it would make is refused.
public struct NonFiniteLoss: Error, CustomStringConvertible {
    public let value: Float
    public var description: String { "the loss is \(value): lower the learning rate" }
}

extension Optimizer {
    /// One supervised update: zero the gradients, backpropagate `loss`, clip them to a global norm of
    /// `maxGradNorm`, step. Returns the loss and the gradient norm before clipping; a non-finite loss
    /// throws before the step, leaving the parameters as they were.
    public func update(_ loss: Tensor, maxGradNorm: Float) throws -> (loss: Float, gradNorm: Float) {
        zeroGrad()
        loss.backward()
        let norm = clipGradNorm(allParameters, maxNorm: maxGradNorm)
        let value = loss.item()
        guard value.isFinite else { throw NonFiniteLoss(value: value) }
        step()
        return (value, norm)
    }
}
