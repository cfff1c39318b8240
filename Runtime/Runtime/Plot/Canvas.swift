// The raster side of plotting: an RGB canvas with anti-aliased lines (solid or dashed), filled
// markers, rectangles and text in the bundled bitmap font (PlotFont.swift).
import Foundation

/// An RGB raster with anti-aliased text and thick lines.
struct Canvas {
    let width: Int, height: Int
    var pixels: [UInt8]
    var clip: (Int, Int, Int, Int)? = nil

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 255, count: width * height * 3)
    }

    static let glyphs: [UInt8] = {
        var out: [UInt8] = []
        var hi: UInt8? = nil
        for ch in PlotFont.hex.utf8 {
            guard let v = ch >= 97 ? ch &- 87 : (ch >= 48 && ch <= 57 ? ch &- 48 : nil) else { continue }
            if let h = hi { out.append(h << 4 | v); hi = nil } else { hi = v }
        }
        return out
    }()

    mutating func blend(_ x: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8), _ alpha: Double) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        if let (l, t, r, b) = clip, x < l || x > r || y < t || y > b { return }
        let i = (y * width + x) * 3, a = min(alpha, 1)
        pixels[i] = UInt8((Double(pixels[i]) * (1 - a) + Double(color.0) * a).rounded())
        pixels[i + 1] = UInt8((Double(pixels[i + 1]) * (1 - a) + Double(color.1) * a).rounded())
        pixels[i + 2] = UInt8((Double(pixels[i + 2]) * (1 - a) + Double(color.2) * a).rounded())
    }

    /// Draws one plot primitive.
    mutating func draw(_ shape: PlotShape) {
        switch shape {
        case let .line(points, color, width, dash):
            polyline(points, color, width: width, dash: dash)
        case let .marker(kind, x, y, color):
            let poly = markerPolygon(kind, x: x, y: y, r: markerRadius)
            fillPolygon(markerPolygon(kind, x: x, y: y, r: markerRadius + 0.8), (255, 255, 255))
            fillPolygon(poly, color)
        case let .text(s, x, y, anchor, vertical, color):
            let w = Double(s.unicodeScalars.count * PlotFont.width)
            let shift = anchor == .start ? 0 : anchor == .middle ? w / 2 : w
            if vertical { text(s, x: Int(x), y: Int(y + shift), vertical: true, color: color) }
            else { text(s, x: Int((x - shift).rounded()), y: Int(y.rounded()), color: color) }
        case let .clip(l, t, r, b):
            clip = (Int(l), Int(t), Int(r), Int(b))
        case .unclip:
            clip = nil
        case let .rect(l, t, r, b, color):
            for y in max(0, Int(t.rounded()))..<min(height, Int(b.rounded())) {
                for x in max(0, Int(l.rounded()))..<min(width, Int(r.rounded())) { blend(x, y, color, 1) }
            }
        }
    }

    /// A polyline, solid or dashed (the pattern continues across vertices).
    mutating func polyline(_ points: [(Double, Double)], _ color: (UInt8, UInt8, UInt8), width: Double, dash: [Double]) {
        guard points.count > 1 else { return }
        if dash.isEmpty {
            for k in 1..<points.count { line(points[k - 1].0, points[k - 1].1, points[k].0, points[k].1, color, width: width) }
            return
        }
        var phase = 0.0, index = 0, on = true
        for k in 1..<points.count {
            let (x0, y0) = points[k - 1], (x1, y1) = points[k]
            let len = ((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)).squareRoot()
            var t = 0.0
            while t < len {
                let step = min(dash[index] - phase, len - t)
                if on {
                    let a = t / len, b = (t + step) / len
                    line(x0 + a * (x1 - x0), y0 + a * (y1 - y0), x0 + b * (x1 - x0), y0 + b * (y1 - y0), color, width: width)
                }
                t += step
                phase += step
                if phase >= dash[index] - 1e-9 { phase = 0; index = (index + 1) % dash.count; on.toggle() }
            }
        }
    }

    /// Fills a polygon (even-odd rule) with 4×4 supersampling at the edges.
    mutating func fillPolygon(_ poly: [(Double, Double)], _ color: (UInt8, UInt8, UInt8)) {
        guard let minX = poly.map(\.0).min(), let maxX = poly.map(\.0).max(), let minY = poly.map(\.1).min(), let maxY = poly.map(\.1).max()
        else { return }
        func inside(_ x: Double, _ y: Double) -> Bool {
            var c = false
            var j = poly.count - 1
            for i in 0..<poly.count {
                let (xi, yi) = poly[i], (xj, yj) = poly[j]
                if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi { c.toggle() }
                j = i
            }
            return c
        }
        for y in Int(floor(minY))...Int(ceil(maxY)) {
            for x in Int(floor(minX))...Int(ceil(maxX)) {
                var hits = 0
                for sy in 0..<4 { for sx in 0..<4 where inside(Double(x) + (Double(sx) + 0.5) / 4 - 0.5, Double(y) + (Double(sy) + 0.5) / 4 - 0.5) { hits += 1 } }
                if hits > 0 { blend(x, y, color, Double(hits) / 16) }
            }
        }
    }

    /// A line of the given width, anti-aliased by distance to the segment.
    mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ color: (UInt8, UInt8, UInt8), width w: Double) {
        let minX = Int(floor(min(x0, x1) - w)), maxX = Int(ceil(max(x0, x1) + w))
        let minY = Int(floor(min(y0, y1) - w)), maxY = Int(ceil(max(y0, y1) + w))
        let dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy
        let (y0c, y1c, x0c, x1c) = (max(minY, 0), min(maxY, height - 1), max(minX, 0), min(maxX, width - 1))
        guard y0c <= y1c && x0c <= x1c else { return }
        for y in y0c...y1c {
            for x in x0c...x1c {
                let px = Double(x), py = Double(y)
                let t = len2 > 0 ? max(0, min(1, ((px - x0) * dx + (py - y0) * dy) / len2)) : 0
                let ex = px - (x0 + t * dx), ey = py - (y0 + t * dy)
                let d = (ex * ex + ey * ey).squareRoot()
                let a = w / 2 + 0.5 - d
                if a > 0 { blend(x, y, color, min(a, 1)) }
            }
        }
    }

    /// Text with its top-left corner at (x, y); vertical text reads bottom to top from (x, y).
    mutating func text(_ s: String, x: Int, y: Int, vertical: Bool = false, color: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        let (gw, gh) = (PlotFont.width, PlotFont.height)
        for (k, ch) in s.unicodeScalars.enumerated() {
            let code = Int(ch.value)
            let g = (32...126).contains(code) ? code - 32 : Int(("?" as Unicode.Scalar).value) - 32
            for row in 0..<gh {
                for col in 0..<gw {
                    let a = Double(Canvas.glyphs[(g * gh + row) * gw + col]) / 255
                    if vertical { blend(x + row, y - k * gw - col, color, a) }
                    else { blend(x + k * gw + col, y + row, color, a) }
                }
            }
        }
    }
}
