// PNG line plots: tick choice, rendering size and content, series with gaps, lines off the canvas.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Runtime

final class PlotTests: XCTestCase {
    func testNiceTicks() {
        XCTAssertEqual(niceTicks(0...10), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(niceTicks(0...32768), [0, 10000, 20000, 30000])
        XCTAssertEqual(niceTicks(2.31...2.49).count, 3)  // 2.35, 2.40, 2.45
        XCTAssertEqual(tickLabel(4096), "4096")
        XCTAssertEqual(tickLabel(2.5), "2.5")
    }

    func testRenderDrawsSeriesAndText() throws {
        let rising: [(x: Double, y: Double)] = (0..<50).map { i -> (x: Double, y: Double) in (Double(i * 100), 2 + Double(i) * 0.05) }
        let flat: [(x: Double, y: Double)] = (0..<50).map { i -> (x: Double, y: Double) in (Double(i * 100), i == 20 ? Double.nan : 2.0) }
        var plot = LinePlot(title: "NLL against position", xLabel: "position", yLabel: "NLL (nats)",
                            series: [PlotSeries(name: "vanilla", points: rising), PlotSeries(name: "lambda", points: flat)])
        plot.markers = [(2048, "L")]
        let img = plot.render()
        XCTAssertEqual([img.width, img.height, img.channels], [960, 600, 3])
        // Both series colors appear; text is drawn (dark pixels above the plot area).
        let px = img.pixels
        func has(_ c: (UInt8, UInt8, UInt8)) -> Bool {
            for i in stride(from: 0, to: px.count, by: 3) where px[i] == c.0 && px[i + 1] == c.1 && px[i + 2] == c.2 { return true }
            return false
        }
        XCTAssertTrue(has(LinePlot.palette[0]) && has(LinePlot.palette[1]))
        XCTAssertTrue((0..<(40 * 960)).contains { i in px[i * 3] < 100 }, "no title text")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plot-\(getpid()).png").path
        defer { if ProcessInfo.processInfo.environment["KEEP_PLOT"] == nil { try? FileManager.default.removeItem(atPath: path) } }
        try img.writePNG(to: path)
        XCTAssertEqual(try Image(contentsOf: path), img)
        // Degenerate inputs render without crashing.
        _ = LinePlot(title: "", xLabel: "", yLabel: "", series: []).render()
        _ = LinePlot(title: "t", xLabel: "x", yLabel: "y", series: [PlotSeries(name: "one", points: [(5, 5)])]).render()
        let far: [(x: Double, y: Double)] = [(-1e9, 1e9), (1e9, -1e9)]
        var off = LinePlot(title: "t", xLabel: "x", yLabel: "y", series: [PlotSeries(name: "far", points: far)])
        off.yRange = 0...1
        off.xRange = 0...1
        _ = off.render()
    }

    func testLegendOutsideReferencesDashedAndSVG() throws {
        let a: [(x: Double, y: Double)] = (0..<5).map { (Double($0), 0.5 + 0.1 * Double($0)) }
        var plot = LinePlot(title: "acc", xLabel: "steps", yLabel: "accuracy",
                            series: [PlotSeries(name: "zo-sgd", points: a), PlotSeries(name: "same", points: a)])
        plot.references = [(y: 0.6, label: "zero-shot")]
        let shapes = plot.shapes()
        // Every series point lies left of every legend entry.
        var dataRight = -Double.infinity, legendLeft = Double.infinity
        for s in shapes {
            if case let .line(points, color, _, _) = s, color == LinePlot.palette[0] || color == LinePlot.palette[1] {
                if points.count == 5 { dataRight = max(dataRight, points.map(\.0).max()!) }
            }
            if case let .text(t, x, _, _, _, _) = s, t == "zo-sgd" || t == "same" { legendLeft = min(legendLeft, x) }
        }
        XCTAssertLessThan(dataRight, legendLeft)
        XCTAssertEqual(plot.legendLabels(tolerance: 1e-6), ["zo-sgd", "same (= zo-sgd)"])
        // Coinciding series differ in dash pattern and marker; the reference is dashed grey.
        XCTAssertNotEqual(LinePlot.style(0).dash, LinePlot.style(1).dash)
        XCTAssertNotEqual(LinePlot.style(0).marker, LinePlot.style(1).marker)
        XCTAssertTrue(shapes.contains { if case let .line(_, c, _, d) = $0 { return c == LinePlot.referenceColor && !d.isEmpty }; return false })
        XCTAssertFalse(LinePlot.palette.contains { $0 == LinePlot.referenceColor })
        // Five points each: a marker on every point.
        XCTAssertGreaterThanOrEqual(shapes.filter { if case .marker = $0 { return true }; return false }.count, 10)
        // The SVG is well-formed XML with one polyline per series, reference and grid line.
        let svg = plot.svg()
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "SVG is not well-formed: \(String(describing: parser.parserError))")
        XCTAssertTrue(svg.contains(">zero-shot</text>") && svg.contains("stroke-dasharray"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plot-svg-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try plot.write(to: dir + "/p.png")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/p.svg"))
        XCTAssertEqual(try Image(contentsOf: dir + "/p.png"), plot.render())
    }
}
