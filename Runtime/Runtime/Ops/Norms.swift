// Normalizations: LayerNorm, RMSNorm (per row of the last axis) and BatchNorm (per channel).
//
// Backward of a normalization over m values with x̂ = (x - μ) r, r = 1/√(σ² + ε):
//   dx = r (dx̂ - mean(dx̂) - x̂ mean(dx̂ x̂)),  dx̂ = g w      (RMSNorm drops the mean(dx̂) term)
//   dw = Σ g x̂,  db = Σ g
import Foundation

/// LayerNorm over the last axis. x: [..., D], weight/bias: [D].
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let d = x.shape.last!, rows = x.count / max(d, 1)
    if let weight { precondition(weight.shape == [d], "layerNorm: weight \(weight.shape) for last axis \(d)") }
    if let bias { precondition(bias.shape == [d], "layerNorm: bias \(bias.shape) for last axis \(d)") }
    let out = Tensor(uninitializedShape: x.shape)
    let xhat = Tensor(uninitializedShape: x.shape)
    var rstd = [Float](repeating: 0, count: rows)
    let px = x.data, po = out.data, ph = xhat.data
    let w = weight?.data, b = bias?.data
    if rows > 0 {
        rstd.withUnsafeMutableBufferPointer { rs in layerNormRows(px, po, ph, rs.baseAddress!, w, b, rows: rows, d: d, eps: eps) }
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    propagate(out, inputs) { normTangent(x.tangent, xhat: xhat, rstd: rstd, weight: weight, bias: bias, d: d, centered: true) }
    return record(out, "layerNorm", inputs) { g in
        let (gx, gw, gb) = normBackward(g, xhat: xhat, rstd: rstd, weight: weight, d: d, centered: true)
        var grads: [Tensor?] = [gx]
        if weight != nil { grads.append(gw) }
        if bias != nil { grads.append(gb) }
        return grads
    }
}

/// RMSNorm over the last axis: x / √(mean(x²) + ε) · w. x: [..., D], weight: [D].
public func rmsNorm(_ x: Tensor, weight: Tensor?, eps: Float = 1e-6) -> Tensor {
    let d = x.shape.last!, rows = x.count / max(d, 1)
    if let weight { precondition(weight.shape == [d], "rmsNorm: weight \(weight.shape) for last axis \(d)") }
    let out = Tensor(uninitializedShape: x.shape)
    let xhat = Tensor(uninitializedShape: x.shape)
    var rstd = [Float](repeating: 0, count: rows)
    let px = x.data, po = out.data, ph = xhat.data
    let w = weight?.data
    for r in 0..<rows {
        let row = px + r * d, h = ph + r * d, o = po + r * d
        var ss: Float = 0
        for j in 0..<d { ss += row[j] * row[j] }
        let rs = 1 / (ss / Float(d) + eps).squareRoot()
        rstd[r] = rs
        for j in 0..<d { h[j] = row[j] * rs }
        if let w { for j in 0..<d { o[j] = h[j] * w[j] } } else { o.update(from: h, count: d) }
    }
    let inputs = weight.map { [x, $0] } ?? [x]
    propagate(out, inputs) { normTangent(x.tangent, xhat: xhat, rstd: rstd, weight: weight, bias: nil, d: d, centered: false) }
    return record(out, "rmsNorm", inputs) { g in
        let (gx, gw, _) = normBackward(g, xhat: xhat, rstd: rstd, weight: weight, d: d, centered: false)
        return weight == nil ? [gx] : [gx, gw]
    }
}

/// LayerNorm of `rows` rows of d floats: x̂ into h, the output into o, 1/σ into rstd. Rows are
/// spread over the threads (each row is independent).
private func layerNormRows(_ px: UnsafeMutablePointer<Float>, _ po: UnsafeMutablePointer<Float>, _ ph: UnsafeMutablePointer<Float>,
                           _ rstd: UnsafeMutablePointer<Float>, _ w: UnsafeMutablePointer<Float>?, _ b: UnsafeMutablePointer<Float>?,
                           rows: Int, d: Int, eps: Float) {
    parallelFor(rows, grain: max(1, (1 << 15) / max(d, 1))) { range in
        for r in range {
            let row = px + r * d, h = ph + r * d, o = po + r * d
            var mean: Float = 0
            for j in 0..<d { mean += row[j] }
            mean /= Float(d)
            var v: Float = 0
            for j in 0..<d { let c = row[j] - mean; v += c * c }
            let rs = 1 / (v / Float(d) + eps).squareRoot()
            rstd[r] = rs
            for j in 0..<d { h[j] = (row[j] - mean) * rs }
            switch (w, b) {
            case let (w?, b?): for j in 0..<d { o[j] = h[j] * w[j] + b[j] }
            case let (w?, nil): for j in 0..<d { o[j] = h[j] * w[j] }
            case let (nil, b?): for j in 0..<d { o[j] = h[j] + b[j] }
            case (nil, nil): o.update(from: h, count: d)
            }
        }
    }
}

/// Tangent of a row norm: dx̂ = r (dx − mean(dx) − x̂ mean(x̂ dx)) (RMSNorm drops mean(dx));
/// dy = dx̂ w + x̂ dw + db.
private func normTangent(_ tx: Tensor?, xhat: Tensor, rstd: [Float], weight: Tensor?, bias: Tensor?, d: Int,
                         centered: Bool) -> Tensor {
    var out = Tensor.zeros(xhat.shape)
    if let tx {
        let rows = rstd.count, o = out.data, t = tx.data, h = xhat.data
        for r in 0..<rows {
            let tr = t + r * d, hr = h + r * d, orow = o + r * d
            var mean: Float = 0, dot: Float = 0
            for j in 0..<d { mean += tr[j]; dot += hr[j] * tr[j] }
            mean = centered ? mean / Float(d) : 0
            dot /= Float(d)
            for j in 0..<d { orow[j] = rstd[r] * (tr[j] - mean - hr[j] * dot) }
        }
        if let weight { out = mul(out, weight.detach()) }
    }
    if let tw = weight?.tangent { out = add(out, mul(xhat, tw)) }
    if let tb = bias?.tangent { out = add(out, tb) }
    return out
}

/// Shared backward of the row norms (see the header).
private func normBackward(_ g: Tensor, xhat: Tensor, rstd: [Float], weight: Tensor?, d: Int,
                          centered: Bool) -> (Tensor, Tensor, Tensor) {
    let rows = rstd.count
    let gx = Tensor(uninitializedShape: g.shape)
    let gw = Tensor.zeros([d]), gb = Tensor.zeros([d])
    let pg = g.data, ph = xhat.data, px = gx.data, pw = gw.data, pb = gb.data
    let w = weight?.data
    var dh = [Float](repeating: 0, count: d)
    for r in 0..<rows {
        let gr = pg + r * d, h = ph + r * d, o = px + r * d
        var sumDh: Float = 0, sumDhH: Float = 0
        for j in 0..<d {
            let v = w.map { gr[j] * $0[j] } ?? gr[j]
            dh[j] = v
            sumDh += v
            sumDhH += v * h[j]
            pw[j] += gr[j] * h[j]
            pb[j] += gr[j]
        }
        let mDh = centered ? sumDh / Float(d) : 0, mDhH = sumDhH / Float(d), rs = rstd[r]
        for j in 0..<d { o[j] = rs * (dh[j] - mDh - h[j] * mDhH) }
    }
    return (gx, gw, gb)
}

/// BatchNorm over axis 1 of x: [N, C] or [N, C, L] (1d) or [N, C, H, W] (2d).
/// Training uses the batch statistics and updates the running ones in place (momentum as PyTorch:
/// new = (1 - m) old + m batch; the running variance takes the unbiased batch variance).
/// Evaluation uses the running statistics.
public func batchNorm(_ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) -> Tensor {
    precondition(x.rank >= 2, "batchNorm: input needs [N, C, ...], got \(x.shape)")
    let n = x.shape[0], c = x.shape[1], s = x.count / max(n * c, 1), m = n * s
    let useBatch = training || runningMean == nil || runningVar == nil
    if training && runningMean != nil && runningVar != nil {
        precondition(m > 1, "batchNorm: training needs more than one value per channel, got input \(x.shape)")
    }
    let stats = Tensor(uninitializedShape: [2, c])  // mean, 1/std per channel
    let mean = stats.data, rstd = stats.data + c
    let px = x.data
    // Channels in parallel; each plane summed in Float (at most H·W terms), planes in Double.
    parallelFor(c, grain: Swift.max(1, (1 << 15) / Swift.max(m, 1))) { range in
        for ch in range {
            if useBatch {
                var sum = 0.0
                for i in 0..<n { let p = px + (i * c + ch) * s; var a: Float = 0; for j in 0..<s { a += p[j] }; sum += Double(a) }
                let mu = sum / Double(m), muF = Float(mu)
                var v = 0.0
                for i in 0..<n { let p = px + (i * c + ch) * s; var a: Float = 0; for j in 0..<s { let d = p[j] - muF; a += d * d }; v += Double(a) }
                mean[ch] = muF
                rstd[ch] = Float(1 / (v / Double(m) + Double(eps)).squareRoot())
                if training, let rm = runningMean, let rv = runningVar {
                    rm.data[ch] = (1 - momentum) * rm.data[ch] + momentum * muF
                    rv.data[ch] = (1 - momentum) * rv.data[ch] + momentum * Float(v / Double(m - 1))
                }
            } else {
                mean[ch] = runningMean!.data[ch]
                rstd[ch] = 1 / (runningVar!.data[ch] + eps).squareRoot()
            }
        }
    }
    let out = Tensor(uninitializedShape: x.shape), xhat = Tensor(uninitializedShape: x.shape)
    let po = out.data, ph = xhat.data, w = weight?.data, b = bias?.data
    parallelFor(n * c, grain: Swift.max(1, (1 << 15) / Swift.max(s, 1))) { range in
        for plane in range {
            let ch = plane % c, base = plane * s, mu = mean[ch], rs = rstd[ch]
            let wc = w?[ch] ?? 1, bc = b?[ch] ?? 0
            for j in 0..<s { let h = (px[base + j] - mu) * rs; ph[base + j] = h; po[base + j] = h * wc + bc }
        }
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    noTangentRule("batchNorm", x, weight ?? x, bias ?? x)
    return record(out, "batchNorm", inputs) { g in
        let gx = Tensor(uninitializedShape: x.shape), gw = Tensor.zeros([c]), gb = Tensor.zeros([c])
        let pg = g.data, pgx = gx.data, ph = xhat.data, w = weight?.data, pgw = gw.data, pgb = gb.data
        let rstd = stats.data + c
        parallelFor(c, grain: Swift.max(1, (1 << 15) / Swift.max(m, 1))) { range in
            for ch in range {
                let wc = w?[ch] ?? 1, rs = rstd[ch]
                var sumG: Float = 0, sumGH: Float = 0
                for i in 0..<n { let base = (i * c + ch) * s; for j in 0..<s { sumG += pg[base + j]; sumGH += pg[base + j] * ph[base + j] } }
                pgw[ch] = sumGH; pgb[ch] = sumG
                let mG = sumG / Float(m), mGH = sumGH / Float(m)
                for i in 0..<n {
                    let base = (i * c + ch) * s
                    if useBatch {
                        for j in 0..<s { pgx[base + j] = wc * rs * (pg[base + j] - mG - ph[base + j] * mGH) }
                    } else {
                        for j in 0..<s { pgx[base + j] = wc * rs * pg[base + j] }
                    }
                }
            }
        }
        var grads: [Tensor?] = [gx]
        if weight != nil { grads.append(gw) }
        if bias != nil { grads.append(gb) }
        return grads
    }
}
