// JSONLReader: line splitting across chunk boundaries, "\r\n", blank lines, a last line without a
// newline, per-file line numbers, stdin as "-", sizes for the ETA, and inputs that cannot be opened.
import XCTest
@testable import Runtime

final class JSONLReaderTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("jsonl-reader-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func readAll(_ reader: JSONLReader) throws -> [(String, String, Int)] {
        var out: [(String, String, Int)] = []
        while let line = try reader.next() {
            out.append((String(decoding: line.bytes, as: UTF8.self), line.source, line.number))
        }
        return out
    }

    func testSplitsLinesAcrossChunksAndFiles() throws {
        let a = try file("a.jsonl", "{\"i\":1}\r\n\n   \t\n{\"i\":2}\n{\"long\":\"\(String(repeating: "x", count: 100))\"}")
        let b = try file("b.jsonl", "\n{\"i\":3}\n")
        let empty = try file("empty.jsonl", "")
        for chunk in [16, 7, 1 << 20] {  // tiny chunks force lines across reads and buffer growth
            let reader = JSONLReader(inputs: [a, empty, b], chunkSize: chunk)
            try reader.prepare()
            let lines = try readAll(reader)
            XCTAssertEqual(lines.map(\.0), ["{\"i\":1}", "{\"i\":2}", "{\"long\":\"\(String(repeating: "x", count: 100))\"}",
                                            "{\"i\":3}"])
            XCTAssertEqual(lines.map(\.1), [a, a, a, b])
            XCTAssertEqual(lines.map(\.2), [1, 4, 5, 2])
            let total = 9 + 1 + 5 + 8 + 111 + 1 + 8
            XCTAssertEqual(reader.totalBytes, total)
            XCTAssertEqual(reader.bytesConsumed, total)
        }
    }

    func testByteOrderMarkOpeningAFileIsDropped() throws {
        let a = try file("bom.jsonl", "\u{FEFF}{\"i\":1}\n\u{FEFF}{\"i\":2}\n")
        let lines = try readAll(JSONLReader(inputs: [a, a]))
        XCTAssertEqual(lines.map(\.0), ["{\"i\":1}", "\u{FEFF}{\"i\":2}", "{\"i\":1}", "\u{FEFF}{\"i\":2}"])
    }

    func testStdinAsDash() throws {
        let path = try file("in.jsonl", "{\"s\":1}\n{\"s\":2}\n")
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let reader = JSONLReader(inputs: ["-"], stdin: fd)
        try reader.prepare()
        XCTAssertEqual(reader.totalBytes, 16)  // a redirected regular file still has a size
        let lines = try readAll(reader)
        XCTAssertEqual(lines.map(\.1), ["<stdin>", "<stdin>"])
        XCTAssertEqual(lines.map(\.2), [1, 2])
    }

    func testPipeHasNoTotalSize() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        _ = "{\"p\":1}\n{\"p\":2}".withCString { write(fds[1], $0, 15) }
        close(fds[1])
        defer { close(fds[0]) }
        let reader = JSONLReader(inputs: [], stdin: fds[0])
        try reader.prepare()
        XCTAssertNil(reader.totalBytes)
        XCTAssertEqual(try readAll(reader).map(\.0), ["{\"p\":1}", "{\"p\":2}"])
    }

    /// Inputs that cannot be opened are set aside (reported by the runner) and the others are read.
    func testInputsThatCannotBeOpened() throws {
        let good = try file("good.jsonl", "{}\n")
        let missing = dir.appendingPathComponent("missing.jsonl").path
        let reader = JSONLReader(inputs: [missing, good, dir.path])
        try reader.prepare()
        XCTAssertEqual(reader.unreadable.map(String.init(describing:)),
                       ["cannot read \(missing): No such file or directory", "cannot read \(dir.path): is a directory"])
        XCTAssertEqual(try readAll(reader).map(\.0), ["{}"])
    }
}
