// Activations: ReLU, LeakyReLU, GELU (erf and tanh forms), SiLU, tanh, sigmoid.
import Foundation

public func relu(_ x: Tensor) -> Tensor {
    let out = mapKernel(x) { Swift.max($0, 0) }
    propagate(out, [x]) { zipKernel(x.tangent!, x) { d, v in v > 0 ? d : 0 } }
    return record(out, "relu", [x]) { g in [zipKernel(g, x) { d, v in v > 0 ? d : 0 }] }
}

public func leakyRelu(_ x: Tensor, slope: Float = 0.01) -> Tensor {
    let out = mapKernel(x) { $0 > 0 ? $0 : slope * $0 }
    propagate(out, [x]) { zipKernel(x.tangent!, x) { d, v in v > 0 ? d : slope * d } }
    return record(out, "leakyRelu", [x]) { g in [zipKernel(g, x) { d, v in v > 0 ? d : slope * d }] }
}

public enum GELUApproximation: String, Sendable {
    /// x Φ(x) with the exact normal CDF (BERT's "gelu").
    case none
    /// 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³))) (GPT-2's "gelu_new", PyTorch approximate="tanh").
    case tanh
}

private let sqrt2OverPi: Float = 0.7978845608028654
private let invSqrt2: Float = 0.7071067811865476
private let invSqrt2Pi: Float = 0.3989422804014327

public func gelu(_ x: Tensor, approximation: GELUApproximation = .none) -> Tensor {
    switch approximation {
    case .none:
        let out = vectorMap(x) { v in 0.5 * v * (1 + verf(v * invSqrt2)) }
        propagate(out, [x]) { vectorZip(x.tangent!, x) { d, v in d * (0.5 * (1 + verf(v * invSqrt2)) + v * invSqrt2Pi * vexp(-0.5 * v * v)) } }
        return record(out, "gelu", [x]) { g in
            // Φ(x) + x φ(x)
            [vectorZip(g, x) { d, v in d * (0.5 * (1 + verf(v * invSqrt2)) + v * invSqrt2Pi * vexp(-0.5 * v * v)) }]
        }
    case .tanh:
        let out = mapKernel(x) { v in 0.5 * v * (1 + Foundation.tanh(sqrt2OverPi * (v + 0.044715 * v * v * v))) }
        propagate(out, [x]) { zipKernel(x.tangent!, x) { d, v in let u = sqrt2OverPi * (v + 0.044715 * v * v * v); let t = Foundation.tanh(u); return d * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * sqrt2OverPi * (1 + 3 * 0.044715 * v * v)) } }
        return record(out, "gelu_tanh", [x]) { g in
            [zipKernel(g, x) { d, v in
                let u = sqrt2OverPi * (v + 0.044715 * v * v * v)
                let t = Foundation.tanh(u)
                let du = sqrt2OverPi * (1 + 3 * 0.044715 * v * v)
                return d * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du)
            }]
        }
    }
}

@inline(__always) func sigmoidScalar(_ v: Float) -> Float {
    v >= 0 ? 1 / (1 + Foundation.exp(-v)) : { let e = Foundation.exp(v); return e / (1 + e) }()
}

/// σ(x) = 1 / (1 + e^-x) on eight lanes (e^-x saturates instead of overflowing).
@inline(__always) func vsigmoid(_ v: Float8) -> Float8 { 1 / (1 + vexp(-v)) }

public func sigmoid(_ x: Tensor) -> Tensor {
    let out = vectorMap(x, vsigmoid)
    let y = out.detach()
    propagate(out, [x]) { vectorZip(x.tangent!, y) { d, s in d * s * (1 - s) } }
    return record(out, "sigmoid", [x]) { g in [vectorZip(g, y) { d, s in d * s * (1 - s) }] }
}

public func tanh(_ x: Tensor) -> Tensor {
    let out = mapKernel(x) { Foundation.tanh($0) }
    let y = out.detach()
    propagate(out, [x]) { zipKernel(x.tangent!, y) { d, t in d * (1 - t * t) } }
    return record(out, "tanh", [x]) { g in [zipKernel(g, y) { d, t in d * (1 - t * t) }] }
}

/// x σ(x) (also called swish).
public func silu(_ x: Tensor) -> Tensor {
    let out = vectorMap(x) { v in v * vsigmoid(v) }
    propagate(out, [x]) { vectorZip(x.tangent!, x) { d, v in let s = vsigmoid(v); return d * s * (1 + v * (1 - s)) } }
    return record(out, "silu", [x]) { g in
        [vectorZip(g, x) { d, v in let s = vsigmoid(v); return d * s * (1 + v * (1 - s)) }]
    }
}

/// x σ(1.702 x): CLIP's "quick_gelu" (the sigmoid approximation of GELU).
public func quickGelu(_ x: Tensor) -> Tensor {
    let out = vectorMap(x) { v in v * vsigmoid(1.702 * v) }
    propagate(out, [x]) { vectorZip(x.tangent!, x) { d, v in let s = vsigmoid(1.702 * v); return d * s * (1 + 1.702 * v * (1 - s)) } }
    return record(out, "quick_gelu", [x]) { g in
        [vectorZip(g, x) { d, v in let s = vsigmoid(1.702 * v); return d * s * (1 + 1.702 * v * (1 - s)) }]
    }
}

/// Activation by name, as configs spell them ("gelu", "gelu_new", "relu", "silu", "tanh", ...).
public func activation(named name: String) -> ((Tensor) -> Tensor)? {
    switch name.lowercased() {
    case "relu": return relu
    case "gelu", "gelu_python": return { gelu($0) }
    case "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_tanh": return { gelu($0, approximation: .tanh) }
    case "silu", "swish": return silu
    case "quick_gelu": return quickGelu
    case "tanh": return tanh
    case "sigmoid": return sigmoid
    case "leaky_relu": return { leakyRelu($0) }
    default: return nil
    }
}
