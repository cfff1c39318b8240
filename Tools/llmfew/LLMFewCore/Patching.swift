// Patches as the reference cuts them: the series (zero-padded at the end to the model's length L, the
// TSLib convention for unequal lengths) gets its last step repeated S times (ReplicationPad1d((0, S))),
// then windows of P steps every S steps (unfold) give N = ⌊(L + S − P)/S⌋ + 1 patches, each an
// M-channel sequence of P steps. The reference's own count, int((L − P)/S + 2), is the same for L ≥ P;
// L < P is refused (the reference's count goes wrong there).

public func patchCount(length l: Int, patch p: Int, stride s: Int) throws -> Int {
    guard p >= 1, s >= 1 else { throw LLMFewError("patch length and stride must be at least 1") }
    guard l >= p else { throw LLMFewError("series of \(l) steps are shorter than one patch (\(p) steps): give --patch-len \(l) or less") }
    return (l + s - p) / s + 1
}

/// The patches of a batch, [B·N, M, P] row-major (patch n of series b at row b·N + n), as Floats.
/// Every series has `dimensions` channels and at most `length` steps.
public func patchValues(_ batch: [Series], dimensions m: Int, length l: Int, patch p: Int, stride s: Int) throws -> [Float] {
    let n = try patchCount(length: l, patch: p, stride: s)
    var out = [Float](repeating: 0, count: batch.count * n * m * p)
    var padded = [Float](repeating: 0, count: l + s)
    for (b, series) in batch.enumerated() {
        guard series.dimensions == m else { throw LLMFewError("a series with \(series.dimensions) channels; the model takes \(m)") }
        guard series.length <= l else {
            throw LLMFewError("a series of \(series.length) steps; the model takes at most \(l) (train with --length \(series.length) or more)")
        }
        for c in 0..<m {
            let ch = series.channels[c]
            for t in 0..<l { padded[t] = t < ch.count ? ch[t] : 0 }
            for t in l..<(l + s) { padded[t] = padded[l - 1] }
            for k in 0..<n {
                let base = ((b * n + k) * m + c) * p
                for j in 0..<p { out[base + j] = padded[k * s + j] }
            }
        }
    }
    return out
}
