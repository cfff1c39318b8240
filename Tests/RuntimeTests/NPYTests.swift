// .npy: files written by NumPy (data/fixtures/npy, made by scripts/fixtures/npy.py) read back to the
// values NumPy holds, in C order whatever the file's order; hostile headers are errors naming the file.
import Foundation
import XCTest
@testable import Runtime

final class NPYTests: XCTestCase {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../data/fixtures/npy").standardized

    func testEveryFixtureEqualsWhatNumPyWrote() throws {
        // The runtime's JSON reader: exact doubles (Foundation's JSONSerialization rounds some last bits).
        let expected = try JSONValue(parsing: [UInt8](Data(contentsOf: dir.appendingPathComponent("expected.json"))))
        let members = try XCTUnwrap(expected.objectValue?.members)
        XCTAssertEqual(members.count, 14)
        for m in members {
            let (name, e) = (m.key, m.value)
            let a = try NPYArray(contentsOf: dir.appendingPathComponent(name + ".npy").path)
            XCTAssertEqual(a.shape, try e["shape"]?.arrayValue?.map { try $0.numberValue!.int() }, name)
            XCTAssertEqual(a.descr, e["descr"]?.stringValue, name)
            let values = try XCTUnwrap(e["values"]?.arrayValue)
            switch a.values {
            case .numbers(let v):
                XCTAssertEqual(v, try values.map { try XCTUnwrap($0.numberValue).double() }, name)
            case .strings(let v):
                XCTAssertEqual(v, values.map { $0.stringValue ?? "?" }, name)
            }
        }
    }

    func header(_ dict: String, version: UInt8 = 1) -> [UInt8] {
        var h = Array(dict.utf8)
        while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        return [0x93] + Array("NUMPY".utf8) + [version, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h
    }

    func testHostileFilesAreErrors() {
        let good = header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }")
        XCTAssertNoThrow(try NPYArray(bytes: good + [UInt8](repeating: 0, count: 8)))
        let cases: [(String, [UInt8], String)] = [
            ("magic", Array("NUMPY!".utf8) + [1, 0, 0, 0], "not a .npy"),
            ("short data", good + [0, 0, 0], "needs 8 bytes"),
            ("long data", good + [UInt8](repeating: 0, count: 9), "needs 8 bytes"),
            ("header cut", Array(good.prefix(30)), "cut short"),
            ("version", [0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0], "version 9"),
            ("huge shape", header("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"), "too large"),
            ("claimed size", header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"), "needs"),
            ("objects", header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }") + [0, 0, 0, 0, 0, 0, 0, 0], "is not read"),
            ("structured", header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }"), "quoted string"),
            ("unknown key", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}"), "unknown key"),
            ("missing key", header("{'descr': '<f4', 'shape': (1,), }"), "lacks"),
            ("bad order", header("{'descr': '<f4', 'fortran_order': 1, 'shape': (1,), }"), "True nor False"),
            ("negative", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), "other than counts"),
            ("odd float", header("{'descr': '<f3', 'fortran_order': False, 'shape': (1,), }") + [0, 0, 0], "is not read"),
            ("huge header", [0x93] + Array("NUMPY".utf8) + [2, 0, 0xFF, 0xFF, 0xFF, 0x7F], "at most"),
        ]
        for (name, bytes, message) in cases {
            XCTAssertThrowsError(try NPYArray(bytes: bytes, path: "x.npy"), name) { error in
                XCTAssertTrue("\(error)".contains("x.npy") && "\(error)".contains(message), "\(name): \(error)")
            }
        }
    }

    func testFortranOrderMapping() {
        // shape (2, 3): Fortran position f = i + 2j holds element (i, j), whose C position is 3i + j.
        XCTAssertEqual(NPYArray.fortranToC([2, 3]), [0, 3, 1, 4, 2, 5])
    }
}
