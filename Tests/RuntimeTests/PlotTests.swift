// PNG line plots: tick choice, rendering size and content, series with gaps, lines off the canvas.
import Foundation
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
}
