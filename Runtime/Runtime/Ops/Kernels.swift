// Elementwise kernels: one map over a tensor, one broadcasting zip over two.
//
// Both are @inline(__always) so each op's closure is specialized into a plain loop the compiler can
// vectorize. The broadcasting zip coalesces axes, then runs the innermost axis as a tight loop with
// the operand strides (1 or 0) known, so bias adds and row scalings run at memory speed.

/// out[i] = f(a[i])
@inline(__always)
func mapKernel(_ a: Tensor, _ f: (Float) -> Float) -> Tensor {
    let out = Tensor(uninitializedShape: a.shape)
    let pa = a.data, po = out.data
    parallelFor(a.count, grain: 1 << 16) { r in for i in r { po[i] = f(pa[i]) } }
    return out
}

/// out = f(a, b) with NumPy broadcasting.
@inline(__always)
func zipKernel(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    let shape = broadcastShape(a.shape, b.shape)
    let out = Tensor(uninitializedShape: shape)
    let n = out.count
    let pa = a.data, pb = b.data, po = out.data
    if a.count == n && b.count == n {
        // Large same-shape operands (residual adds) are memory-bound: split them over the threads.
        parallelFor(n, grain: 1 << 16) { r in for i in r { po[i] = f(pa[i], pb[i]) } }
        return out
    }
    if a.count == n && b.count == 1 {
        let s = pb[0]
        for i in 0..<n { po[i] = f(pa[i], s) }
        return out
    }
    if a.count == 1 && b.count == n {
        let s = pa[0]
        for i in 0..<n { po[i] = f(s, pb[i]) }
        return out
    }
    let plan = BroadcastPlan(shape: shape, a: a.shape, b: b.shape)
    let inner = plan.inner, ia = plan.innerStrideA, ib = plan.innerStrideB
    plan.forEachRow { o, oa, ob in
        let ra = pa + oa, rb = pb + ob, ro = po + o
        if ia == 1 && ib == 1 {
            for j in 0..<inner { ro[j] = f(ra[j], rb[j]) }
        } else if ia == 1 && ib == 0 {
            let s = rb[0]
            for j in 0..<inner { ro[j] = f(ra[j], s) }
        } else if ia == 0 && ib == 1 {
            let s = ra[0]
            for j in 0..<inner { ro[j] = f(s, rb[j]) }
        } else {
            for j in 0..<inner { ro[j] = f(ra[j * ia], rb[j * ib]) }
        }
    }
    return out
}

/// Iteration plan for a broadcast zip: coalesced axes, outer rows, one inner axis.
struct BroadcastPlan {
    var dims: [Int] = []       // coalesced output dims
    var stridesA: [Int] = []
    var stridesB: [Int] = []

    init(shape: [Int], a: [Int], b: [Int]) {
        let sa = broadcastStrides(a, to: shape), sb = broadcastStrides(b, to: shape)
        for i in 0..<shape.count where shape[i] != 1 {
            if let last = dims.indices.last,
               stridesA[last] == sa[i] * shape[i], stridesB[last] == sb[i] * shape[i] {
                dims[last] *= shape[i]
                stridesA[last] = sa[i]
                stridesB[last] = sb[i]
            } else {
                dims.append(shape[i]); stridesA.append(sa[i]); stridesB.append(sb[i])
            }
        }
        if dims.isEmpty { dims = [1]; stridesA = [0]; stridesB = [0] }
    }

    var inner: Int { dims.last! }
    var innerStrideA: Int { stridesA.last! }
    var innerStrideB: Int { stridesB.last! }

    /// Calls body(outputOffset, offsetA, offsetB) for the start of every inner row.
    @inline(__always)
    func forEachRow(_ body: (Int, Int, Int) -> Void) {
        let outer = dims.count - 1
        let rows = dims.dropLast().reduce(1, *)
        var index = [Int](repeating: 0, count: max(outer, 1))
        var oa = 0, ob = 0
        for r in 0..<rows {
            body(r * inner, oa, ob)
            // Odometer increment over the outer axes.
            var k = outer - 1
            while k >= 0 {
                index[k] += 1
                oa += stridesA[k]; ob += stridesB[k]
                if index[k] < dims[k] { break }
                oa -= stridesA[k] * dims[k]; ob -= stridesB[k] * dims[k]
                index[k] = 0
                k -= 1
            }
        }
    }
}
