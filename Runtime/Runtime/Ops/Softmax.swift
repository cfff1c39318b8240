// Softmax and log-softmax along an axis, stable (row max subtracted), with their backward passes.
//
// x: [outer, n, inner] around the axis. Backward: softmax dx = y (g - Σ g y);
// log-softmax dx = g - exp(y) Σ g.
import Foundation

public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let ax = normalizeAxis(axis, rank: x.rank)
    let (outer, n, inner) = splitAround(x.shape, ax)
    let out = Tensor(uninitializedShape: x.shape)
    softmaxRows(x.data, out.data, outer: outer, n: n, inner: inner, log: false)
    let y = out.detach()
    propagate(out, [x]) { mul(y, sub(x.tangent!, mul(x.tangent!, y).sum(axis: ax, keepDims: true))) }
    return record(out, "softmax", [x]) { g in
        let gi = Tensor(uninitializedShape: g.shape)
        let gp = g.data, yp = y.data, d = gi.data
        forEachLane(outer: outer, n: n, inner: inner) { base in
            var dot: Float = 0
            for j in 0..<n { dot += gp[base + j * inner] * yp[base + j * inner] }
            for j in 0..<n { let t = base + j * inner; d[t] = yp[t] * (gp[t] - dot) }
        }
        return [gi]
    }
}

public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let ax = normalizeAxis(axis, rank: x.rank)
    let (outer, n, inner) = splitAround(x.shape, ax)
    let out = Tensor(uninitializedShape: x.shape)
    softmaxRows(x.data, out.data, outer: outer, n: n, inner: inner, log: true)
    let y = out.detach()
    propagate(out, [x]) { sub(x.tangent!, mul(x.tangent!, exp(y)).sum(axis: ax, keepDims: true)) }
    return record(out, "logSoftmax", [x]) { g in
        let gi = Tensor(uninitializedShape: g.shape)
        let gp = g.data, yp = y.data, d = gi.data
        forEachLane(outer: outer, n: n, inner: inner) { base in
            var s: Float = 0
            for j in 0..<n { s += gp[base + j * inner] }
            for j in 0..<n { let t = base + j * inner; d[t] = gp[t] - Foundation.exp(yp[t]) * s }
        }
        return [gi]
    }
}

/// Calls body(start) for each of the outer*inner lanes of length n with stride inner.
@inline(__always)
func forEachLane(outer: Int, n: Int, inner: Int, _ body: (Int) -> Void) {
    for r in 0..<outer {
        for k in 0..<inner { body(r * n * inner + k) }
    }
}

/// Softmax (or log-softmax) of every lane; a lane of all -inf gives zeros (log: -inf).
func softmaxRows(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                 outer: Int, n: Int, inner: Int, log: Bool) {
    if inner == 1 {
        for r in 0..<outer { softmaxRow(x + r * n, y + r * n, n, log: log) }
        return
    }
    forEachLane(outer: outer, n: n, inner: inner) { base in
        var m = -Float.infinity
        for j in 0..<n { m = max(m, x[base + j * inner]) }
        if m == -.infinity {
            for j in 0..<n { y[base + j * inner] = log ? -.infinity : 0 }
            return
        }
        var s: Float = 0
        for j in 0..<n { s += Foundation.exp(x[base + j * inner] - m) }
        let ls = Foundation.log(s)
        for j in 0..<n {
            let v = x[base + j * inner] - m
            y[base + j * inner] = log ? v - ls : Foundation.exp(v - ls)
        }
    }
}

/// One contiguous row: y = softmax(x) (or log-softmax). x and y may be the same memory.
@inline(__always)
public func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, log: Bool = false) {
    var m = -Float.infinity
    for j in 0..<n { m = max(m, x[j]) }
    if m == -.infinity {
        for j in 0..<n { y[j] = log ? -.infinity : 0 }
        return
    }
    if log {
        var s: Float = 0
        for j in 0..<n { s += Foundation.exp(x[j] - m) }
        let ls = m + Foundation.log(s)
        for j in 0..<n { y[j] = x[j] - ls }
    } else {
        // e^(x - m) eight lanes at a time (the tail padded with -inf, whose exp is 0).
        let px = UnsafeRawPointer(x), py = UnsafeMutableRawPointer(y)
        let blocks = n / 8
        var acc = Float8(repeating: 0)
        for i in 0..<blocks {
            let e = vexp(px.loadUnaligned(fromByteOffset: 32 * i, as: Float8.self) - m)
            py.storeBytes(of: e, toByteOffset: 32 * i, as: Float8.self)
            acc += e
        }
        if blocks * 8 < n {
            var t = Float8(repeating: -.infinity)
            for j in 0..<(n - blocks * 8) { t[j] = x[blocks * 8 + j] }
            let e = vexp(t - m)
            for j in 0..<(n - blocks * 8) { y[blocks * 8 + j] = e[j] }
            acc += e
        }
        let inv = 1 / acc.sum()
        for j in 0..<n { y[j] *= inv }
    }
}
