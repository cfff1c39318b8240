// Forward-mode differentiation: a tensor can carry a tangent, its derivative along one direction v.
// Set tangents on inputs (or hand them out through a ParameterResolver), run the forward pass, and
// every op computes its output's tangent from its inputs' as it goes: the result's tangent is the
// exact directional derivative ∇f·v (a Jacobian-vector product), in one pass, keeping nothing for
// later (forward-gradient training needs no more memory than inference). Each op's tangent rule sits
// beside its forward and backward.
//
// Rules use primal values through `detach()` (which carries no tangent), so computing a tangent never
// starts a second-order one. An op without a rule fails loudly when handed a tangent.

/// Attaches `rule()` as out's tangent when any input carries one; returns out.
@inline(__always)
@discardableResult
func propagate(_ out: Tensor, _ inputs: [Tensor], _ rule: () -> Tensor?) -> Tensor {
    if inputs.contains(where: { $0.tangent != nil }) {
        out.tangent = withoutGrad { rule() }
    }
    return out
}

/// a + b where either may be missing (a missing tangent is zero).
func tangentSum(_ a: Tensor?, _ b: Tensor?) -> Tensor? {
    switch (a, b) {
    case let (a?, b?): return add(a, b)
    case let (a?, nil): return a
    case let (nil, b?): return b
    default: return nil
    }
}

/// The tangent of `t` broadcast into `shape` (or nil).
func tangentIn(_ t: Tensor, _ shape: [Int]) -> Tensor? {
    guard let tt = t.tangent else { return nil }
    return tt.shape == shape ? tt : tt.broadcasted(to: shape)
}

/// Fails for ops that have no forward-mode rule when a tangent reaches them.
@inline(__always)
func noTangentRule(_ name: String, _ inputs: Tensor...) {
    precondition(!inputs.contains { $0.tangent != nil }, "forward mode: \(name) has no tangent rule")
}
