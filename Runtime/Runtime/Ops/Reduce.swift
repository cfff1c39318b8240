// Reductions along one axis (sum, mean, max, min, argmax, logsumexp) and over everything.
//
// A tensor seen around one axis is [outer, n, inner]: `outer` blocks, each `n` rows of `inner`
// contiguous floats. inner == 1 (the last axis) reduces each contiguous row; otherwise rows are
// added as vectors, which vectorizes. Whole-tensor sums accumulate in Double.
import Foundation

/// (outer, n, inner) of `shape` around `axis`.
@inline(__always)
func splitAround(_ shape: [Int], _ axis: Int) -> (outer: Int, n: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
}

func reducedShape(_ shape: [Int], _ axis: Int, keepDims: Bool) -> [Int] {
    var s = shape
    if keepDims { s[axis] = 1 } else { s.remove(at: axis) }
    return s
}

extension Tensor {
    /// Sum of all elements (rank 0).
    public func sum() -> Tensor {
        var acc = 0.0
        let p = data
        for i in 0..<count { acc += Double(p[i]) }
        let out = Tensor(scalar: Float(acc))
        let s = shape
        propagate(out, [self]) { self.tangent!.sum() }
        return record(out, "sum", [self]) { g in [g.reshaped(Array(repeating: 1, count: s.count)).broadcasted(to: s)] }
    }

    public func mean() -> Tensor {
        precondition(count > 0, "mean of an empty tensor")
        return scale(sum(), 1 / Float(count))
    }

    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank)
        let (outer, n, inner) = splitAround(shape, ax)
        let out = Tensor(uninitializedShape: reducedShape(shape, ax, keepDims: keepDims))
        let p = data, o = out.data
        if inner == 1 {
            for r in 0..<outer {
                var acc = 0.0
                let row = p + r * n
                for j in 0..<n { acc += Double(row[j]) }
                o[r] = Float(acc)
            }
        } else {
            for r in 0..<outer {
                let dst = o + r * inner
                dst.initialize(repeating: 0, count: inner)
                for j in 0..<n {
                    let src = p + (r * n + j) * inner
                    for k in 0..<inner { dst[k] += src[k] }
                }
            }
        }
        let s = shape, kept = reducedShape(shape, ax, keepDims: true)
        propagate(out, [self]) { self.tangent!.sum(axis: ax, keepDims: keepDims) }
        return record(out, "sum", [self]) { g in [g.reshaped(kept).broadcasted(to: s)] }
    }

    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank)
        return scale(sum(axis: ax, keepDims: keepDims), 1 / Float(shape[ax]))
    }

    /// Indices of the largest element along `axis` (first one at ties), in the reduced shape's order.
    public func argmax(axis: Int) -> [Int] { extremeIndices(axis: normalizeAxis(axis, rank: rank), largest: true) }
    public func argmin(axis: Int) -> [Int] { extremeIndices(axis: normalizeAxis(axis, rank: rank), largest: false) }

    /// Largest values along `axis`; the gradient goes to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { extreme(axis: axis, keepDims: keepDims, largest: true) }
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { extreme(axis: axis, keepDims: keepDims, largest: false) }

    /// The largest element (no gradient; for inspection).
    public func maxValue() -> Float { scalars.max() ?? -.infinity }

    private func extremeIndices(axis ax: Int, largest: Bool) -> [Int] {
        let (outer, n, inner) = splitAround(shape, ax)
        precondition(n > 0, "argmax/argmin over an empty axis")
        var idx = [Int](repeating: 0, count: outer * inner)
        let p = data
        for r in 0..<outer {
            for k in 0..<inner {
                var best = p[r * n * inner + k], bi = 0
                for j in 1..<Swift.max(n, 1) {
                    let v = p[(r * n + j) * inner + k]
                    if largest ? (v > best || (v.isNaN && !best.isNaN)) : (v < best || (v.isNaN && !best.isNaN)) {
                        best = v; bi = j
                    }
                }
                idx[r * inner + k] = bi
            }
        }
        return idx
    }

    private func extreme(axis: Int, keepDims: Bool, largest: Bool) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank)
        let (_, n, inner) = splitAround(shape, ax)
        let idx = extremeIndices(axis: ax, largest: largest)
        let out = Tensor(uninitializedShape: reducedShape(shape, ax, keepDims: keepDims))
        let p = data, o = out.data
        for (m, j) in idx.enumerated() {
            let r = m / inner, k = m % inner
            o[m] = p[(r * n + j) * inner + k]
        }
        let s = shape
        propagate(out, [self]) { self.tangent!.gather(axis: ax, indices: idx, indexShape: reducedShape(shape, ax, keepDims: true)).reshaped(out.shape) }
        return record(out, largest ? "max" : "min", [self]) { g in
            let gi = Tensor.zeros(s)
            let gp = g.data, dst = gi.data
            for (m, j) in idx.enumerated() {
                let r = m / inner, k = m % inner
                dst[(r * n + j) * inner + k] += gp[m]
            }
            return [gi]
        }
    }

    /// log Σ exp along `axis`, computed stably (max subtracted first).
    public func logsumexp(axis: Int, keepDims: Bool = false) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank)
        let (outer, n, inner) = splitAround(shape, ax)
        let out = Tensor(uninitializedShape: reducedShape(shape, ax, keepDims: keepDims))
        let p = data, o = out.data
        for r in 0..<outer {
            for k in 0..<inner {
                var m = -Float.infinity
                for j in 0..<n { m = Swift.max(m, p[(r * n + j) * inner + k]) }
                if m == -.infinity { o[r * inner + k] = -.infinity; continue }
                var acc: Float = 0
                for j in 0..<n { acc += Foundation.exp(p[(r * n + j) * inner + k] - m) }
                o[r * inner + k] = m + Foundation.log(acc)
            }
        }
        let kept = reducedShape(shape, ax, keepDims: true)
        let y = out.detach()
        propagate(out, [self]) { mul(self.tangent!, exp(sub(self.detach(), y.reshaped(kept)))).sum(axis: ax, keepDims: keepDims) }
        return record(out, "logsumexp", [self]) { g in
            // d/dx = softmax(x) = exp(x - lse)
            [mul(g.reshaped(kept), exp(sub(self.detach(), y.reshaped(kept))))]
        }
    }
}
