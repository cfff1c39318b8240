// NumPy's .npy files (format versions 1, 2 and 3): the magic "\x93NUMPY", a version, the header's
// length (2 bytes in version 1, 4 after), a Python dict literal {'descr': ..., 'fortran_order': ...,
// 'shape': (...)} and the raw values. Read: booleans, signed and unsigned integers of 1-8 bytes,
// floats of 2, 4 and 8 bytes (either byte order), and fixed-width strings ('U' UTF-32, 'S' bytes);
// values come back in C (row-major) order whatever the file's order. Object arrays ('O': pickles) are
// refused, as numpy.load refuses them without allow_pickle. Everything in the header is checked before
// anything is allocated: a hostile header is an error naming the path, never a trap or a huge
// allocation.
import Foundation

public struct NPYArray: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        /// Every numeric dtype, as Double (integers beyond 2^53 lose their low bits).
        case numbers([Double])
        case strings([String])
    }
    public let shape: [Int]
    public let values: Values
    /// The file's dtype as NumPy writes it ('<f8', '<U4', '|u1', ...).
    public let descr: String

    public init(shape: [Int], values: Values, descr: String) {
        (self.shape, self.values, self.descr) = (shape, values, descr)
    }

    public var count: Int { shape.reduce(1, *) }

    /// Reads `path`. Errors name the path and what is wrong.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError(description: "\(path): no such readable file") }
        try self.init(bytes: [UInt8](data), path: path)
    }

    /// The longest header accepted (NumPy writes a few hundred bytes; version 2 allows 4 GB).
    static let maxHeader = 1 << 20

    public init(bytes: [UInt8], path: String = "npy") throws {
        func fail(_ problem: String) -> DataError { DataError(description: "\(path): \(problem)") }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a .npy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        let headerLength: Int, start: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("the header length is cut short") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        default:
            throw fail("format version \(major).\(bytes[7]); versions 1 to 3 are read")
        }
        guard headerLength <= NPYArray.maxHeader else { throw fail("a header of \(headerLength) bytes (at most \(NPYArray.maxHeader) are read)") }
        guard bytes.count >= start + headerLength else { throw fail("the header (\(headerLength) bytes) is cut short") }
        // Version 3 headers are UTF-8; 1 and 2 are Latin-1, whose ASCII subset is all a dict literal of
        // these keys uses.
        guard let header = String(bytes: bytes[start..<(start + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("the header is not text")
        }
        let dict = try NPYHeader(parsing: header, path: path)
        let body = start + headerLength

        var count = 1
        for n in dict.shape {
            let (c, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail("shape \(dict.shape) is too large") }
            count = c
        }
        let type = try NPYType(descr: dict.descr, path: path)
        let (needed, overflow) = count.multipliedReportingOverflow(by: type.size)
        guard !overflow, bytes.count - body == needed else {
            throw fail("shape \(dict.shape) of \(dict.descr) needs \(overflow ? "too many" : String(needed)) bytes of data, the file holds \(bytes.count - body)")
        }
        // C-order index of each value (the file's order is Fortran's when fortran_order is True).
        let order = dict.fortranOrder && dict.shape.count > 1 ? NPYArray.fortranToC(dict.shape) : nil
        let values: Values = bytes.withUnsafeBufferPointer { all in
            let data = UnsafeBufferPointer(rebasing: all[body...])
            switch type.kind {
            case .string(let unit):
                var out = [String](repeating: "", count: count)
                for i in 0..<count { out[order?[i] ?? i] = NPYType.string(data, at: i * type.size, width: type.size, unit: unit, bigEndian: type.bigEndian) }
                return .strings(out)
            default:
                var out = [Double](repeating: 0, count: count)
                for i in 0..<count { out[order?[i] ?? i] = type.number(data, at: i * type.size) }
                return .numbers(out)
            }
        }
        self.init(shape: dict.shape, values: values, descr: dict.descr)
    }

    /// For each position in Fortran order, its position in C order.
    static func fortranToC(_ shape: [Int]) -> [Int] {
        let count = shape.reduce(1, *)
        var cStrides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { cStrides[d] = cStrides[d + 1] * shape[d + 1] }
        var out = [Int](repeating: 0, count: count)
        var index = [Int](repeating: 0, count: shape.count)
        for f in 0..<count {
            var c = 0
            for d in 0..<shape.count { c += index[d] * cStrides[d] }
            out[f] = c
            // Fortran order: the first index varies fastest.
            var d = 0
            while d < shape.count {
                index[d] += 1
                if index[d] < shape[d] { break }
                index[d] = 0
                d += 1
            }
        }
        return out
    }
}

/// The header dict: exactly the keys 'descr', 'fortran_order' and 'shape', as NumPy writes them.
struct NPYHeader {
    var descr = "", fortranOrder = false, shape: [Int] = []

    init(parsing text: String, path: String) throws {
        func fail(_ problem: String) -> DataError { DataError(description: "\(path): header \(problem)") }
        var s = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        func skipSpace() { while let c = s.first, c == " " || c == "\n" || c == "\t" { s.removeFirst() } }
        func expect(_ c: Character) throws {
            skipSpace()
            guard s.first == c else { throw fail("expected '\(c)' at '\(s.prefix(20))'") }
            s.removeFirst()
        }
        func quoted() throws -> String {
            skipSpace()
            guard let q = s.first, q == "'" || q == "\"" else { throw fail("expected a quoted string at '\(s.prefix(20))'") }
            s.removeFirst()
            guard let end = s.firstIndex(of: q) else { throw fail("has an unterminated string") }
            let value = String(s[..<end])
            s = s[s.index(after: end)...]
            return value
        }
        try expect("{")
        var seen = Set<String>()
        while true {
            skipSpace()
            if s.first == "}" { s.removeFirst(); break }
            let key = try quoted()
            try expect(":")
            skipSpace()
            switch key {
            case "descr":
                descr = try quoted()
            case "fortran_order":
                if s.hasPrefix("True") { fortranOrder = true; s = s.dropFirst(4) }
                else if s.hasPrefix("False") { fortranOrder = false; s = s.dropFirst(5) }
                else { throw fail("fortran_order is neither True nor False") }
            case "shape":
                try expect("(")
                shape = []
                while true {
                    skipSpace()
                    if s.first == ")" { s.removeFirst(); break }
                    let digits = s.prefix { $0.isASCII && $0.isNumber }
                    guard !digits.isEmpty, digits.count <= 18, let n = Int(digits) else { throw fail("shape holds something other than counts at '\(s.prefix(20))'") }
                    shape.append(n)
                    s = s.dropFirst(digits.count)
                    skipSpace()
                    if s.first == "," { s.removeFirst() }
                    guard shape.count <= 32 else { throw fail("shape has more than 32 dimensions") }
                }
            default:
                throw fail("has an unknown key '\(key)'")
            }
            seen.insert(key)
            skipSpace()
            if s.first == "," { s.removeFirst() }
        }
        guard seen == ["descr", "fortran_order", "shape"] else { throw fail("lacks \(Set(["descr", "fortran_order", "shape"]).subtracting(seen).sorted())") }
    }
}

/// A dtype string: byte order ('<', '>', '|', '='), kind, size in bytes.
struct NPYType {
    enum Kind { case bool, int, uint, float, string(unit: Int) }
    let kind: Kind, size: Int, bigEndian: Bool

    init(descr: String, path: String) throws {
        func fail() -> DataError {
            DataError(description: "\(path): dtype '\(descr)' is not read (booleans, integers, floats of 2/4/8 bytes, 'U' and 'S' strings)")
        }
        var d = Substring(descr)
        var big = false
        if let c = d.first, "<>|=".contains(c) { big = c == ">"; d.removeFirst() }
        guard let k = d.first, let n = Int(d.dropFirst()), n >= 1, n <= 1 << 20 else { throw fail() }
        switch k {
        case "b": guard n == 1 else { throw fail() }; kind = .bool; size = 1
        case "i": guard [1, 2, 4, 8].contains(n) else { throw fail() }; kind = .int; size = n
        case "u": guard [1, 2, 4, 8].contains(n) else { throw fail() }; kind = .uint; size = n
        case "f": guard [2, 4, 8].contains(n) else { throw fail() }; kind = .float; size = n
        case "U": kind = .string(unit: 4); size = 4 * n
        case "S": kind = .string(unit: 1); size = n
        default: throw fail()
        }
        bigEndian = big
    }

    /// The `size` bytes at `offset` as an unsigned integer (the file's byte order).
    func raw(_ data: UnsafeBufferPointer<UInt8>, at offset: Int, size: Int) -> UInt64 {
        var v: UInt64 = 0
        for b in 0..<size {
            let byte = UInt64(data[offset + (bigEndian ? b : size - 1 - b)])
            v = v << 8 | byte
        }
        return v
    }

    func number(_ data: UnsafeBufferPointer<UInt8>, at offset: Int) -> Double {
        let r = raw(data, at: offset, size: size)
        switch kind {
        case .bool: return r != 0 ? 1 : 0
        case .uint: return Double(r)
        case .int:
            let shift = UInt64(64 - 8 * size)
            return Double(Int64(bitPattern: r << shift) >> Int64(shift))
        case .float:
            switch size {
            case 2: return Double(halfToFloat(UInt16(r)))
            case 4: return Double(Float(bitPattern: UInt32(r)))
            default: return Double(bitPattern: r)
            }
        case .string: return .nan
        }
    }

    /// A fixed-width string: UTF-32 code units ('U') or bytes ('S'), trailing NULs dropped as NumPy does.
    static func string(_ data: UnsafeBufferPointer<UInt8>, at offset: Int, width: Int, unit: Int, bigEndian: Bool) -> String {
        if unit == 1 {
            var end = offset + width
            while end > offset && data[end - 1] == 0 { end -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: data[offset..<end]), as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        var units: [UInt32] = []
        for i in 0..<(width / 4) {
            let o = offset + 4 * i
            let b = (0..<4).map { UInt32(data[o + (bigEndian ? $0 : 3 - $0)]) }
            units.append(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3])
        }
        while let last = units.last, last == 0 { units.removeLast() }
        for u in units { scalars.append(Unicode.Scalar(u) ?? "\u{FFFD}") }
        return String(scalars)
    }
}
