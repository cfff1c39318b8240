// Scaled dot-product attention as one op, on the layouts the projections produce, with its backward.
//
//   q: [B, Tq, H, D]     k, v: [B, Tk, Hkv, D] (only keys 0..<keyLength are used)     → [B, Tq, H, D]
//
// Query head h reads key/value head h / (H / Hkv) (grouped-query attention; Hkv = H is plain
// multi-head). Per (batch, head) the scores S = scale · Q Kᵀ come from one GEMM whose leading
// dimensions step over the interleaved heads, so neither the projections nor a KV cache are ever
// permuted or copied. Masking: `causal` lets query i (at absolute position queryOffset + i) see keys
// j ≤ queryOffset + i, and `window` W (Mistral's sliding window) only the last W of those;
// `keyPadding` [B][Tk] hides padded keys. A query row that sees no key outputs 0. An additive `bias`
// [1 or B, H, Tq, Tk] joins the scores (relative positions: MPNet, DeBERTa):
//   S = scale·Q Kᵀ + bias,  P = softmax(S masked),  O = P V
// Backward: dV = Pᵀ dO, dP = dO Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ = scale·dS K, dK = scale·dSᵀ Q,
// dBias = dS (summed over the batch when the bias is shared).

public struct AttentionMask {
    public var causal: Bool
    /// Absolute position of query 0 among the keys (the cache length before this step).
    public var queryOffset: Int
    /// keyPadding[b][j] == false hides key j of sequence b.
    public var keyPadding: [[Bool]]?
    /// With `causal`: query i sees only keys j > queryOffset + i − window (Mistral's sliding window).
    public var window: Int?

    public init(causal: Bool = false, queryOffset: Int = 0, keyPadding: [[Bool]]? = nil, window: Int? = nil) {
        self.causal = causal
        self.queryOffset = queryOffset
        self.keyPadding = keyPadding
        self.window = window
    }
}

public func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, keyLength: Int? = nil,
                      mask: AttentionMask = AttentionMask(), scale: Float? = nil, bias: Tensor? = nil) -> Tensor {
    precondition(q.rank == 4 && k.rank == 4 && v.rank == 4, "attention: q [B, Tq, H, D], k/v [B, Tk, Hkv, D]; got \(q.shape), \(k.shape), \(v.shape)")
    let (b, tq, h, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let (tcap, hkv) = (k.shape[1], k.shape[2])
    precondition(k.shape == v.shape && k.shape[0] == b && k.shape[3] == d, "attention: k \(k.shape) / v \(v.shape) do not fit q \(q.shape)")
    precondition(hkv > 0 && h % hkv == 0, "attention: \(h) query heads not divisible into \(hkv) key/value heads")
    let tk = keyLength ?? tcap
    precondition(tk <= tcap, "attention: keyLength \(tk) beyond \(tcap) cached keys")
    if let pad = mask.keyPadding { precondition(pad.count == b && pad.allSatisfy { $0.count >= tk }, "attention: keyPadding must be [B][Tk]") }
    if let bias {
        precondition(bias.rank == 4 && (bias.shape[0] == 1 || bias.shape[0] == b) && Array(bias.shape[1...]) == [h, tq, tk],
                     "attention: bias must be [1 or \(b), \(h), \(tq), \(tk)], got \(bias.shape)")
    }
    let biasBatch = bias.map { $0.shape[0] } ?? 0
    let group = h / hkv, s = scale ?? 1 / Float(d).squareRoot()
    let qRow = h * d, kRow = hkv * d  // leading dimensions of the interleaved layouts
    let out = Tensor.zeros([b, tq, h, d])
    let recording = willRecord(q, k, v) || (bias.map { willRecord($0) } ?? false)
    let probs = recording ? Tensor(uninitializedShape: [b, h, tq, tk]) : nil
    // (batch, head) pairs are independent: they go to the threads (each pair's GEMMs then run inline).
    let pairs = b * h, work = tq * tk * d
    parallelFor(pairs, grain: max(1, (1 << 17) / max(work, 1))) { range in
        let scores = probs == nil ? Tensor(uninitializedShape: [tq, max(tk, 1)]) : nil
        for pair in range {
            let bi = pair / h, hi = pair % h, kh = hi / group
            let qp = q.data + bi * tq * qRow + hi * d
            let kp = k.data + bi * tcap * kRow + kh * d, vp = v.data + bi * tcap * kRow + kh * d
            let sp = probs.map { $0.data + (pair * tq) * tk } ?? scores!.data
            // Only the sequence's own queries and keys (its padding is never touched), so a row's
            // arithmetic is what it would be with the sequence alone.
            let (rows, cols) = mask.extent(batch: bi, queries: tq, keys: tk)
            if rows > 0 && cols > 0 {
                gemm(false, true, rows, cols, d, qp, qRow, kp, kRow, sp, tk, alpha: s)
                if let bias { addBias(sp, bias, batch: biasBatch == 1 ? 0 : bi, head: hi, rows: rows, cols: cols, stride: tk, tq: tq, tk: tk) }
                maskedSoftmaxRows(sp, rows: rows, cols: cols, stride: tk, mask: mask, batch: bi)
                gemm(false, false, rows, d, cols, sp, tk, vp, kRow, out.data + bi * tq * qRow + hi * d, qRow)
            }
            if probs != nil { zeroOutside(sp, rows: rows, cols: cols, tq: tq, tk: tk) }
        }
        withExtendedLifetime(scores) {}
    }
    let inputs = [q, k, v] + (bias.map { [$0] } ?? [])
    propagate(out, inputs) {
        attentionTangent(q, k, v, tk: tk, mask: mask, scale: s, bias: bias)
    }
    guard let probs else { return out }
    return record(out, "attention", inputs) { g in
        let gq = Tensor.zeros(q.shape), gk = Tensor.zeros(k.shape), gv = Tensor.zeros(v.shape)
        let gb = bias.map { Tensor.zeros($0.shape) }
        let dp = Tensor(uninitializedShape: [tq, max(tk, 1)])
        for bi in 0..<b {
            for hi in 0..<h {
                let kh = hi / group
                let qOff = bi * tq * qRow + hi * d, kOff = bi * tcap * kRow + kh * d
                let p = probs.data + ((bi * h + hi) * tq) * tk, go = g.data + qOff
                // dV += Pᵀ dO ; dP = dO Vᵀ
                gemm(true, false, tk, d, tq, p, tk, go, qRow, gv.data + kOff, kRow, beta: 1)
                gemm(false, true, tq, tk, d, go, qRow, v.data + kOff, kRow, dp.data, tk)
                // dS = P ⊙ (dP − rowsum(dP ⊙ P)), scale folded into the next two GEMMs.
                for i in 0..<tq {
                    let pr = p + i * tk, dr = dp.data + i * tk
                    var dot: Float = 0
                    for j in 0..<tk { dot += pr[j] * dr[j] }
                    for j in 0..<tk { dr[j] = pr[j] * (dr[j] - dot) }
                }
                if let gb {
                    let dst = gb.data + ((biasBatch == 1 ? 0 : bi) * h + hi) * tq * tk
                    for i in 0..<(tq * tk) { dst[i] += dp.data[i] }
                }
                gemm(false, false, tq, d, tk, dp.data, tk, k.data + kOff, kRow, gq.data + qOff, qRow, alpha: s)
                gemm(true, false, tk, d, tq, dp.data, tk, q.data + qOff, qRow, gk.data + kOff, kRow, alpha: s, beta: 1)
            }
        }
        return [gq, gk, gv] + (gb.map { [$0] } ?? [])
    }
}

extension AttentionMask {
    /// The queries and keys of sequence `batch` that take part: with right padding (its visible keys a
    /// prefix of the key axis), the visible keys, and, when the queries are positions of the key
    /// sequence (self-attention, or causal attention over a cache: query i sits at key keys − queries
    /// + i), the queries whose own position is one of them; otherwise all of them. Cross-attention
    /// (queries from another sequence: label vectors reading text tokens) keeps every query row.
    func extent(batch: Int, queries tq: Int, keys tk: Int) -> (rows: Int, cols: Int) {
        guard let pad = keyPadding?[batch] else { return (tq, tk) }
        var cols = 0
        while cols < tk && pad[cols] { cols += 1 }
        for j in cols..<tk where pad[j] { return (tq, tk) }  // holes: not plain right padding
        guard tq == tk || causal else { return (tq, cols) }
        return (max(0, min(tq, cols - (tk - tq))), cols)
    }
}

/// Zeroes a [tq, tk] probability block outside its [rows, cols] corner (what backward reads).
@inline(__always)
func zeroOutside(_ sp: UnsafeMutablePointer<Float>, rows: Int, cols: Int, tq: Int, tk: Int) {
    if cols < tk { for i in 0..<rows { (sp + i * tk + cols).update(repeating: 0, count: tk - cols) } }
    if rows < tq { (sp + rows * tk).update(repeating: 0, count: (tq - rows) * tk) }
}

/// Adds the [rows, cols] corner of the bias block of (batch, head) ([tq, tk]) to a score block whose
/// rows are `stride` apart.
@inline(__always)
func addBias(_ sp: UnsafeMutablePointer<Float>, _ bias: Tensor, batch: Int, head: Int, rows: Int, cols: Int, stride: Int,
             tq: Int, tk: Int) {
    let src = bias.data + (batch * bias.shape[1] + head) * tq * tk
    for i in 0..<rows { for j in 0..<cols { sp[i * stride + j] += src[i * tk + j] } }
}

/// Applies the mask (-inf) and a softmax to each of `rows` rows (`cols` entries, `stride` apart) of a
/// score block.
@inline(__always)
func maskedSoftmaxRows(_ sp: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int? = nil, mask: AttentionMask, batch: Int) {
    let pad = mask.keyPadding?[batch]
    for i in 0..<rows {
        let row = sp + i * (stride ?? cols)
        if mask.causal {
            let last = mask.queryOffset + i  // keys 0...last are visible
            if last + 1 < cols { for j in max(last + 1, 0)..<cols { row[j] = -.infinity } }
            if let w = mask.window {  // and only the last w of them
                let first = last - w + 1
                if first > 0 { for j in 0..<min(first, cols) { row[j] = -.infinity } }
            }
        }
        if let pad { for j in 0..<cols where !pad[j] { row[j] = -.infinity } }
        softmaxRow(row, row, cols)
    }
}

/// Forward mode: dO = dP V + P dV with dP = P ⊙ (dS − rowsum(P ⊙ dS)), dS = scale·(dQ Kᵀ + Q dKᵀ) + dBias;
/// missing tangents are zero. P is recomputed per (batch, head).
func attentionTangent(_ q: Tensor, _ k: Tensor, _ v: Tensor, tk: Int, mask: AttentionMask, scale s: Float, bias: Tensor?) -> Tensor {
    let (b, tq, h, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let (tcap, hkv) = (k.shape[1], k.shape[2])
    let group = h / hkv, qRow = h * d, kRow = hkv * d
    let out = Tensor.zeros(q.shape)
    let p = Tensor(uninitializedShape: [tq, max(tk, 1)]), ds = Tensor(uninitializedShape: [tq, max(tk, 1)])
    let dq = q.tangent, dk = k.tangent, dv = v.tangent, dbias = bias?.tangent
    let biasBatch = bias?.shape[0] ?? 0, fullTq = tq, fullTk = tk
    for bi in 0..<b {
        for hi in 0..<h {
            let kh = hi / group
            let qo = bi * tq * qRow + hi * d, ko = bi * tcap * kRow + kh * d
            // The same queries and keys as the forward pass (padding rows stay zero there and here).
            let (tq, tk) = mask.extent(batch: bi, queries: fullTq, keys: fullTk)
            guard tq > 0 && tk > 0 else { continue }
            gemm(false, true, tq, tk, d, q.data + qo, qRow, k.data + ko, kRow, p.data, tk, alpha: s)
            if let bias { addBias(p.data, bias, batch: biasBatch == 1 ? 0 : bi, head: hi, rows: tq, cols: tk, stride: tk, tq: fullTq, tk: fullTk) }
            maskedSoftmaxRows(p.data, rows: tq, cols: tk, mask: mask, batch: bi)
            let o = out.data + qo
            if dq != nil || dk != nil || dbias != nil {
                var beta: Float = 0
                if let dq { gemm(false, true, tq, tk, d, dq.data + qo, qRow, k.data + ko, kRow, ds.data, tk, alpha: s); beta = 1 }
                if let dk { gemm(false, true, tq, tk, d, q.data + qo, qRow, dk.data + ko, kRow, ds.data, tk, alpha: s, beta: beta); beta = 1 }
                if let dbias {
                    if beta == 0 { ds.data.update(repeating: 0, count: tq * tk) }
                    addBias(ds.data, dbias, batch: biasBatch == 1 ? 0 : bi, head: hi, rows: tq, cols: tk, stride: tk, tq: fullTq, tk: fullTk)
                }
                for i in 0..<tq {
                    let pr = p.data + i * tk, dr = ds.data + i * tk
                    var dot: Float = 0
                    for j in 0..<tk where pr[j] > 0 { dot += pr[j] * dr[j] }
                    for j in 0..<tk { dr[j] = pr[j] > 0 ? pr[j] * (dr[j] - dot) : 0 }
                }
                gemm(false, false, tq, d, tk, ds.data, tk, v.data + ko, kRow, o, qRow, beta: 1)
            }
            if let dv { gemm(false, false, tq, d, tk, p.data, tk, dv.data + ko, kRow, o, qRow, beta: 1) }
        }
    }
    return out
}
