// Indexing: index-select (embedding lookup), gather, scatter-add, masked fill, where.
//
// Indices are Swift [Int] (tensors hold only Float32). Out-of-range indices are programming errors:
// programs validate ids from their input before they get here.

extension Tensor {
    /// Picks entries `indices` along `axis`: out.shape[axis] = indices.count. Backward adds rows back.
    public func indexSelect(axis: Int = 0, _ indices: [Int]) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank)
        let (outer, n, inner) = splitAround(shape, ax)
        for i in indices { precondition(i >= 0 && i < n, "indexSelect: index \(i) out of range 0..<\(n)") }
        var outShape = shape
        outShape[ax] = indices.count
        let out = Tensor(uninitializedShape: outShape)
        let p = data, o = out.data, m = indices.count
        for r in 0..<outer {
            for (j, i) in indices.enumerated() {
                (o + (r * m + j) * inner).update(from: p + (r * n + i) * inner, count: inner)
            }
        }
        let inShape = shape
        propagate(out, [self]) { self.tangent!.indexSelect(axis: ax, indices) }
        return record(out, "indexSelect", [self]) { g in
            let gi = Tensor.zeros(inShape)
            let gp = g.data, dst = gi.data
            for r in 0..<outer {
                for (j, i) in indices.enumerated() {
                    let d = dst + (r * n + i) * inner, s = gp + (r * m + j) * inner
                    for k in 0..<inner { d[k] += s[k] }
                }
            }
            return [gi]
        }
    }

    /// torch.gather: out[..., j, ...] = self[..., indices[..., j, ...], ...] along `axis`.
    /// `indexShape` equals self's shape except along `axis`.
    public func gather(axis: Int, indices: [Int], indexShape: [Int]) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank)
        precondition(indexShape.count == rank && (0..<rank).allSatisfy { $0 == ax || indexShape[$0] == shape[$0] },
                     "gather: index shape \(indexShape) does not match \(shape) off axis \(ax)")
        precondition(indices.count == Tensor.elementCount(indexShape), "gather: \(indices.count) indices for shape \(indexShape)")
        let (outer, n, inner) = splitAround(shape, ax)
        let m = indexShape[ax]
        let out = Tensor(uninitializedShape: indexShape)
        let p = data, o = out.data
        for r in 0..<outer {
            for j in 0..<m {
                for k in 0..<inner {
                    let t = (r * m + j) * inner + k, i = indices[t]
                    precondition(i >= 0 && i < n, "gather: index \(i) out of range 0..<\(n)")
                    o[t] = p[(r * n + i) * inner + k]
                }
            }
        }
        let inShape = shape
        propagate(out, [self]) { self.tangent!.gather(axis: ax, indices: indices, indexShape: indexShape) }
        return record(out, "gather", [self]) { g in
            [scatterAdd(Tensor.zeros(inShape), axis: ax, indices: indices, source: g)]
        }
    }

    /// Where `mask` (broadcast to self; nonzero = true) holds, `value`; elsewhere self.
    public func maskedFill(_ mask: Tensor, _ value: Float) -> Tensor {
        precondition(broadcastShape(shape, mask.shape) == shape, "maskedFill: mask \(mask.shape) does not broadcast to \(shape)")
        let out = zipKernel(self, mask) { x, m in m != 0 ? value : x }
        propagate(out, [self]) { zipKernel(self.tangent!, mask) { x, m in m != 0 ? 0 : x } }
        return record(out, "maskedFill", [self]) { g in [zipKernel(g, mask) { x, m in m != 0 ? 0 : x }] }
    }
}

/// torch.scatter_add: a copy of `base` with source[..., j, ...] added at indices[..., j, ...] along `axis`.
/// `source` has the index shape, which equals base's shape except along `axis`.
public func scatterAdd(_ base: Tensor, axis: Int, indices: [Int], source: Tensor) -> Tensor {
    let ax = normalizeAxis(axis, rank: base.rank)
    let ishape = source.shape
    precondition(ishape.count == base.rank && (0..<base.rank).allSatisfy { $0 == ax || ishape[$0] == base.shape[$0] },
                 "scatterAdd: source \(ishape) does not match \(base.shape) off axis \(ax)")
    precondition(indices.count == source.count, "scatterAdd: \(indices.count) indices for \(source.count) values")
    let (outer, n, inner) = splitAround(base.shape, ax)
    let m = ishape[ax]
    let out = base.copy()
    let o = out.data, s = source.data
    for r in 0..<outer {
        for j in 0..<m {
            for k in 0..<inner {
                let t = (r * m + j) * inner + k, i = indices[t]
                precondition(i >= 0 && i < n, "scatterAdd: index \(i) out of range 0..<\(n)")
                o[(r * n + i) * inner + k] += s[t]
            }
        }
    }
    propagate(out, [base, source]) { scatterAdd(base.tangent ?? Tensor.zeros(base.shape), axis: ax, indices: indices, source: source.tangent ?? Tensor.zeros(source.shape)) }
    return record(out, "scatterAdd", [base, source]) { g in
        [g, source.requiresGrad ? g.gather(axis: ax, indices: indices, indexShape: ishape) : nil]
    }
}

/// Elementwise choice: a where cond is nonzero, else b (all three broadcast together).
public func `where`(_ cond: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    let shape = broadcastShape(broadcastShape(cond.shape, a.shape), b.shape)
    let c = cond.broadcasted(to: shape).detach()
    let out = zipKernel(zipKernel(c, a) { m, x in m != 0 ? x : 0 }, zipKernel(c, b) { m, y in m != 0 ? 0 : y }, +)
    propagate(out, [a, b]) { tangentSum(tangentIn(a, shape).map { zipKernel($0, c) { x, m in m != 0 ? x : 0 } }, tangentIn(b, shape).map { zipKernel($0, c) { x, m in m != 0 ? 0 : x } }) }
    return record(out, "where", [a, b]) { g in
        [a.requiresGrad ? sumToShape(zipKernel(g, c) { x, m in m != 0 ? x : 0 }, a.shape) : nil,
         b.requiresGrad ? sumToShape(zipKernel(g, c) { x, m in m != 0 ? 0 : x }, b.shape) : nil]
    }
}
