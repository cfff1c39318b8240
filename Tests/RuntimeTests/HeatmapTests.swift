// Heatmap: cells coloured from white (min) to dark blue (max), labels placed, PNG and SVG written.
import Foundation
import XCTest
@testable import Runtime

final class HeatmapTests: XCTestCase {
    func testCellsAndFiles() throws {
        let h = Heatmap(title: "t", rows: ["a", "bb"], columns: ["x", "y", "z"], values: [[0, 1, 2], [3, 4, .nan]])
        let im = h.render()
        let (left, top, w, hgt) = h.layout
        XCTAssertEqual(im.width, w)
        XCTAssertEqual(im.height, hgt)
        func pixel(_ r: Int, _ c: Int) -> [UInt8] {
            let x = left + c * h.cell + h.cell / 2, y = top + r * h.cell + h.cell / 2
            return (0..<3).map { im[y, x, $0] }
        }
        XCTAssertEqual(pixel(0, 0), [255, 255, 255])   // the smallest value
        XCTAssertEqual(pixel(1, 1), [8, 48, 107])      // the largest
        XCTAssertEqual(pixel(1, 2), [160, 160, 160])   // not finite
        let mid = pixel(0, 2)                          // 2 of 0…4
        XCTAssertEqual(Int(mid[0]), 255 - 247 / 2, accuracy: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("heatmap-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try h.write(to: dir + "/h.png")
        XCTAssertEqual(try Image(contentsOf: dir + "/h.png"), im)
        XCTAssertTrue(try String(contentsOfFile: dir + "/h.svg", encoding: .utf8).contains("<rect x="))
    }
}
