// Moving data around: broadcast, permute/transpose, slice, concat/stack, split.
//
// All copy except a slice of the leading axis (a view). Each backward moves the gradient back.

extension Tensor {
    /// A copy broadcast to `target` (NumPy rules). Backward sums over the stretched axes.
    public func broadcasted(to target: [Int]) -> Tensor {
        if target == shape { return self }
        precondition(broadcastShape(shape, target) == target, "cannot broadcast \(shape) to \(target)")
        let out = Tensor(uninitializedShape: target)
        let plan = BroadcastPlan(shape: target, a: shape, b: target)
        let inner = plan.inner, ia = plan.innerStrideA
        let p = data, o = out.data
        plan.forEachRow { oo, oa, _ in
            if ia == 1 { (o + oo).update(from: p + oa, count: inner) }
            else { let v = p[oa]; for j in 0..<inner { o[oo + j] = v } }
        }
        let s = shape
        propagate(out, [self]) { self.tangent!.broadcasted(to: target) }
        return record(out, "broadcast", [self]) { g in [sumToShape(g, s)] }
    }

    /// Reorders axes: out.shape[i] = shape[order[i]].
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.count == rank && Set(order) == Set(0..<rank), "permute: \(order) is not a permutation of 0..<\(rank)")
        if order == Array(0..<rank) { return self }
        let outShape = order.map { shape[$0] }
        let out = Tensor(uninitializedShape: outShape)
        let inStrides = contiguousStrides(shape)
        let src = order.map { inStrides[$0] }  // source stride for each output axis
        let p = data, o = out.data
        let inner = outShape.last!, innerStride = src.last!
        let outerDims = Array(outShape.dropLast())
        var index = [Int](repeating: 0, count: outerDims.count)
        var base = 0
        let rows = outerDims.reduce(1, *)
        for r in 0..<rows {
            let dst = o + r * inner
            if innerStride == 1 { dst.update(from: p + base, count: inner) }
            else { for j in 0..<inner { dst[j] = p[base + j * innerStride] } }
            var k = outerDims.count - 1
            while k >= 0 {
                index[k] += 1; base += src[k]
                if index[k] < outerDims[k] { break }
                base -= src[k] * outerDims[k]; index[k] = 0; k -= 1
            }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in order.enumerated() { inverse[a] = i }
        propagate(out, [self]) { self.tangent!.permuted(order) }
        return record(out, "permute", [self]) { g in [g.permuted(inverse)] }
    }

    public func permuted(_ order: Int...) -> Tensor { permuted(order) }

    /// Swaps two axes (a copy).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(normalizeAxis(a, rank: rank), normalizeAxis(b, rank: rank))
        return permuted(order)
    }

    /// Elements start..<end (step > 0) along `axis`. Along the leading axis with step 1 it is a view.
    public func slice(axis: Int = 0, _ start: Int, _ end: Int, step: Int = 1) -> Tensor {
        let ax = normalizeAxis(axis, rank: rank)
        let n = shape[ax]
        precondition(step > 0, "slice: step must be positive")
        let s = Swift.max(0, Swift.min(start < 0 ? start + n : start, n))
        let e = Swift.max(s, Swift.min(end < 0 ? end + n : end, n))
        let len = (e - s + step - 1) / step
        var outShape = shape
        outShape[ax] = len
        let (outer, _, inner) = splitAround(shape, ax)
        let out: Tensor
        if outer == 1 && step == 1 {
            out = Tensor(shape: outShape, storage: storage, offset: offset + s * inner)
        } else {
            out = Tensor(uninitializedShape: outShape)
            let p = data, o = out.data
            for r in 0..<outer {
                for j in 0..<len {
                    (o + (r * len + j) * inner).update(from: p + (r * n + s + j * step) * inner, count: inner)
                }
            }
        }
        let inShape = shape
        propagate(out, [self]) { self.tangent!.slice(axis: ax, start, end, step: step) }
        return record(out, "slice", [self]) { g in
            let gi = Tensor.zeros(inShape)
            let gp = g.data, dst = gi.data
            for r in 0..<outer {
                for j in 0..<len {
                    (dst + (r * n + s + j * step) * inner).update(from: gp + (r * len + j) * inner, count: inner)
                }
            }
            return [gi]
        }
    }

    /// Row `i` of the leading axis (a view with one axis fewer).
    public subscript(_ i: Int) -> Tensor {
        precondition(rank > 0 && i >= 0 && i < shape[0], "index \(i) out of range for shape \(shape)")
        return slice(axis: 0, i, i + 1).reshaped(Array(shape.dropFirst()))
    }

    /// Pieces of the given sizes along `axis`.
    public func split(_ sizes: [Int], axis: Int = 0) -> [Tensor] {
        let ax = normalizeAxis(axis, rank: rank)
        precondition(sizes.reduce(0, +) == shape[ax], "split: sizes \(sizes) do not add up to \(shape[ax])")
        var start = 0
        return sizes.map { len in
            defer { start += len }
            return slice(axis: ax, start, start + len)
        }
    }

    /// `parts` equal pieces along `axis`.
    public func chunked(_ parts: Int, axis: Int = 0) -> [Tensor] {
        let n = shape[normalizeAxis(axis, rank: rank)]
        precondition(parts > 0 && n % parts == 0, "chunk: \(n) not divisible into \(parts)")
        return split(Array(repeating: n / parts, count: parts), axis: axis)
    }
}

/// Joins tensors along an existing axis (all other dimensions equal).
public func concat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    precondition(!tensors.isEmpty, "concat of no tensors")
    let first = tensors[0]
    let ax = normalizeAxis(axis, rank: first.rank)
    for t in tensors {
        precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == ax || t.shape[$0] == first.shape[$0] },
                     "concat: shapes \(tensors.map(\.shape)) differ off axis \(ax)")
    }
    let sizes = tensors.map { $0.shape[ax] }
    var outShape = first.shape
    outShape[ax] = sizes.reduce(0, +)
    let out = Tensor(uninitializedShape: outShape)
    let (outer, total, inner) = splitAround(outShape, ax)
    var start = 0
    for t in tensors {
        let len = t.shape[ax], p = t.data, o = out.data
        for r in 0..<outer {
            (o + (r * total + start) * inner).update(from: p + r * len * inner, count: len * inner)
        }
        start += len
    }
    propagate(out, tensors) { concat(tensors.map { $0.tangent ?? Tensor.zeros($0.shape) }, axis: ax) }
    return record(out, "concat", tensors) { g in g.split(sizes, axis: ax) }
}

/// Joins tensors along a new axis.
public func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    precondition(!tensors.isEmpty, "stack of no tensors")
    let a = axis < 0 ? axis + tensors[0].rank + 1 : axis
    return concat(tensors.map { $0.unsqueezed(a) }, axis: a)
}
