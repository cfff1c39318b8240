// Convolutions as im2col + GEMM: Conv2d (stride, padding, dilation, groups) and Conv1d on top of it
// (stride, padding, dilation, groups, causal left padding).
//
// Per sample: cols [C·kh·kw, OH·OW] = im2col(x); out [O, OH·OW] = W [O, C·kh·kw] × cols (per group).
// Backward: dW += dOut × colsᵀ; dcols = Wᵀ × dOut, scattered back by col2im. Cols are recomputed in
// backward rather than kept, so training memory stays that of the activations.

/// Geometry of a 2-D convolution or pooling window.
public struct Conv2DGeometry: Sendable, Equatable {
    public var kernel: (h: Int, w: Int)
    public var stride: (h: Int, w: Int) = (1, 1)
    public var padTop = 0, padBottom = 0, padLeft = 0, padRight = 0
    public var dilation: (h: Int, w: Int) = (1, 1)

    public static func == (a: Conv2DGeometry, b: Conv2DGeometry) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.dilation == b.dilation
            && (a.padTop, a.padBottom, a.padLeft, a.padRight) == (b.padTop, b.padBottom, b.padLeft, b.padRight)
    }

    func outputSize(_ h: Int, _ w: Int) -> (Int, Int) {
        let oh = (h + padTop + padBottom - dilation.h * (kernel.h - 1) - 1) / stride.h + 1
        let ow = (w + padLeft + padRight - dilation.w * (kernel.w - 1) - 1) / stride.w + 1
        return (oh, ow)
    }
}

/// The output columns ox whose input column ox·sw + off lies in [0, w): lo..<hi (empty when hi ≤ lo).
@inline(__always)
private func validColumns(off: Int, w: Int, ow: Int, sw: Int) -> (Int, Int) {
    let lo = off >= 0 ? 0 : (-off + sw - 1) / sw
    let hi = w - 1 - off >= 0 ? Swift.min(ow, (w - 1 - off) / sw + 1) : 0
    return (Swift.min(lo, ow), Swift.max(hi, Swift.min(lo, ow)))
}

/// cols[(c·kh + i)·kw + j, oy·ow + ox] = x[c, oy·sh - pt + i·dh, ox·sw - pl + j·dw] (0 outside), rows
/// `ld` floats apart (a chunk of samples side by side: sample b's columns start at b·OH·OW). The valid
/// span of each output row is copied in one piece (a memcpy for stride 1), the rest zeroed.
func im2col(_ x: UnsafePointer<Float>, channels: Int, h: Int, w: Int, _ g: Conv2DGeometry,
            oh: Int, ow: Int, _ cols: UnsafeMutablePointer<Float>, ld: Int) {
    let (kh, kw) = g.kernel, sw = g.stride.w
    var row = 0
    for c in 0..<channels {
        for i in 0..<kh {
            for j in 0..<kw {
                let dst = cols + row * ld, off = j * g.dilation.w - g.padLeft
                let (lo, hi) = validColumns(off: off, w: w, ow: ow, sw: sw)
                for oy in 0..<oh {
                    let y = oy * g.stride.h - g.padTop + i * g.dilation.h
                    let d = dst + oy * ow
                    if y < 0 || y >= h { d.initialize(repeating: 0, count: ow); continue }
                    let src = x + (c * h + y) * w + off
                    if lo > 0 { d.initialize(repeating: 0, count: lo) }
                    if hi < ow { (d + hi).initialize(repeating: 0, count: ow - hi) }
                    if sw == 1 {
                        (d + lo).update(from: src + lo, count: hi - lo)
                    } else {
                        for ox in lo..<hi { d[ox] = src[ox * sw] }
                    }
                }
                row += 1
            }
        }
    }
}

/// The adjoint of im2col: adds cols (rows `ld` apart) back into x (which the caller zeroed).
func col2im(_ cols: UnsafePointer<Float>, channels: Int, h: Int, w: Int, _ g: Conv2DGeometry,
            oh: Int, ow: Int, _ x: UnsafeMutablePointer<Float>, ld: Int) {
    let (kh, kw) = g.kernel, sw = g.stride.w
    var row = 0
    for c in 0..<channels {
        for i in 0..<kh {
            for j in 0..<kw {
                let src = cols + row * ld, off = j * g.dilation.w - g.padLeft
                let (lo, hi) = validColumns(off: off, w: w, ow: ow, sw: sw)
                for oy in 0..<oh {
                    let y = oy * g.stride.h - g.padTop + i * g.dilation.h
                    if y < 0 || y >= h { continue }
                    let dst = x + (c * h + y) * w + off, s = src + oy * ow
                    for ox in lo..<hi { dst[ox * sw] += s[ox] }
                }
                row += 1
            }
        }
    }
}

/// The plain loops im2col's fast spans must equal (tests).
func im2colReference(_ x: UnsafePointer<Float>, channels: Int, h: Int, w: Int, _ g: Conv2DGeometry,
                     oh: Int, ow: Int, _ cols: UnsafeMutablePointer<Float>) {
    var row = 0
    for c in 0..<channels { for i in 0..<g.kernel.h { for j in 0..<g.kernel.w {
        for oy in 0..<oh { for ox in 0..<ow {
            let y = oy * g.stride.h - g.padTop + i * g.dilation.h, xx = ox * g.stride.w - g.padLeft + j * g.dilation.w
            cols[row * oh * ow + oy * ow + ox] = y >= 0 && y < h && xx >= 0 && xx < w ? x[(c * h + y) * w + xx] : 0
        } }
        row += 1
    } } }
}

/// 2-D convolution (cross-correlation, as PyTorch). x: [N, C, H, W], weight: [O, C/groups, kh, kw],
/// bias: [O] → [N, O, OH, OW].
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                   padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
    let geo = Conv2DGeometry(kernel: (weight.shape[2], weight.shape[3]), stride: stride,
                             padTop: padding.0, padBottom: padding.0, padLeft: padding.1, padRight: padding.1,
                             dilation: dilation)
    return conv2d(x, weight: weight, bias: bias, geometry: geo, groups: groups)
}

/// Samples per GEMM: one when nothing is recorded (inference: a sample's output then cannot depend on
/// its batch neighbours), else as many as keep the column buffer near 4 MB, so the products of small
/// feature maps (7×7: 49 columns per sample) are wide enough for the GEMM kernel. A function of the
/// shapes only, so training gives the same bits whatever the thread count.
/// At least four chunks per batch, so up to four threads share a layer whose batch would fit one buffer.
func convChunk(_ n: Int, columnFloats: Int, recording: Bool = Autograd.isRecording) -> Int {
    recording ? Swift.max(1, Swift.min((n + 3) / 4, (1 << 20) / Swift.max(columnFloats, 1))) : 1
}

public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry geo: Conv2DGeometry, groups: Int) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4, "conv2d: x [N, C, H, W] and weight [O, C/g, kh, kw], got \(x.shape), \(weight.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = weight.shape[0], cg = weight.shape[1]
    precondition(groups > 0 && c % groups == 0 && o % groups == 0 && cg == c / groups,
                 "conv2d: \(c) input channels, weight \(weight.shape), groups \(groups) do not fit")
    if let bias { precondition(bias.shape == [o], "conv2d: bias \(bias.shape) for \(o) output channels") }
    let (oh, ow) = geo.outputSize(h, w)
    precondition(oh > 0 && ow > 0, "conv2d: input \(h)×\(w) too small for the kernel (output \(oh)×\(ow))")
    let og = o / groups, krows = cg * geo.kernel.h * geo.kernel.w, spatial = oh * ow, allRows = c * geo.kernel.h * geo.kernel.w
    let chunk = convChunk(n, columnFloats: allRows * spatial), chunks = (n + chunk - 1) / chunk
    let out = Tensor(uninitializedShape: [n, o, oh, ow])
    let px = x.data, pw = weight.data, po = out.data, pb = bias?.data
    // Per chunk of nb samples: cols [C·kh·kw, nb·S] → prod [O, nb·S] = W × cols (per group) → out [nb, O, S].
    parallelFor(chunks, grain: 1) { range in
        let cols = UnsafeMutablePointer<Float>.allocate(capacity: allRows * chunk * spatial)
        let prod = chunk > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: o * chunk * spatial) : nil
        defer { cols.deallocate(); prod?.deallocate() }
        for ci in range {
            let s0 = ci * chunk, nb = Swift.min(chunk, n - s0), ld = nb * spatial
            for b in 0..<nb {
                im2col(px + (s0 + b) * c * h * w, channels: c, h: h, w: w, geo, oh: oh, ow: ow, cols + b * spatial, ld: ld)
            }
            let dst = prod ?? (po + s0 * o * spatial)
            for gi in 0..<groups {
                gemm(false, false, og, ld, krows, pw + gi * og * krows, krows, cols + gi * krows * ld, ld, dst + gi * og * ld, ld)
            }
            for b in 0..<nb {
                for oc in 0..<o {
                    let d = po + ((s0 + b) * o + oc) * spatial
                    if let prod { d.update(from: prod + oc * ld + b * spatial, count: spatial) }
                    if let pb { let bv = pb[oc]; for t in 0..<spatial { d[t] += bv } }
                }
            }
        }
    }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    noTangentRule("conv2d", x, weight, bias ?? x)
    return record(out, "conv2d", inputs) { g in
        let gx = x.requiresGrad ? Tensor.zeros(x.shape) : nil
        let chunk = convChunk(n, columnFloats: allRows * spatial, recording: true), chunks = (n + chunk - 1) / chunk
        // One partial dW per chunk, summed in chunk order: the same bits for any thread count.
        let partial = weight.requiresGrad ? Tensor(uninitializedShape: [chunks, o * krows]) : nil
        let pg = g.data, pgx = gx?.data, pp = partial?.data
        parallelFor(chunks, grain: 1) { range in
            let cols = UnsafeMutablePointer<Float>.allocate(capacity: allRows * chunk * spatial)
            let grad = UnsafeMutablePointer<Float>.allocate(capacity: o * chunk * spatial)
            defer { cols.deallocate(); grad.deallocate() }
            for ci in range {
                let s0 = ci * chunk, nb = Swift.min(chunk, n - s0), ld = nb * spatial
                // dOut of the chunk as [O, nb·S].
                for b in 0..<nb { for oc in 0..<o { (grad + oc * ld + b * spatial).update(from: pg + ((s0 + b) * o + oc) * spatial, count: spatial) } }
                if let pp {
                    for b in 0..<nb {
                        im2col(px + (s0 + b) * c * h * w, channels: c, h: h, w: w, geo, oh: oh, ow: ow, cols + b * spatial, ld: ld)
                    }
                    for gi in 0..<groups {
                        gemm(false, true, og, krows, ld, grad + gi * og * ld, ld, cols + gi * krows * ld, ld, pp + ci * o * krows + gi * og * krows, krows)
                    }
                }
                if let pgx {
                    for gi in 0..<groups {
                        gemm(true, false, krows, ld, og, pw + gi * og * krows, krows, grad + gi * og * ld, ld, cols + gi * krows * ld, ld)
                    }
                    for b in 0..<nb {
                        col2im(cols + b * spatial, channels: c, h: h, w: w, geo, oh: oh, ow: ow, pgx + (s0 + b) * c * h * w, ld: ld)
                    }
                }
            }
        }
        let gw = partial.map { $0.sum(axis: 0).reshaped(weight.shape) } ?? Tensor.zeros(weight.shape)
        var grads: [Tensor?] = [gx, gw]
        if bias != nil { grads.append(g.permuted(1, 0, 2, 3).reshaped(o, -1).sum(axis: 1)) }
        return grads
    }
}

/// 1-D convolution. x: [N, C, L], weight: [O, C/groups, K], bias: [O] → [N, O, L'].
/// `causal` pads dilation·(K-1) on the left only, so output t sees inputs ≤ t (WaveNet/TCN style);
/// otherwise `padding` is added on both sides.
public func conv1d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                   dilation: Int = 1, groups: Int = 1, causal: Bool = false) -> Tensor {
    precondition(x.rank == 3 && weight.rank == 3, "conv1d: x [N, C, L] and weight [O, C/g, K], got \(x.shape), \(weight.shape)")
    let k = weight.shape[2]
    let left = causal ? dilation * (k - 1) : padding, right = causal ? 0 : padding
    let geo = Conv2DGeometry(kernel: (1, k), stride: (1, stride), padTop: 0, padBottom: 0,
                             padLeft: left, padRight: right, dilation: (1, dilation))
    let y = conv2d(x.unsqueezed(2), weight: weight.unsqueezed(2), bias: bias, geometry: geo, groups: groups)
    return y.squeezed(2)
}
