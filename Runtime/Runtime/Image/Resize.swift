// Image resizing as Pillow does it (Image.resize with BICUBIC, BILINEAR or NEAREST... here bicubic and
// bilinear): separable convolution with the filter stretched by the scale when shrinking (antialiasing),
// weights normalized per output pixel and rounded to 22-bit fixed point, the horizontal pass first into an
// 8-bit intermediate image (only the rows the vertical pass reads), then the vertical pass, each output
// rounded and clamped to 0…255 — libImaging/Resample.c, so the bytes equal Pillow's. Image models'
// preprocessing (CLIPImageProcessor) resizes through Pillow, and so their inputs match here.
import Foundation

public enum ResampleFilter: Sendable {
    case bilinear, bicubic

    var support: Double { self == .bilinear ? 1 : 2 }

    func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bilinear: return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

extension Image {
    static let precisionBits = 22

    /// Per output index: the first input index, the count, and the fixed-point weights (Resample.c's
    /// precompute_coeffs + normalize_coeffs_8bpc).
    static func resampleCoefficients(inSize: Int, outSize: Int, filter: ResampleFilter) -> (bounds: [(Int, Int)], weights: [[Int32]]) {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        var bounds: [(Int, Int)] = [], weights: [[Int32]] = []
        for xx in 0..<outSize {
            let center = (Double(xx) + 0.5) * scale
            let ss = 1 / filterScale
            let xmin = max(Int(center - support + 0.5), 0)
            let xmax = min(Int(center + support + 0.5), inSize) - xmin
            var w = (0..<max(xmax, 0)).map { filter.weight((Double($0 + xmin) - center + 0.5) * ss) }
            let total = w.reduce(0, +)
            if total != 0 { w = w.map { $0 / total } }
            let one = Double(1 << precisionBits)
            weights.append(w.map { Int32($0 < 0 ? -0.5 + $0 * one : 0.5 + $0 * one) })
            bounds.append((xmin, max(xmax, 0)))
        }
        return (bounds, weights)
    }

    @inline(__always) static func clip8(_ v: Int64) -> UInt8 {
        let s = v >> Int64(precisionBits)
        return s < 0 ? 0 : s > 255 ? 255 : UInt8(s)
    }

    /// This image resized to width × height with Pillow's arithmetic.
    public func resized(width outW: Int, height outH: Int, filter: ResampleFilter = .bicubic) -> Image {
        precondition(outW > 0 && outH > 0 && width > 0 && height > 0, "resize: empty image or size")
        let c = channels
        let (hb, hw) = Image.resampleCoefficients(inSize: width, outSize: outW, filter: filter)
        let (vb, vw) = Image.resampleCoefficients(inSize: height, outSize: outH, filter: filter)
        let needH = outW != width, needV = outH != height
        // Horizontal pass over the rows the vertical pass reads.
        let first = needV ? vb[0].0 : 0
        let last = needV ? vb[outH - 1].0 + vb[outH - 1].1 : height
        var temp: [UInt8], tw: Int, th: Int
        if needH {
            (tw, th) = (outW, last - first)
            temp = [UInt8](repeating: 0, count: tw * th * c)
            let half = Int64(1) << Int64(Image.precisionBits - 1)
            pixels.withUnsafeBufferPointer { src in
                temp.withUnsafeMutableBufferPointer { dst in
                    for y in 0..<th {
                        let row = (y + first) * width * c
                        for x in 0..<outW {
                            let (x0, n) = hb[x], k = hw[x]
                            for ch in 0..<c {
                                var s = half
                                for i in 0..<n { s += Int64(src[row + (x0 + i) * c + ch]) * Int64(k[i]) }
                                dst[(y * outW + x) * c + ch] = Image.clip8(s)
                            }
                        }
                    }
                }
            }
        } else {
            (tw, th) = (width, last - first)
            temp = Array(pixels[(first * width * c)..<(last * width * c)])
        }
        guard needV else { return Image(width: tw, height: th, channels: c, pixels: temp) }
        var out = [UInt8](repeating: 0, count: tw * outH * c)
        let half = Int64(1) << Int64(Image.precisionBits - 1)
        temp.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outH {
                    let (y0, n) = vb[y], k = vw[y]
                    for x in 0..<tw {
                        for ch in 0..<c {
                            var s = half
                            for i in 0..<n { s += Int64(src[((y0 - first + i) * tw + x) * c + ch]) * Int64(k[i]) }
                            dst[(y * tw + x) * c + ch] = Image.clip8(s)
                        }
                    }
                }
            }
        }
        return Image(width: tw, height: outH, channels: c, pixels: out)
    }

    /// RGB as Pillow's convert("RGB"): gray replicated, alpha dropped.
    public var rgb: Image {
        switch channels {
        case 3: return self
        case 1: return Image(width: width, height: height, channels: 3, pixels: pixels.flatMap { [$0, $0, $0] })
        default:
            var out = [UInt8](); out.reserveCapacity(width * height * 3)
            for i in 0..<(width * height) { out += pixels[(i * 4)..<(i * 4 + 3)] }
            return Image(width: width, height: height, channels: 3, pixels: out)
        }
    }

    /// RGB as transformers' convert_to_rgb: an alpha channel is composited over white with Pillow's
    /// Image.alpha_composite arithmetic (7 extra bits, rounded division by 255); gray replicated.
    public var rgbOverWhite: Image {
        guard channels == 4 else { return rgb }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let a = UInt32(pixels[i * 4 + 3])
            for c in 0..<3 {
                let v = UInt32(pixels[i * 4 + c])
                if a == 0 { out[i * 3 + c] = 255; continue }
                let coef1 = a * 128, coef2 = 255 * 128 - coef1
                let t = v * coef1 + 255 * coef2 + (0x80 << 7)
                out[i * 3 + c] = UInt8(((((t >> 8) + t) >> 8) >> 7) & 0xFF)
            }
        }
        return Image(width: width, height: height, channels: 3, pixels: out)
    }

    /// The central crop (zero-padded where the image is smaller, as transformers' center_crop).
    public func centerCropped(width cw: Int, height ch: Int) -> Image {
        // Floor division, as transformers' (h − ch) // 2: an odd shortfall pads one more row at the top.
        let top = Int((Double(height - ch) / 2).rounded(.down)), left = Int((Double(width - cw) / 2).rounded(.down))
        var out = [UInt8](repeating: 0, count: cw * ch * channels)
        for y in 0..<ch where (0..<height).contains(y + top) {
            for x in 0..<cw where (0..<width).contains(x + left) {
                for c in 0..<channels { out[(y * cw + x) * channels + c] = self[y + top, x + left, c] }
            }
        }
        return Image(width: cw, height: ch, channels: channels, pixels: out)
    }
}

extension CLIPImagePreprocessing {
    /// CLIPImageProcessor with Pillow: RGB (alpha over white), shortest edge to `shortestEdge` (bicubic; the long edge
    /// int(size · long / short)), centre crop, × rescaleFactor, (x − mean)/std. → [3, cropHeight, cropWidth].
    /// The most pixels a resized image may have (an extreme aspect ratio would otherwise ask for gigabytes).
    public static let maxResizedPixels = 1 << 26

    public func pixels(_ image: Image) throws -> Tensor {
        guard image.width > 0 && image.height > 0 else { throw ImageError(.decode, path: nil, "an empty image") }
        let im = image.rgbOverWhite
        let short = min(im.width, im.height), long = max(im.width, im.height)
        let newLong = max(1, Int(Double(shortestEdge) * Double(long) / Double(short)))
        guard newLong <= Self.maxResizedPixels / shortestEdge else {
            throw ImageError(.decode, path: nil, "a \(im.width)×\(im.height) image would resize to \(newLong) × \(shortestEdge) pixels (more than \(Self.maxResizedPixels))")
        }
        let (w, h) = im.width <= im.height ? (shortestEdge, newLong) : (newLong, shortestEdge)
        let cropped = (w == im.width && h == im.height ? im : im.resized(width: w, height: h)).centerCropped(width: cropWidth, height: cropHeight)
        var out = [Float](repeating: 0, count: 3 * cropHeight * cropWidth)
        let plane = cropHeight * cropWidth
        for i in 0..<plane {
            for c in 0..<3 {
                out[c * plane + i] = (Float(cropped.pixels[i * 3 + c]) * rescaleFactor - mean[c]) / std[c]
            }
        }
        return Tensor(shape: [3, cropHeight, cropWidth], scalars: out)
    }
}
