// Broadcasting arithmetic (+ - * / maximum minimum) with their backward passes, and scalar forms.
//
// Backward of a broadcast op sums the output gradient back to each input's shape (sumToShape).

public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = zipKernel(a, b, +)
    let sa = a.shape, sb = b.shape
    propagate(out, [a, b]) { tangentSum(tangentIn(a, out.shape), tangentIn(b, out.shape)) }
    return record(out, "add", [a, b]) { g in [sumToShape(g, sa), sumToShape(g, sb)] }
}

public func sub(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = zipKernel(a, b, -)
    let sa = a.shape, sb = b.shape
    propagate(out, [a, b]) { tangentSum(tangentIn(a, out.shape), tangentIn(b, out.shape).map(neg)) }
    return record(out, "sub", [a, b]) { g in [sumToShape(g, sa), sumToShape(neg(g), sb)] }
}

public func mul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = zipKernel(a, b, *)
    propagate(out, [a, b]) { tangentSum(a.tangent.map { mul($0, b.detach()) }, b.tangent.map { mul(a.detach(), $0) }) }
    return record(out, "mul", [a, b]) { g in
        [a.requiresGrad ? sumToShape(mul(g, b), a.shape) : nil,
         b.requiresGrad ? sumToShape(mul(g, a), b.shape) : nil]
    }
}

public func div(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = zipKernel(a, b, /)
    propagate(out, [a, b]) { tangentSum(a.tangent.map { div($0, b.detach()) }, b.tangent.map { neg(div(mul($0, out.detach()), b.detach())) }) }
    return record(out, "div", [a, b]) { g in
        [a.requiresGrad ? sumToShape(div(g, b), a.shape) : nil,
         b.requiresGrad ? sumToShape(neg(div(mul(g, a), mul(b, b))), b.shape) : nil]
    }
}

/// Elementwise maximum; at ties the gradient is split evenly (as PyTorch does).
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = zipKernel(a, b) { Swift.max($0, $1) }
    propagate(out, [a, b]) { tangentSum(a.tangent.map { mul($0, zipKernel(a, b) { $0 > $1 ? 1 : ($0 == $1 ? 0.5 : 0) }) }, b.tangent.map { mul($0, zipKernel(a, b) { $0 < $1 ? 1 : ($0 == $1 ? 0.5 : 0) }) }) }
    return record(out, "maximum", [a, b]) { g in
        let wa = zipKernel(a, b) { $0 > $1 ? 1 : ($0 == $1 ? 0.5 : 0) }
        return [sumToShape(mul(g, wa), a.shape), sumToShape(mul(g, sub(Tensor(scalar: 1), wa)), b.shape)]
    }
}

/// Elementwise minimum; at ties the gradient is split evenly.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = zipKernel(a, b) { Swift.min($0, $1) }
    propagate(out, [a, b]) { tangentSum(a.tangent.map { mul($0, zipKernel(a, b) { $0 < $1 ? 1 : ($0 == $1 ? 0.5 : 0) }) }, b.tangent.map { mul($0, zipKernel(a, b) { $0 > $1 ? 1 : ($0 == $1 ? 0.5 : 0) }) }) }
    return record(out, "minimum", [a, b]) { g in
        let wa = zipKernel(a, b) { $0 < $1 ? 1 : ($0 == $1 ? 0.5 : 0) }
        return [sumToShape(mul(g, wa), a.shape), sumToShape(mul(g, sub(Tensor(scalar: 1), wa)), b.shape)]
    }
}

public func neg(_ a: Tensor) -> Tensor {
    let out = mapKernel(a) { -$0 }
    propagate(out, [a]) { neg(a.tangent!) }
    return record(out, "neg", [a]) { g in [neg(g)] }
}

/// a * s
public func scale(_ a: Tensor, _ s: Float) -> Tensor {
    let out = mapKernel(a) { $0 * s }
    propagate(out, [a]) { scale(a.tangent!, s) }
    return record(out, "scale", [a]) { g in [scale(g, s)] }
}

/// a + s
public func shift(_ a: Tensor, _ s: Float) -> Tensor {
    let out = mapKernel(a) { $0 + s }
    propagate(out, [a]) { a.tangent! }
    return record(out, "shift", [a]) { g in [g] }
}

public prefix func - (a: Tensor) -> Tensor { neg(a) }
public func + (a: Tensor, b: Tensor) -> Tensor { add(a, b) }
public func - (a: Tensor, b: Tensor) -> Tensor { sub(a, b) }
public func * (a: Tensor, b: Tensor) -> Tensor { mul(a, b) }
public func / (a: Tensor, b: Tensor) -> Tensor { div(a, b) }
public func + (a: Tensor, s: Float) -> Tensor { shift(a, s) }
public func + (s: Float, a: Tensor) -> Tensor { shift(a, s) }
public func - (a: Tensor, s: Float) -> Tensor { shift(a, -s) }
public func - (s: Float, a: Tensor) -> Tensor { shift(neg(a), s) }
public func * (a: Tensor, s: Float) -> Tensor { scale(a, s) }
public func * (s: Float, a: Tensor) -> Tensor { scale(a, s) }
public func / (a: Tensor, s: Float) -> Tensor { scale(a, 1 / s) }
public func / (s: Float, a: Tensor) -> Tensor { scale(reciprocal(a), s) }
