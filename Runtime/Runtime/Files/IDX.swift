// IDX files (LeCun's MNIST format, also Fashion-MNIST's), plain or gzip-compressed: a big-endian
// header (two zero bytes, a type byte, the number of dimensions, then each dimension as a 32-bit
// count) and the values in row-major order. Only unsigned bytes (type 0x08), which is what the image
// and label files hold. gzip is detected from the content (zlib's gzread reads plain files as they are).
import CZlib
import Foundation

/// An IDX array of unsigned bytes.
public struct IDXArray: Sendable, Equatable {
    public let shape: [Int]
    public let values: [UInt8]

    public init(shape: [Int], values: [UInt8]) {
        self.shape = shape
        self.values = values
    }

    /// Reads `path` (.gz or plain). Errors name the path and what is wrong.
    public init(contentsOf path: String) throws {
        let bytes = try IDXArray.readAll(path)
        try self.init(bytes: bytes, path: path)
    }

    /// Parses an IDX file's bytes (already decompressed).
    public init(bytes: [UInt8], path: String = "IDX") throws {
        func fail(_ problem: String) -> DataError { DataError(description: "\(path): \(problem)") }
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else { throw fail("not an IDX file (it must start with two zero bytes)") }
        guard bytes[2] == 0x08 else { throw fail(String(format: "element type 0x%02x; only unsigned bytes (0x08) are read", bytes[2])) }
        let rank = Int(bytes[3])
        guard rank >= 1, bytes.count >= 4 + 4 * rank else { throw fail("the header of \(rank) dimensions is cut short") }
        var shape: [Int] = []
        var count = 1
        for d in 0..<rank {
            let o = 4 + 4 * d
            let n = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            shape.append(n)
            let (c, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail("dimensions \(shape) are too large") }
            count = c
        }
        let start = 4 + 4 * rank
        guard bytes.count - start == count else {
            throw fail("dimensions \(shape) need \(count) values, the file holds \(bytes.count - start)")
        }
        self.init(shape: shape, values: Array(bytes[start...]))
    }

    /// The whole file, decompressed when it is gzip.
    static func readAll(_ path: String) throws -> [UInt8] {
        guard FileManager.default.isReadableFile(atPath: path) else { throw DataError(description: "\(path): no such readable file") }
        guard let f = gzopen(path, "rb") else { throw DataError(description: "\(path): cannot open") }
        defer { gzclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(f, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw DataError(description: "\(path): corrupt compressed data") }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        // A gzip stream cut short ends reading without an error from gzread but leaves one here.
        var status: Int32 = 0
        _ = gzerror(f, &status)
        if status != Z_OK { throw DataError(description: "\(path): compressed data cut short or corrupt") }
        return out
    }
}
