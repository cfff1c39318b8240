// The drawing primitives a plot is made of, and their SVG form (the raster form is Canvas.draw).
import Foundation

public typealias PlotColor = (UInt8, UInt8, UInt8)

enum MarkerKind: CaseIterable { case circle, square, triangle, diamond, cross, downTriangle }

enum TextAnchor { case start, middle, end }

enum PlotShape {
    /// A polyline; `dash` is an on/off pattern in pixels (empty: solid).
    case line([(Double, Double)], PlotColor, width: Double, dash: [Double])
    case marker(MarkerKind, x: Double, y: Double, color: PlotColor)
    /// Text whose top edge is at y; vertical text reads bottom to top, centred on (x, y) when .middle.
    case text(String, x: Double, y: Double, anchor: TextAnchor, vertical: Bool, color: PlotColor)
    /// Clip what follows to a rectangle (left, top, right, bottom), or stop clipping.
    case clip(Double, Double, Double, Double)
    case unclip
    /// A filled rectangle (left, top, right, bottom), no outline.
    case rect(Double, Double, Double, Double, PlotColor)
}

/// Marker outline as a polygon around (x, y), radius r (cross: two strokes, drawn as a polygon pair).
func markerPolygon(_ kind: MarkerKind, x: Double, y: Double, r: Double) -> [(Double, Double)] {
    switch kind {
    case .circle: return (0..<16).map { k in let a = Double(k) * .pi / 8; return (x + r * cos(a), y + r * sin(a)) }
    case .square: let s = r * 0.85; return [(x - s, y - s), (x + s, y - s), (x + s, y + s), (x - s, y + s)]
    case .triangle: return [(x, y - r * 1.1), (x + r, y + r * 0.8), (x - r, y + r * 0.8)]
    case .downTriangle: return [(x, y + r * 1.1), (x + r, y - r * 0.8), (x - r, y - r * 0.8)]
    case .diamond: return [(x, y - r * 1.2), (x + r, y), (x, y + r * 1.2), (x - r, y)]
    case .cross:
        let a = r * 0.35
        return [(x - a, y - r), (x + a, y - r), (x + a, y - a), (x + r, y - a), (x + r, y + a), (x + a, y + a), (x + a, y + r),
                (x - a, y + r), (x - a, y + a), (x - r, y + a), (x - r, y - a), (x - a, y - a)]
    }
}

let markerRadius = 4.5

private func svgColor(_ c: PlotColor) -> String { "rgb(\(c.0),\(c.1),\(c.2))" }

private func escapeXML(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}

private func f(_ v: Double) -> String { String(format: "%.1f", v) }

func svgDocument(_ shapes: [PlotShape], width: Int, height: Int) -> String {
    var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" "
        + "font-family=\"DejaVu Sans Mono, monospace\" font-size=\"13\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    var clips = 0, open = false
    for shape in shapes {
        switch shape {
        case let .line(points, color, width, dash):
            let d = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
            let dashAttr = dash.isEmpty ? "" : " stroke-dasharray=\"\(dash.map { f($0) }.joined(separator: ","))\""
            out += "<polyline points=\"\(d)\" fill=\"none\" stroke=\"\(svgColor(color))\" stroke-width=\"\(f(width))\" stroke-linejoin=\"round\"\(dashAttr)/>\n"
        case let .marker(kind, x, y, color):
            let pts = markerPolygon(kind, x: x, y: y, r: markerRadius).map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
            out += "<polygon points=\"\(pts)\" fill=\"\(svgColor(color))\" stroke=\"white\" stroke-width=\"0.8\"/>\n"
        case let .text(s, x, y, anchor, vertical, color):
            let a = anchor == .start ? "start" : anchor == .middle ? "middle" : "end"
            let base = y + Double(PlotFont.height) * 0.75
            let transform = vertical ? " transform=\"rotate(-90 \(f(x + Double(PlotFont.height) / 2)) \(f(y)))\"" : ""
            let ty = vertical ? y + 4 : base
            out += "<text x=\"\(f(vertical ? x + Double(PlotFont.height) / 2 : x))\" y=\"\(f(ty))\" text-anchor=\"\(a)\" fill=\"\(svgColor(color))\"\(transform)>\(escapeXML(s))</text>\n"
        case let .clip(l, t, r, b):
            if open { out += "</g>\n" }
            clips += 1
            out += "<clipPath id=\"c\(clips)\"><rect x=\"\(f(l))\" y=\"\(f(t))\" width=\"\(f(r - l))\" height=\"\(f(b - t))\"/></clipPath>\n<g clip-path=\"url(#c\(clips))\">\n"
            open = true
        case .unclip:
            if open { out += "</g>\n"; open = false }
        case let .rect(l, t, r, b, color):
            out += "<rect x=\"\(f(l))\" y=\"\(f(t))\" width=\"\(f(r - l))\" height=\"\(f(b - t))\" fill=\"\(svgColor(color))\"/>\n"
        }
    }
    if open { out += "</g>\n" }
    return out + "</svg>\n"
}
