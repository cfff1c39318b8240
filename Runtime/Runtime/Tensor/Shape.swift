// Shape arithmetic: strides, broadcasting (NumPy rules), and reshape views.

/// Row-major strides of a contiguous tensor of this shape.
public func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

/// The shape two operands broadcast to (NumPy rules: align at the right; 1 stretches).
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    if a == b { return a }
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        precondition(da == db || da == 1 || db == 1, "cannot broadcast shapes \(a) and \(b)")
        out[i] = da == 1 ? db : da
    }
    return out
}

/// Strides for reading `shape` as if broadcast to `target` (0 along stretched axes).
func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    let lead = target.count - shape.count
    var out = [Int](repeating: 0, count: target.count)
    for i in 0..<shape.count where shape[i] != 1 || target[lead + i] == 1 {
        out[lead + i] = shape[i] == 1 ? 0 : own[i]
    }
    return out
}

extension Tensor {
    /// Same elements, new shape (one dimension may be -1). Shares storage; differentiable.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var dims = newShape
        if let hole = dims.firstIndex(of: -1) {
            let known = dims.enumerated().filter { $0.offset != hole }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshape: cannot infer -1 in \(newShape) for \(count) elements")
            dims[hole] = count / known
        }
        precondition(Tensor.elementCount(dims) == count, "reshape: \(shape) (\(count) elements) to \(newShape)")
        if dims == shape { return self }
        let out = Tensor(shape: dims, storage: storage, offset: offset)
        let inShape = shape
        propagate(out, [self]) { self.tangent!.reshaped(dims) }
        return record(out, "reshape", [self]) { g in [g.reshaped(inShape)] }
    }

    public func reshaped(_ dims: Int...) -> Tensor { reshaped(dims) }

    /// Collapses axes [start, end] (inclusive) into one.
    public func flattened(from start: Int = 0, to end: Int = -1) -> Tensor {
        guard rank > 0 else { return reshaped([1]) }
        let s = normalizeAxis(start, rank: rank), e = normalizeAxis(end, rank: rank)
        let mid = shape[s...e].reduce(1, *)
        return reshaped(Array(shape[..<s]) + [mid] + Array(shape[(e + 1)...]))
    }

    /// Inserts an axis of size 1.
    public func unsqueezed(_ axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        precondition(a >= 0 && a <= rank, "unsqueeze: axis \(axis) for rank \(rank)")
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Removes an axis of size 1.
    public func squeezed(_ axis: Int) -> Tensor {
        let a = normalizeAxis(axis, rank: rank)
        precondition(shape[a] == 1, "squeeze: axis \(axis) has size \(shape[a])")
        var s = shape
        s.remove(at: a)
        return reshaped(s)
    }
}

/// Sums `g` over the axes along which `shape` was broadcast, giving a tensor of `shape`.
/// The backward of every broadcasting op goes through here.
func sumToShape(_ g: Tensor, _ shape: [Int]) -> Tensor {
    if g.shape == shape { return g }
    let lead = g.rank - shape.count
    var t = g
    // Leading axes that `shape` does not have.
    if lead > 0 {
        let inner = Tensor.elementCount(Array(g.shape[lead...]))
        t = t.reshaped([g.count / max(inner, 1), inner]).sum(axis: 0).reshaped(Array(g.shape[lead...]))
    }
    for i in 0..<shape.count where shape[i] == 1 && t.shape[i] != 1 {
        t = t.sum(axis: i, keepDims: true)
    }
    return t.reshaped(shape)
}
