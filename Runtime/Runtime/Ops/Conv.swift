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

/// cols[(c·kh + i)·kw + j, oy·ow + ox] = x[c, oy·sh - pt + i·dh, ox·sw - pl + j·dw] (0 outside).
func im2col(_ x: UnsafePointer<Float>, channels: Int, h: Int, w: Int, _ g: Conv2DGeometry,
            oh: Int, ow: Int, _ cols: UnsafeMutablePointer<Float>) {
    let (kh, kw) = g.kernel
    var row = 0
    for c in 0..<channels {
        for i in 0..<kh {
            for j in 0..<kw {
                let dst = cols + row * oh * ow
                for oy in 0..<oh {
                    let y = oy * g.stride.h - g.padTop + i * g.dilation.h
                    let d = dst + oy * ow
                    if y < 0 || y >= h { d.initialize(repeating: 0, count: ow); continue }
                    let src = x + (c * h + y) * w
                    for ox in 0..<ow {
                        let xx = ox * g.stride.w - g.padLeft + j * g.dilation.w
                        d[ox] = xx >= 0 && xx < w ? src[xx] : 0
                    }
                }
                row += 1
            }
        }
    }
}

/// The adjoint of im2col: adds cols back into x (which the caller zeroed).
func col2im(_ cols: UnsafePointer<Float>, channels: Int, h: Int, w: Int, _ g: Conv2DGeometry,
            oh: Int, ow: Int, _ x: UnsafeMutablePointer<Float>) {
    let (kh, kw) = g.kernel
    var row = 0
    for c in 0..<channels {
        for i in 0..<kh {
            for j in 0..<kw {
                let src = cols + row * oh * ow
                for oy in 0..<oh {
                    let y = oy * g.stride.h - g.padTop + i * g.dilation.h
                    if y < 0 || y >= h { continue }
                    let dst = x + (c * h + y) * w, s = src + oy * ow
                    for ox in 0..<ow {
                        let xx = ox * g.stride.w - g.padLeft + j * g.dilation.w
                        if xx >= 0 && xx < w { dst[xx] += s[ox] }
                    }
                }
                row += 1
            }
        }
    }
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

public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry geo: Conv2DGeometry, groups: Int) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4, "conv2d: x [N, C, H, W] and weight [O, C/g, kh, kw], got \(x.shape), \(weight.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let o = weight.shape[0], cg = weight.shape[1]
    precondition(groups > 0 && c % groups == 0 && o % groups == 0 && cg == c / groups,
                 "conv2d: \(c) input channels, weight \(weight.shape), groups \(groups) do not fit")
    if let bias { precondition(bias.shape == [o], "conv2d: bias \(bias.shape) for \(o) output channels") }
    let (oh, ow) = geo.outputSize(h, w)
    precondition(oh > 0 && ow > 0, "conv2d: input \(h)×\(w) too small for the kernel (output \(oh)×\(ow))")
    let og = o / groups, krows = cg * geo.kernel.h * geo.kernel.w, spatial = oh * ow
    let out = Tensor(uninitializedShape: [n, o, oh, ow])
    let cols = Tensor(uninitializedShape: [c * geo.kernel.h * geo.kernel.w, spatial])
    for s in 0..<n {
        im2col(x.data + s * c * h * w, channels: c, h: h, w: w, geo, oh: oh, ow: ow, cols.data)
        for gi in 0..<groups {
            sgemm(false, false, og, spatial, krows, weight.data + gi * og * krows, cols.data + gi * krows * spatial,
                  out.data + (s * o + gi * og) * spatial)
        }
        if let bias {
            for oc in 0..<o {
                let dst = out.data + (s * o + oc) * spatial, bv = bias.data[oc]
                for t in 0..<spatial { dst[t] += bv }
            }
        }
    }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    noTangentRule("conv2d", x, weight, bias ?? x)
    return record(out, "conv2d", inputs) { g in
        let gx = x.requiresGrad ? Tensor.zeros(x.shape) : nil
        let gw = Tensor.zeros(weight.shape)
        let cols = Tensor(uninitializedShape: [c * geo.kernel.h * geo.kernel.w, spatial])
        let dcols = Tensor(uninitializedShape: cols.shape)
        for s in 0..<n {
            let gs = g.data + s * o * spatial
            if weight.requiresGrad {
                im2col(x.data + s * c * h * w, channels: c, h: h, w: w, geo, oh: oh, ow: ow, cols.data)
                for gi in 0..<groups {
                    sgemm(false, true, og, krows, spatial, gs + gi * og * spatial, cols.data + gi * krows * spatial,
                          gw.data + gi * og * krows, beta: 1)
                }
            }
            if let gx {
                for gi in 0..<groups {
                    sgemm(true, false, krows, spatial, og, weight.data + gi * og * krows, gs + gi * og * spatial,
                          dcols.data + gi * krows * spatial)
                }
                col2im(dcols.data, channels: c, h: h, w: w, geo, oh: oh, ow: ow, gx.data + s * c * h * w)
            }
        }
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
