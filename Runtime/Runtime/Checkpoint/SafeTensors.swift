// safetensors: read by mmap and validated as the reference reader (huggingface/safetensors) does;
// written atomically for our own checkpoints.
//
// Layout: u64 little-endian header length N; N bytes of JSON {"__metadata__": {str: str},
// name: {"dtype", "shape", "data_offsets": [begin, end]}}; then the data. Validation: N ≤ 100 MB
// and inside the file; the header is UTF-8 JSON starting with '{'; offsets, sorted, start at 0 and
// follow each other with no gap or overlap; each byte range equals dtype size × element count; the
// last range ends exactly at the end of the file.
import Foundation

public enum SafeTensorsDType: String, Sendable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8e5m2 = "F8_E5M2", f8e4m3 = "F8_E4M3", i16 = "I16", u16 = "U16"
    case f16 = "F16", bf16 = "BF16", i32 = "I32", u32 = "U32", f32 = "F32", f64 = "F64", i64 = "I64", u64 = "U64"

    public var size: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .f64, .i64, .u64: return 8
        }
    }
}

public struct SafeTensorInfo: Sendable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Absolute byte range in the file.
    public let start: Int, end: Int
    public var count: Int { shape.reduce(1, *) }
}

public final class SafeTensorsFile: @unchecked Sendable {
    public static let maxHeaderSize = 100_000_000

    public let path: String
    public let metadata: [String: String]
    /// Tensors in data order.
    public let tensors: [SafeTensorInfo]
    private let index: [String: Int]
    private let file: MappedFile

    public init(path: String) throws {
        file = try MappedFile(path: path)
        self.path = path
        var r = ByteReader(file.bytes, path: path)
        let n64 = try r.read(UInt64.self, "header length")
        guard n64 <= UInt64(SafeTensorsFile.maxHeaderSize) else {
            throw r.fail("header length \(n64) exceeds the 100 MB limit")
        }
        let n = Int(n64)
        guard n <= r.remaining else { throw r.fail("truncated: header claims \(n) bytes, file has \(r.remaining) after the length") }
        let header = Array(try r.readBytes(n, "header"))
        guard header.first == UInt8(ascii: "{") else { throw r.fail("header does not start with '{'") }
        let json: JSONValue
        do { json = try JSONValue(parsing: header) } catch { throw r.fail("header is not valid JSON: \(error)") }
        guard let object = json.objectValue else { throw r.fail("header is not a JSON object") }

        var meta: [String: String] = [:]
        var infos: [(String, SafeTensorsDType, [Int], Int, Int)] = []
        for member in object {
            if member.key == "__metadata__" {
                guard let m = member.value.objectValue else { throw r.fail("__metadata__ is not an object") }
                for item in m {
                    guard let s = item.value.stringValue else { throw r.fail("__metadata__ value for '\(item.key)' is not a string") }
                    meta[item.key] = s
                }
                continue
            }
            let name = member.key
            guard let o = member.value.objectValue else { throw r.fail("entry for tensor '\(name)' is not an object") }
            guard let d = o["dtype"]?.stringValue else { throw r.fail("tensor '\(name)' has no dtype") }
            guard let dtype = SafeTensorsDType(rawValue: d) else { throw r.fail("tensor '\(name)' has unknown dtype \(d)") }
            guard let dims = o["shape"]?.arrayValue else { throw r.fail("tensor '\(name)' has no shape") }
            var shape: [Int] = []
            for dim in dims {
                guard let v = try? dim.numberValue?.int(), v >= 0 else { throw r.fail("tensor '\(name)' has an invalid dimension in its shape") }
                shape.append(v)
            }
            guard let offs = o["data_offsets"]?.arrayValue, offs.count == 2,
                  let s = try? offs[0].numberValue?.int(), let e = try? offs[1].numberValue?.int(), s >= 0, e >= 0 else {
                throw r.fail("tensor '\(name)' has invalid data_offsets")
            }
            infos.append((name, dtype, shape, s, e))
        }
        // Validate as safetensors' Metadata::validate: sorted by offsets, contiguous from 0.
        infos.sort { ($0.3, $0.4) < ($1.3, $1.4) }
        let dataStart = 8 + n, dataLength = file.count - dataStart
        var expected = 0
        var list: [SafeTensorInfo] = [], idx: [String: Int] = [:]
        for (name, dtype, shape, s, e) in infos {
            guard s == expected, e >= s else {
                throw r.fail("tensor '\(name)': data_offsets [\(s), \(e)) do not follow the previous tensor (expected start \(expected))")
            }
            guard e <= dataLength else {
                throw r.fail("tensor '\(name)': data_offsets [\(s), \(e)) end past the data: the file holds \(dataLength) after the header")
            }
            // The product of the non-zero dimensions must fit too: [0, 2^62, 4] holds no data, but
            // arithmetic on its shape would overflow.
            var span = 1
            for d in shape where d > 0 {
                let (m, o) = span.multipliedReportingOverflow(by: d)
                guard !o else { throw r.fail("tensor '\(name)': shape \(shape) overflows") }
                span = m
            }
            let count = shape.contains(0) ? 0 : span
            let (bytes, o) = count.multipliedReportingOverflow(by: dtype.size)
            guard !o, e - s == bytes else {
                throw r.fail("tensor '\(name)': \(e - s) bytes for \(dtype.rawValue) \(shape) (expected \(o ? -1 : bytes))")
            }
            guard idx[name] == nil else { throw r.fail("tensor '\(name)' appears twice") }
            expected = e
            idx[name] = list.count
            list.append(SafeTensorInfo(name: name, dtype: dtype, shape: shape, start: dataStart + s, end: dataStart + e))
        }
        guard expected == dataLength else {
            throw r.fail("tensor data covers \(expected) bytes but the file holds \(dataLength) after the header")
        }
        metadata = meta
        tensors = list
        index = idx
    }

    public var names: [String] { tensors.map(\.name) }
    public func info(_ name: String) -> SafeTensorInfo? { index[name].map { tensors[$0] } }

    /// The tensor as Float32. Aligned F32 data is a view into the mapped file (no copy); F16, BF16
    /// and F64 are converted; integer dtypes are converted to their float values.
    public func tensor(_ name: String) throws -> Tensor {
        guard let info = info(name) else { throw CheckpointError(path, "no tensor named '\(name)'") }
        if info.dtype == .f32 && info.start % 4 == 0 {
            return file.floatTensor(shape: info.shape, byteOffset: info.start)
        }
        let out = Tensor(uninitializedShape: info.shape)
        let p = file.bytes.baseAddress! + info.start, o = out.data  // invariant: the file holds at least its 8-byte header length
        switch info.dtype {
        case .f32: for i in 0..<info.count { o[i] = Float(bitPattern: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        case .f16: for i in 0..<info.count { o[i] = halfToFloat(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .bf16: for i in 0..<info.count { o[i] = bfloatToFloat(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        case .f64: for i in 0..<info.count { o[i] = Float(Double(bitPattern: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))) }
        default:
            guard let ints = try? integers(name) else { throw CheckpointError(path, "tensor '\(name)' has dtype \(info.dtype.rawValue), which cannot be read as floats") }
            for (i, v) in ints.enumerated() { o[i] = Float(v) }
        }
        return out
    }

    /// An integer tensor's values (I8...I64, U8...U64, BOOL), for ids and counters.
    public func integers(_ name: String) throws -> [Int] {
        guard let info = info(name) else { throw CheckpointError(path, "no tensor named '\(name)'") }
        let p = file.bytes.baseAddress! + info.start  // invariant: the file holds at least its 8-byte header length
        let n = info.count
        switch info.dtype {
        case .bool, .u8: return (0..<n).map { Int(p.load(fromByteOffset: $0, as: UInt8.self)) }
        case .i8: return (0..<n).map { Int(p.load(fromByteOffset: $0, as: Int8.self)) }
        case .i16: return (0..<n).map { Int(Int16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) }
        case .u16: return (0..<n).map { Int(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
        case .i32: return (0..<n).map { Int(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        case .u32: return (0..<n).map { Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        case .i64: return (0..<n).map { Int(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
        case .u64:
            return try (0..<n).map {
                let v = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))
                guard v <= UInt64(Int.max) else { throw CheckpointError(path, "tensor '\(name)': value \(v) out of range") }
                return Int(v)
            }
        default: throw CheckpointError(path, "tensor '\(name)' has dtype \(info.dtype.rawValue), not an integer type")
        }
    }
}

/// Writes tensors (Float32, in the given order) and string metadata as a safetensors file,
/// atomically: to a temporary name in the same directory, then renamed over `path`.
public func writeSafeTensors(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to path: String) throws {
    var header = JSONWriter()
    header.write(ascii: "{")
    var first = true
    if !metadata.isEmpty {
        header.write(ascii: "\"__metadata__\":{")
        for (i, (k, v)) in metadata.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { header.write(ascii: ",") }
            header.write(string: k); header.write(ascii: ":"); header.write(string: v)
        }
        header.write(ascii: "}")
        first = false
    }
    var offset = 0
    var seen = Set<String>()
    for (name, t) in tensors {
        guard seen.insert(name).inserted else { throw CheckpointError(path, "tensor '\(name)' given twice") }
        if !first { header.write(ascii: ",") }
        first = false
        header.write(string: name)
        header.write(ascii: ":{\"dtype\":\"F32\",\"shape\":")
        header.write(ints: t.shape)
        header.write(ascii: ",\"data_offsets\":")
        header.write(ints: [offset, offset + 4 * t.count])
        header.write(ascii: "}")
        offset += 4 * t.count
    }
    header.write(ascii: "}")
    // Pad the header with spaces so the data starts 8-byte aligned (as the reference writer does).
    while (header.bytes.count + 8) % 8 != 0 { header.append(byte: 0x20) }

    try writeAtomically(to: path) { fd in
        var length = UInt64(header.bytes.count).littleEndian
        try writeAll(fd, &length, 8, path)
        try header.bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, path) }  // invariant: the header is at least "{}"
        for (_, t) in tensors where t.count > 0 {
            // Float32 is little-endian on every platform we build for.
            try writeAll(fd, t.data, 4 * t.count, path)
        }
    }
}

