// Heatmaps as PNG and SVG: a matrix of cells coloured from white (the smallest value) to dark blue (the
// largest) on a linear scale, row labels on the left, column labels written vertically below, a title
// and the scale's ends in a caption. LaBo's class × concept weights use it (`labo explain --png`).
//
//   try Heatmap(title: "class × concept", rows: classes, columns: concepts, values: m).write(to: "w.png")
import Foundation

public struct Heatmap: Sendable {
    public var title: String
    public var rows: [String]
    public var columns: [String]
    /// values[r][c]; non-finite cells are drawn grey.
    public var values: [[Double]]
    public var cell = 14
    /// Labels longer than this are cut with "...".
    public var maxLabel = 28

    public init(title: String, rows: [String], columns: [String], values: [[Double]]) {
        precondition(values.count == rows.count && values.allSatisfy { $0.count == columns.count }, "Heatmap: values must be rows × columns")
        (self.title, self.rows, self.columns, self.values) = (title, rows, columns, values)
    }

    func label(_ s: String) -> String { s.count <= maxLabel ? s : String(s.prefix(maxLabel - 3)) + "..." }

    var caption: String {
        let finite = values.joined().filter(\.isFinite)
        return String(format: "white %.4g to dark blue %.4g", finite.min() ?? 0, finite.max() ?? 1)
    }

    var layout: (left: Int, top: Int, width: Int, height: Int) {
        let left = 12 + (rows.map { label($0).count }.max() ?? 0) * PlotFont.width
        let below = 8 + (columns.map { label($0).count }.max() ?? 0) * PlotFont.width
        let top = 2 * PlotFont.height + 12
        let textWidth = max(title.count, caption.count) * PlotFont.width + 24
        return (left, top, max(left + columns.count * cell + 16, textWidth), top + rows.count * cell + below + PlotFont.height + 12)
    }

    func shapes() -> [PlotShape] {
        let (left, top, _, _) = layout
        let finite = values.joined().filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        var out: [PlotShape] = [.text(title, x: 12, y: 6, anchor: .start, vertical: false, color: (0, 0, 0))]
        for (r, row) in values.enumerated() {
            for (c, v) in row.enumerated() {
                let color: PlotColor
                if !v.isFinite { color = (160, 160, 160) } else {
                    let t = hi > lo ? (v - lo) / (hi - lo) : 0
                    color = (UInt8(255 - t * 247), UInt8(255 - t * 207), UInt8(255 - t * 148))
                }
                let x = Double(left + c * cell), y = Double(top + r * cell)
                out.append(.rect(x, y, x + Double(cell - 1), y + Double(cell - 1), color))
            }
            out.append(.text(label(rows[r]), x: Double(left - 6), y: Double(top + r * cell) + Double(cell - PlotFont.height) / 2,
                             anchor: .end, vertical: false, color: (0, 0, 0)))
        }
        let bottom = Double(top + rows.count * cell + 6)
        for (c, name) in columns.enumerated() {
            let s = label(name)
            out.append(.text(s, x: Double(left + c * cell) + Double(cell - PlotFont.height) / 2,
                             y: bottom + Double(s.count * PlotFont.width), anchor: .start, vertical: true, color: (0, 0, 0)))
        }
        out.append(.text(caption, x: 12, y: Double(layout.height - PlotFont.height - 4), anchor: .start, vertical: false, color: (90, 90, 90)))
        return out
    }

    public func render() -> Image {
        let (_, _, w, h) = layout
        var c = Canvas(width: w, height: h)
        for s in shapes() { c.draw(s) }
        return Image(width: w, height: h, channels: 3, pixels: c.pixels)
    }

    public func svg() -> String { svgDocument(shapes(), width: layout.width, height: layout.height) }

    /// Writes `path` (a .png) and the SVG beside it, each atomically.
    public func write(to path: String) throws {
        try render().writePNG(to: path)
        try writeFile(svg(), to: (path.hasSuffix(".png") ? String(path.dropLast(4)) : path) + ".svg")
    }
}
