// Line plots as PNG images: axes with "nice" ticks, grid, title, axis labels, one colored line per
// series and a legend; text in DejaVu Sans Mono (PlotFont.swift). Programs use it for the figures
// their README sections show (NLL against position, accuracy against steps).
//
//   let plot = LinePlot(title: "NLL by position", xLabel: "position", yLabel: "NLL",
//                       series: [PlotSeries(name: "lambda", points: pts)])
//   try plot.render().writePNG(to: "nll.png")
import Foundation

public struct PlotSeries: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    public init(name: String, points: [(x: Double, y: Double)]) {
        self.name = name
        self.points = points
    }
}

public struct LinePlot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [PlotSeries]
    public var width = 960, height = 600
    /// Fixed axis ranges (default: the data's, with a margin on y).
    public var xRange: ClosedRange<Double>? = nil
    public var yRange: ClosedRange<Double>? = nil
    /// Vertical dashed markers (e.g. the trained context length) with labels.
    public var markers: [(x: Double, label: String)] = []

    public init(title: String, xLabel: String, yLabel: String, series: [PlotSeries]) {
        (self.title, self.xLabel, self.yLabel, self.series) = (title, xLabel, yLabel, series)
    }

    static let palette: [(UInt8, UInt8, UInt8)] = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
                                                    (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127)]

    public func render() -> Image {
        var c = Canvas(width: width, height: height)
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xs = finite.map(\.x), ys = finite.map(\.y)
        var xr = xRange ?? ((xs.min() ?? 0)...(xs.max() ?? 1))
        var yr = yRange ?? ((ys.min() ?? 0)...(ys.max() ?? 1))
        if xr.lowerBound == xr.upperBound { xr = (xr.lowerBound - 1)...(xr.upperBound + 1) }
        if yr.lowerBound == yr.upperBound { yr = (yr.lowerBound - 1)...(yr.upperBound + 1) }
        if yRange == nil {
            let pad = (yr.upperBound - yr.lowerBound) * 0.05
            yr = (yr.lowerBound - pad)...(yr.upperBound + pad)
        }
        let (left, right, top, bottom) = (88, width - 24, 44, height - 64)
        func px(_ x: Double) -> Double { Double(left) + (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * Double(right - left) }
        func py(_ y: Double) -> Double { Double(bottom) - (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * Double(bottom - top) }

        // Grid and ticks.
        for t in niceTicks(xr) {
            let x = Int(px(t).rounded())
            c.line(Double(x), Double(top), Double(x), Double(bottom), (232, 232, 232), width: 1)
            c.line(Double(x), Double(bottom), Double(x), Double(bottom + 5), (0, 0, 0), width: 1)
            let label = tickLabel(t)
            c.text(label, x: x - label.count * PlotFont.width / 2, y: bottom + 8)
        }
        for t in niceTicks(yr) {
            let y = Int(py(t).rounded())
            c.line(Double(left), Double(y), Double(right), Double(y), (232, 232, 232), width: 1)
            c.line(Double(left - 5), Double(y), Double(left), Double(y), (0, 0, 0), width: 1)
            let label = tickLabel(t)
            c.text(label, x: left - 8 - label.count * PlotFont.width, y: y - PlotFont.height / 2)
        }
        for m in markers where xr.contains(m.x) {
            let x = px(m.x)
            var y = Double(top)
            while y < Double(bottom) { c.line(x, y, x, min(y + 6, Double(bottom)), (90, 90, 90), width: 1); y += 12 }
            c.text(m.label, x: Int(x) + 4, y: top + 4)
        }
        // Axes, title, labels.
        c.line(Double(left), Double(bottom), Double(right), Double(bottom), (0, 0, 0), width: 1)
        c.line(Double(left), Double(top), Double(left), Double(bottom), (0, 0, 0), width: 1)
        c.text(title, x: (left + right - title.count * PlotFont.width) / 2, y: 12)
        c.text(xLabel, x: (left + right - xLabel.count * PlotFont.width) / 2, y: height - 28)
        c.text(yLabel, x: 14, y: (top + bottom + yLabel.count * PlotFont.width) / 2, vertical: true)

        // Series (clipped to the plot area), then the legend.
        c.clip = (left, top, right, bottom)
        for (i, s) in series.enumerated() {
            let color = LinePlot.palette[i % LinePlot.palette.count]
            // Earlier series drawn wider, so lines that coincide stay visible.
            let lineWidth = max(1.5, 4.5 - 1.0 * Double(i))
            var last: (Double, Double)?
            for p in s.points {
                guard p.x.isFinite && p.y.isFinite else { last = nil; continue }
                let cur = (px(p.x), py(p.y))
                if let l = last { c.line(l.0, l.1, cur.0, cur.1, color, width: lineWidth) } else { c.dot(cur.0, cur.1, color) }
                last = cur
            }
        }
        c.clip = nil
        let legendWidth = (series.map(\.name.count).max() ?? 0) * PlotFont.width + 40
        let lx = right - legendWidth - 8, ly = top + 8
        c.fill(lx, ly, legendWidth, series.count * (PlotFont.height + 4) + 8, (255, 255, 255))
        for (i, s) in series.enumerated() {
            let y = ly + 4 + i * (PlotFont.height + 4) + PlotFont.height / 2
            c.line(Double(lx + 6), Double(y), Double(lx + 28), Double(y), LinePlot.palette[i % LinePlot.palette.count], width: 3)
            c.text(s.name, x: lx + 34, y: y - PlotFont.height / 2)
        }
        return Image(width: width, height: height, channels: 3, pixels: c.pixels)
    }
}

/// About six round tick values (1, 2 or 5 × 10^k apart) inside the range.
func niceTicks(_ r: ClosedRange<Double>) -> [Double] {
    let span = r.upperBound - r.lowerBound
    guard span > 0 && span.isFinite else { return [r.lowerBound] }
    let raw = span / 6, mag = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
    var t = ceil(r.lowerBound / step) * step
    var out: [Double] = []
    while t <= r.upperBound + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
    return out
}

func tickLabel(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e7 { return String(Int(v)) }
    let s = String(format: "%.3g", v)
    return s
}

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

    mutating func fill(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ color: (UInt8, UInt8, UInt8)) {
        for yy in y..<(y + h) { for xx in x..<(x + w) { blend(xx, yy, color, 1) } }
    }

    mutating func dot(_ x: Double, _ y: Double, _ color: (UInt8, UInt8, UInt8)) {
        for dy in -1...1 { for dx in -1...1 { blend(Int(x.rounded()) + dx, Int(y.rounded()) + dy, color, 1) } }
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
    mutating func text(_ s: String, x: Int, y: Int, vertical: Bool = false) {
        let (gw, gh) = (PlotFont.width, PlotFont.height)
        for (k, ch) in s.unicodeScalars.enumerated() {
            let code = Int(ch.value)
            let g = (32...126).contains(code) ? code - 32 : Int(("?" as Unicode.Scalar).value) - 32
            for row in 0..<gh {
                for col in 0..<gw {
                    let a = Double(Canvas.glyphs[(g * gh + row) * gw + col]) / 255
                    if vertical { blend(x + row, y - k * gw - col, (0, 0, 0), a) }
                    else { blend(x + k * gw + col, y + row, (0, 0, 0), a) }
                }
            }
        }
    }
}
