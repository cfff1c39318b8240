// Line plots as PNG and SVG: axes with "nice" ticks, grid, title, axis labels, one line per series
// with its own colour, dash pattern and point marker (so lines that coincide stay distinguishable,
// and a run of a few points is visible), reference lines (horizontal: a baseline; vertical: e.g. the
// trained length) dashed grey with their label at the line, and a legend outside the plot area, so it
// never covers data. Colours: the Okabe-Ito palette, safe for colour-blind readers. Programs use it
// for the figures their READMEs show (NLL against position, accuracy against steps).
//
//   var plot = LinePlot(title: "NLL by position", xLabel: "position", yLabel: "NLL",
//                       series: [PlotSeries(name: "lambda", points: pts)])
//   plot.references = [(y: 0.5, label: "chance")]
//   try plot.write(to: "nll.png")      // nll.png and nll.svg
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
    /// Vertical reference lines (e.g. the trained context length) with labels.
    public var markers: [(x: Double, label: String)] = []
    /// Horizontal reference lines (a zero-shot baseline, a target) with labels.
    public var references: [(y: Double, label: String)] = []

    public init(title: String, xLabel: String, yLabel: String, series: [PlotSeries]) {
        (self.title, self.xLabel, self.yLabel, self.series) = (title, xLabel, yLabel, series)
    }

    /// Okabe & Ito's colour-blind-safe palette (grey is kept for reference lines).
    static let palette: [PlotColor] = [(0, 114, 178), (230, 159, 0), (0, 158, 115), (213, 94, 0), (204, 121, 167),
                                       (86, 180, 233), (0, 0, 0), (240, 200, 40)]
    static let dashes: [[Double]] = [[], [10, 5], [3, 4], [12, 4, 3, 4]]
    static let referenceColor: PlotColor = (110, 110, 110)

    /// Series i's colour, dash pattern and marker.
    static func style(_ i: Int) -> (color: PlotColor, dash: [Double], marker: MarkerKind) {
        (palette[i % palette.count], dashes[i % dashes.count], MarkerKind.allCases[i % MarkerKind.allCases.count])
    }

    /// The plot as drawing primitives, in pixels of a width × height canvas.
    func shapes() -> [PlotShape] {
        var out: [PlotShape] = []
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xs = finite.map(\.x), ys = finite.map(\.y) + references.map(\.y)
        var xr = xRange ?? ((xs.min() ?? 0)...(xs.max() ?? 1))
        var yr = yRange ?? ((ys.min() ?? 0)...(ys.max() ?? 1))
        if xr.lowerBound == xr.upperBound { xr = (xr.lowerBound - 1)...(xr.upperBound + 1) }
        if yr.lowerBound == yr.upperBound { yr = (yr.lowerBound - 1)...(yr.upperBound + 1) }
        if yRange == nil {
            let pad = (yr.upperBound - yr.lowerBound) * 0.05
            yr = (yr.lowerBound - pad)...(yr.upperBound + pad)
        }
        if xRange == nil {  // room for the markers of the first and last points
            let pad = (xr.upperBound - xr.lowerBound) * 0.015
            xr = (xr.lowerBound - pad)...(xr.upperBound + pad)
        }
        // The legend sits right of the plot area.
        let labels = legendLabels(tolerance: 1e-3 * (yr.upperBound - yr.lowerBound))
        let legendWidth = series.isEmpty ? 0 : (labels.map(\.count).max() ?? 0) * PlotFont.width + 56
        let (left, right, top, bottom) = (88.0, Double(width - 24 - legendWidth), 44.0, Double(height - 64))
        func px(_ x: Double) -> Double { onCanvas(left + (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * (right - left)) }
        func py(_ y: Double) -> Double { onCanvas(bottom - (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * (bottom - top)) }
        let black: PlotColor = (0, 0, 0), grid: PlotColor = (232, 232, 232)

        for t in niceTicks(xr) {
            let x = px(t).rounded()
            out.append(.line([(x, top), (x, bottom)], grid, width: 1, dash: []))
            out.append(.line([(x, bottom), (x, bottom + 5)], black, width: 1, dash: []))
            out.append(.text(tickLabel(t), x: x, y: bottom + 8, anchor: .middle, vertical: false, color: black))
        }
        for t in niceTicks(yr) {
            let y = py(t).rounded()
            out.append(.line([(left, y), (right, y)], grid, width: 1, dash: []))
            out.append(.line([(left - 5, y), (left, y)], black, width: 1, dash: []))
            out.append(.text(tickLabel(t), x: left - 8, y: y - Double(PlotFont.height) / 2, anchor: .end, vertical: false, color: black))
        }
        out.append(.line([(left, bottom), (right, bottom)], black, width: 1, dash: []))
        out.append(.line([(left, top), (left, bottom)], black, width: 1, dash: []))
        out.append(.text(title, x: (left + right) / 2, y: 12, anchor: .middle, vertical: false, color: black))
        out.append(.text(xLabel, x: (left + right) / 2, y: Double(height - 28), anchor: .middle, vertical: false, color: black))
        out.append(.text(yLabel, x: 14, y: (top + bottom) / 2, anchor: .middle, vertical: true, color: black))

        // Reference lines: dashed grey, labelled at the line.
        out.append(.clip(left, top, right, bottom))
        let ref = LinePlot.referenceColor
        for m in markers where xr.contains(m.x) {
            out.append(.line([(px(m.x), top), (px(m.x), bottom)], ref, width: 1.5, dash: [6, 6]))
            out.append(.text(m.label, x: px(m.x) + 4, y: top + 4, anchor: .start, vertical: false, color: ref))
        }
        for r in references where yr.contains(r.y) {
            out.append(.line([(left, py(r.y)), (right, py(r.y))], ref, width: 1.5, dash: [6, 6]))
            out.append(.text(r.label, x: right - 4, y: py(r.y) - Double(PlotFont.height) - 2, anchor: .end, vertical: false, color: ref))
        }
        // Series: lines (broken at non-finite points), then markers on every point (every k-th for long series).
        for (i, s) in series.enumerated() {
            let st = LinePlot.style(i)
            var run: [(Double, Double)] = []
            for p in s.points {
                guard p.x.isFinite && p.y.isFinite else {
                    if run.count > 1 { out.append(.line(run, st.color, width: 2, dash: st.dash)) }
                    run = []
                    continue
                }
                run.append((px(p.x), py(p.y)))
            }
            if run.count > 1 { out.append(.line(run, st.color, width: 2, dash: st.dash)) }
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }
            let every = max(1, pts.count / 24)
            for (k, p) in pts.enumerated() where k % every == 0 || k == pts.count - 1 {
                out.append(.marker(st.marker, x: px(p.x), y: py(p.y), color: st.color))
            }
        }
        out.append(.unclip)
        if !series.isEmpty {
            let lx = right + 16
            for i in series.indices {
                let st = LinePlot.style(i)
                let y = top + 8 + Double(i * (PlotFont.height + 6)) + Double(PlotFont.height) / 2
                out.append(.line([(lx, y), (lx + 34, y)], st.color, width: 2, dash: st.dash))
                out.append(.marker(st.marker, x: lx + 17, y: y, color: st.color))
                out.append(.text(labels[i], x: lx + 42, y: y - Double(PlotFont.height) / 2, anchor: .start, vertical: false, color: black))
            }
        }
        return out
    }

    /// Legend entries: a series whose points coincide with an earlier one's (within `tolerance` in y)
    /// says so, since one line then hides the other.
    func legendLabels(tolerance: Double) -> [String] {
        series.enumerated().map { j, s in
            let twin = series[..<j].first { t in
                t.points.count == s.points.count && !s.points.isEmpty
                    && zip(t.points, s.points).allSatisfy { $0.x == $1.x && (abs($0.y - $1.y) <= tolerance || ($0.y.isNaN && $1.y.isNaN)) }
            }
            return twin.map { "\(s.name) (= \($0.name))" } ?? s.name
        }
    }

    /// The plot as an RGB image.
    public func render() -> Image {
        var c = Canvas(width: width, height: height)
        for shape in shapes() { c.draw(shape) }
        return Image(width: width, height: height, channels: 3, pixels: c.pixels)
    }

    /// The plot as an SVG document (the same layout; crisp at any size, text selectable).
    public func svg() -> String { svgDocument(shapes(), width: width, height: height) }

    /// Writes `path` (a .png) and the SVG beside it (same name, .svg), each atomically.
    public func write(to path: String) throws {
        try render().writePNG(to: path)
        let svgPath = (path.hasSuffix(".png") ? String(path.dropLast(4)) : path) + ".svg"
        try writeFile(svg(), to: svgPath)
    }
}

/// A pixel coordinate the canvas can work with. A point far outside the axis range (a fixed yRange
/// and a value that explodes, or an extreme value in the data) is pulled in to a band a million pixels
/// around the canvas, and NaN (a range too wide for a Double) goes outside it, so no conversion to Int
/// traps and no dashed line loops over a near-infinite length.
func onCanvas(_ v: Double) -> Double { v.isNaN ? -1e6 : min(max(v, -1e6), 1e6) }

/// About six round tick values (1, 2 or 5 × 10^k apart) inside the range.
func niceTicks(_ r: ClosedRange<Double>) -> [Double] {
    let span = r.upperBound - r.lowerBound
    guard span > 0 && span.isFinite else { return [r.lowerBound] }
    let raw = span / 6, mag = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
    var t = ceil(r.lowerBound / step) * step
    var out: [Double] = []
    // The count bound: a step below the precision of t (values near 1e22 a few ulps apart) never advances it.
    while t <= r.upperBound + step * 1e-9 && out.count < 100 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
    return out
}

func tickLabel(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e7 { return String(Int(v)) }
    return String(format: "%.3g", v)
}
