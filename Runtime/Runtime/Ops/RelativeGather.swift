// Relative-position gather (DeBERTa's disentangled attention): picks, for every (query, key) pair, the
// score of the pair's relative-position bucket out of a block that holds each row's score against
// every bucket. One index table [Tq, Tk] serves the whole batch and every head.
//
//   a: [B, H, R, N]   index: [Tq·Tk] in 0..<N
//   out[b, h, q, k] = a[b, h, q, index[q, k]]     (byKeys: a[b, h, k, index[q, k]], R = Tk)
// Backward scatters the gradient back into those entries; the tangent gathers the input's tangent.

/// See the file header. `tq`, `tk`: the output's last two sizes.
public func relativeGather(_ a: Tensor, index: [Int], tq: Int, tk: Int, byKeys: Bool = false) -> Tensor {
    precondition(a.rank == 4 && index.count == tq * tk, "relativeGather: a [B, H, R, N] and a [\(tq)·\(tk)] index")
    let (b, h, r, n) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
    precondition(r == (byKeys ? tk : tq), "relativeGather: \(r) rows for \(byKeys ? tk : tq) \(byKeys ? "keys" : "queries")")
    precondition(index.allSatisfy { $0 >= 0 && $0 < n }, "relativeGather: index outside 0..<\(n)")
    let out = Tensor(uninitializedShape: [b, h, tq, tk])
    func gatherInto(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
        parallelFor(b * h, grain: max(1, (1 << 16) / max(tq * tk, 1))) { range in
            for bh in range {
                let s = src + bh * r * n, d = dst + bh * tq * tk
                for q in 0..<tq {
                    for k in 0..<tk { d[q * tk + k] = s[(byKeys ? k : q) * n + index[q * tk + k]] }
                }
            }
        }
    }
    gatherInto(a.data, out.data)
    let shape = a.shape
    propagate(out, [a]) {
        let t = Tensor(uninitializedShape: [b, h, tq, tk])
        gatherInto(a.tangent!.data, t.data)
        return t
    }
    return record(out, "relativeGather", [a]) { g in
        let ga = Tensor.zeros(shape)
        parallelFor(b * h, grain: max(1, (1 << 16) / max(tq * tk, 1))) { range in
            for bh in range {
                let s = g.data + bh * tq * tk, d = ga.data + bh * r * n
                for q in 0..<tq {
                    for k in 0..<tk { d[(byKeys ? k : q) * n + index[q * tk + k]] += s[q * tk + k] }
                }
            }
        }
        return [ga]
    }
}
