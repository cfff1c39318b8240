// Pooling token states into one vector per sequence, as sentence-transformers' Pooling module does,
// and L2 normalization (its Normalize module). All differentiable, so heads can be trained on top.
//
//   mean:          Σ_t m_t h_t / max(Σ_t m_t, 1e-9)
//   max:           max over unmasked t (masked positions set to -1e9 first)
//   cls:           h_0
//   last:          h at the last unmasked position (decoder models)
//   meanSqrtLen:   Σ_t m_t h_t / √(Σ_t m_t)

public enum PoolingMode: String, Sendable, CaseIterable {
    case mean, max, cls, last
    case meanSqrtLen = "mean_sqrt_len"
}

/// hidden: [B, T, C]; mask: [B][T] (false at padding) → [B, C].
public func pool(_ hidden: Tensor, mask: [[Bool]], mode: PoolingMode) -> Tensor {
    precondition(hidden.rank == 3 && mask.count == hidden.shape[0], "pool: hidden [B, T, C] and mask [B][T]")
    let (b, t, h) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
    let m = Tensor(shape: [b, t, 1], scalars: mask.flatMap { row in (0..<t).map { row[$0] ? Float(1) : 0 } })
    switch mode {
    case .mean, .meanSqrtLen:
        let summed = (hidden * m).sum(axis: 1)
        let counts = m.sum(axis: 1)  // [B, 1]
        let denom = mode == .mean ? clamp(counts, min: 1e-9) : sqrt(clamp(counts, min: 1e-9))
        return summed / denom
    case .max:
        let masked = hidden.maskedFill(mapKernel(m) { $0 == 0 ? 1 : 0 }, -1e9)
        return masked.max(axis: 1)
    case .cls:
        return hidden.slice(axis: 1, 0, 1).reshaped([b, h])
    case .last:
        let last = mask.map { row in max(0, (row.lastIndex(of: true) ?? 0)) }
        let idx = last.flatMap { l in [Int](repeating: l, count: h) }
        return hidden.gather(axis: 1, indices: idx, indexShape: [b, 1, h]).reshaped([b, h])
    }
}

/// x / max(‖x‖₂, eps) along the last axis (torch.nn.functional.normalize).
public func l2Normalize(_ x: Tensor, eps: Float = 1e-12) -> Tensor {
    let norm = clamp(sqrt((x * x).sum(axis: -1, keepDims: true)), min: eps)
    return x / norm
}
