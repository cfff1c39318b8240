// Pooling: max and average over 2-D windows (fixed or adaptive), 1-D forms on top, global pooling.
//
// Every pooling here is "for each output cell, a window [y0, y1) × [x0, x1) of the input plane".
// Fixed windows follow PyTorch (floor mode; max pads with -inf; average counts the padding by
// default); adaptive windows are start = ⌊i·L/out⌋, end = ⌈(i+1)·L/out⌉, as PyTorch.

public enum PoolMode: Sendable { case max, average }

/// Window bounds per output index along one axis, and the divisor a padded average uses.
struct PoolAxis {
    var starts: [Int] = [], ends: [Int] = [], padded: [Int] = []  // padded = window size counting padding

    static func fixed(length: Int, kernel: Int, stride: Int, padding: Int) -> PoolAxis {
        let out = (length + 2 * padding - kernel) / stride + 1
        precondition(out > 0, "pool: input length \(length) too small for kernel \(kernel)")
        var a = PoolAxis()
        for i in 0..<out {
            let s = i * stride - padding, e = s + kernel
            a.padded.append(Swift.min(e, length + padding) - s)
            a.starts.append(Swift.max(s, 0)); a.ends.append(Swift.min(e, length))
        }
        return a
    }

    static func adaptive(length: Int, output: Int) -> PoolAxis {
        precondition(output > 0, "adaptive pool: output size must be positive")
        var a = PoolAxis()
        for i in 0..<output {
            let s = (i * length) / output, e = ((i + 1) * length + output - 1) / output
            a.starts.append(s); a.ends.append(e); a.padded.append(e - s)
        }
        return a
    }
}

/// x: [N, C, H, W] → [N, C, OH, OW].
func pool2d(_ x: Tensor, rows: PoolAxis, cols: PoolAxis, mode: PoolMode, countPadding: Bool) -> Tensor {
    precondition(x.rank == 4, "pool2d: input must be [N, C, H, W], got \(x.shape)")
    let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
    let oh = rows.starts.count, ow = cols.starts.count
    let out = Tensor(uninitializedShape: [x.shape[0], x.shape[1], oh, ow])
    // argmax: the flat index within its plane of each output's maximum (-1: an empty window).
    let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: mode == .max ? out.count : 0)
    let box = ArgmaxBuffer(argmax)
    let px = x.data, po = out.data
    let rs = rows.starts, re = rows.ends, cs = cols.starts, ce = cols.ends, rp = rows.padded, cp = cols.padded
    func halves(_ starts: [Int], _ ends: [Int]) -> Bool {
        for i in starts.indices where starts[i] != 2 * i || ends[i] != 2 * i + 2 { return false }
        return true
    }
    let pairs = mode == .max && halves(rs, re) && halves(cs, ce)
    parallelFor(planes, grain: Swift.max(1, (1 << 14) / Swift.max(h * w, 1))) { range in
        rs.withUnsafeBufferPointer { rs in re.withUnsafeBufferPointer { re in cs.withUnsafeBufferPointer { cs in ce.withUnsafeBufferPointer { ce in
        for p in range {
            let plane = px + p * h * w
            if pairs {
                // 2×2 windows with stride 2 inside the plane (the usual max pooling): no bounds, no loops.
                for oy in 0..<oh {
                    let r0 = plane + 2 * oy * w, r1 = r0 + w, o0 = (p * oh + oy) * ow
                    for ox in 0..<ow {
                        let x0 = 2 * ox
                        var best = r0[x0], bi = x0
                        if r0[x0 + 1] > best { best = r0[x0 + 1]; bi = x0 + 1 }
                        if r1[x0] > best { best = r1[x0]; bi = w + x0 }
                        if r1[x0 + 1] > best { best = r1[x0 + 1]; bi = w + x0 + 1 }
                        po[o0 + ox] = best; argmax[o0 + ox] = Int32(2 * oy * w + bi)
                    }
                }
                continue
            }
            for oy in 0..<oh {
                let (y0, y1) = (rs[oy], re[oy])
                for ox in 0..<ow {
                    let o = (p * oh + oy) * ow + ox
                    let (x0, x1) = (cs[ox], ce[ox])
                    if mode == .max {
                        var best = -Float.infinity, bi = -1
                        for y in y0..<y1 { for xx in x0..<x1 where plane[y * w + xx] > best || bi < 0 {
                            best = plane[y * w + xx]; bi = y * w + xx
                        } }
                        po[o] = best; argmax[o] = Int32(bi)
                    } else {
                        var acc: Float = 0
                        for y in y0..<y1 { for xx in x0..<x1 { acc += plane[y * w + xx] } }
                        let div = countPadding ? rp[oy] * cp[ox] : (y1 - y0) * (x1 - x0)
                        po[o] = acc / Float(Swift.max(div, 1))
                    }
                }
            }
        }
        } } } }
    }
    let shape = x.shape
    noTangentRule("pool2d", x)
    return record(out, mode == .max ? "maxPool2d" : "avgPool2d", [x]) { g in
        let gx = Tensor.zeros(shape)
        let pg = g.data, d = gx.data, argmax = box.pointer
        parallelFor(planes, grain: Swift.max(1, (1 << 14) / Swift.max(h * w, 1))) { range in
            for p in range {
                let plane = d + p * h * w
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let o = (p * oh + oy) * ow + ox
                        if mode == .max {
                            if argmax[o] >= 0 { plane[Int(argmax[o])] += pg[o] }
                        } else {
                            let (y0, y1, x0, x1) = (rs[oy], re[oy], cs[ox], ce[ox])
                            let div = countPadding ? rp[oy] * cp[ox] : (y1 - y0) * (x1 - x0)
                            let v = pg[o] / Float(Swift.max(div, 1))
                            for y in y0..<y1 { for xx in x0..<x1 { plane[y * w + xx] += v } }
                        }
                    }
                }
            }
        }
        return [gx]
    }
}

/// The argmax indices a max pooling's backward reads; freed with the last closure holding it.
final class ArgmaxBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init(_ p: UnsafeMutablePointer<Int32>) { pointer = p }
    deinit { pointer.deallocate() }
}

/// Max pooling. x: [N, C, H, W]; stride defaults to the kernel; padding pads with -inf.
public func maxPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) -> Tensor {
    let s = stride ?? kernel
    return pool2d(x, rows: .fixed(length: x.shape[2], kernel: kernel.0, stride: s.0, padding: padding.0),
                  cols: .fixed(length: x.shape[3], kernel: kernel.1, stride: s.1, padding: padding.1),
                  mode: .max, countPadding: false)
}

/// Average pooling. x: [N, C, H, W]; `countIncludePad` as PyTorch (default true).
public func avgPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                      countIncludePad: Bool = true) -> Tensor {
    let s = stride ?? kernel
    return pool2d(x, rows: .fixed(length: x.shape[2], kernel: kernel.0, stride: s.0, padding: padding.0),
                  cols: .fixed(length: x.shape[3], kernel: kernel.1, stride: s.1, padding: padding.1),
                  mode: .average, countPadding: countIncludePad)
}

/// Adaptive pooling to a fixed output size. x: [N, C, H, W] → [N, C, oh, ow].
public func adaptivePool2d(_ x: Tensor, output: (Int, Int), mode: PoolMode) -> Tensor {
    pool2d(x, rows: .adaptive(length: x.shape[2], output: output.0), cols: .adaptive(length: x.shape[3], output: output.1),
           mode: mode, countPadding: false)
}

/// 1-D forms: x: [N, C, L].
public func maxPool1d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
    maxPool2d(x.unsqueezed(2), kernel: (1, kernel), stride: (1, stride ?? kernel), padding: (0, padding)).squeezed(2)
}

public func avgPool1d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0, countIncludePad: Bool = true) -> Tensor {
    avgPool2d(x.unsqueezed(2), kernel: (1, kernel), stride: (1, stride ?? kernel), padding: (0, padding),
              countIncludePad: countIncludePad).squeezed(2)
}

public func adaptivePool1d(_ x: Tensor, output: Int, mode: PoolMode) -> Tensor {
    adaptivePool2d(x.unsqueezed(2), output: (1, output), mode: mode).squeezed(2)
}

/// Global pooling over every axis after the first two: [N, C, ...] → [N, C].
public func globalPool(_ x: Tensor, mode: PoolMode) -> Tensor {
    precondition(x.rank >= 3, "globalPool: input must be [N, C, ...], got \(x.shape)")
    let flat = x.reshaped([x.shape[0], x.shape[1], -1])
    return mode == .average ? flat.mean(axis: 2) : flat.max(axis: 2)
}
