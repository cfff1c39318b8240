// ParameterResolver: how layers read their parameters. Normally a parameter is itself; a
// zeroth-order estimator installs a resolver that hands each layer W + σ·ε·z (z regenerated from a
// seed) for the moment the layer runs, and forward-gradient training one that attaches a tangent —
// so a model is probed at θ ± εz without ever writing into θ (bit-exact by construction) and without
// a second copy of the weights (one layer's worth at a time).
//
// Layers call `resolved(weight)`; embedding lookups call `resolvedRows(weight, ids)` so a resolver can
// perturb only the rows used.

public protocol ParameterResolver: AnyObject {
    /// The tensor to use in place of parameter `t` (or `t` itself).
    func resolve(_ t: Tensor) -> Tensor
    /// Rows `rows` of parameter `t` as the resolver sees them: [rows.count, t.shape[1...]].
    func resolveRows(_ t: Tensor, _ rows: [Int]) -> Tensor
}

extension ParameterResolver {
    public func resolveRows(_ t: Tensor, _ rows: [Int]) -> Tensor { resolve(t).indexSelect(axis: 0, rows) }
}

public enum Parameters {
    /// The resolver in force (set by `withResolver`), or nil: parameters are used as they are.
    public nonisolated(unsafe) static var resolver: ParameterResolver? = nil

    /// Runs `body` with `r` resolving every parameter a layer reads.
    public static func withResolver<T>(_ r: ParameterResolver?, _ body: () throws -> T) rethrows -> T {
        let saved = resolver
        resolver = r
        defer { resolver = saved }
        return try body()
    }
}

/// Parameter `t` as layers should use it now.
@inline(__always)
public func resolved(_ t: Tensor) -> Tensor { Parameters.resolver?.resolve(t) ?? t }

/// Rows of an embedding-like parameter as layers should use them now.
@inline(__always)
public func resolvedRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
    Parameters.resolver?.resolveRows(t, rows) ?? t.indexSelect(axis: 0, rows)
}
