// Unary math (exp, log, sqrt, rsqrt, abs, square, pow, clamp, reciprocal, sin, cos) with backward.
import Foundation

public func exp(_ a: Tensor) -> Tensor {
    let out = mapKernel(a) { Foundation.exp($0) }
    let y = out.detach()
    propagate(out, [a]) { mul(a.tangent!, y) }
    return record(out, "exp", [a]) { g in [mul(g, y)] }
}

public func log(_ a: Tensor) -> Tensor {
    let out = mapKernel(a) { Foundation.log($0) }
    propagate(out, [a]) { div(a.tangent!, a.detach()) }
    return record(out, "log", [a]) { g in [div(g, a)] }
}

public func sqrt(_ a: Tensor) -> Tensor {
    let out = mapKernel(a) { $0.squareRoot() }
    let y = out.detach()
    propagate(out, [a]) { div(a.tangent!, scale(y, 2)) }
    return record(out, "sqrt", [a]) { g in [div(g, scale(y, 2))] }
}

/// 1 / sqrt(a)
public func rsqrt(_ a: Tensor) -> Tensor {
    let out = mapKernel(a) { 1 / $0.squareRoot() }
    let y = out.detach()
    // d/da a^-1/2 = -1/2 a^-3/2 = -1/2 y^3
    propagate(out, [a]) { mul(a.tangent!, mapKernel(y) { -0.5 * $0 * $0 * $0 }) }
    return record(out, "rsqrt", [a]) { g in [mul(g, mapKernel(y) { -0.5 * $0 * $0 * $0 })] }
}

/// |a|; the gradient at 0 is 0 (as PyTorch).
public func abs(_ a: Tensor) -> Tensor {
    let out = mapKernel(a) { Swift.abs($0) }
    propagate(out, [a]) { mul(a.tangent!, mapKernel(a) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }) }
    return record(out, "abs", [a]) { g in [mul(g, mapKernel(a) { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) })] }
}

public func square(_ a: Tensor) -> Tensor {
    let out = mapKernel(a) { $0 * $0 }
    propagate(out, [a]) { mul(a.tangent!, scale(a.detach(), 2)) }
    return record(out, "square", [a]) { g in [mul(g, scale(a, 2))] }
}

/// a^p for a scalar exponent.
public func pow(_ a: Tensor, _ p: Float) -> Tensor {
    let out = mapKernel(a) { Foundation.pow($0, p) }
    propagate(out, [a]) { mul(a.tangent!, mapKernel(a) { p * Foundation.pow($0, p - 1) }) }
    return record(out, "pow", [a]) { g in [mul(g, mapKernel(a) { p * Foundation.pow($0, p - 1) })] }
}

public func reciprocal(_ a: Tensor) -> Tensor {
    let out = mapKernel(a) { 1 / $0 }
    let y = out.detach()
    propagate(out, [a]) { mul(a.tangent!, mapKernel(y) { -$0 * $0 }) }
    return record(out, "reciprocal", [a]) { g in [mul(g, mapKernel(y) { -$0 * $0 })] }
}

/// Clamps into [lo, hi]; the gradient passes where lo <= a <= hi (as PyTorch).
public func clamp(_ a: Tensor, min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
    let out = mapKernel(a) { Swift.min(Swift.max($0, lo), hi) }
    propagate(out, [a]) { mul(a.tangent!, mapKernel(a) { $0 >= lo && $0 <= hi ? 1 : 0 }) }
    return record(out, "clamp", [a]) { g in [mul(g, mapKernel(a) { $0 >= lo && $0 <= hi ? 1 : 0 })] }
}

public func sin(_ a: Tensor) -> Tensor {
    let out = mapKernel(a) { Foundation.sin($0) }
    propagate(out, [a]) { mul(a.tangent!, mapKernel(a) { Foundation.cos($0) }) }
    return record(out, "sin", [a]) { g in [mul(g, mapKernel(a) { Foundation.cos($0) })] }
}

public func cos(_ a: Tensor) -> Tensor {
    let out = mapKernel(a) { Foundation.cos($0) }
    propagate(out, [a]) { mul(a.tangent!, mapKernel(a) { -Foundation.sin($0) }) }
    return record(out, "cos", [a]) { g in [mul(g, mapKernel(a) { -Foundation.sin($0) })] }
}
