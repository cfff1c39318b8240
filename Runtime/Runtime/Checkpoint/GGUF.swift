// GGUF (llama.cpp's model file, versions 2 and 3): metadata of every value type, tensor infos,
// alignment, and tensors dequantized to Float32 (GGUFQuant.swift).
//
// Layout: "GGUF", version u32, tensor count u64, metadata count u64; metadata as (string key,
// u32 type, value); tensor infos as (string name, u32 rank, u64 ne[rank], u32 ggml type, u64 offset);
// then, at the next multiple of `general.alignment` (default 32), the tensor data. Strings are a
// u64 length and bytes. ne[0] is the fastest-moving axis, so the row-major shape is ne reversed.

import CQuant

public indirect enum GGUFValue: Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string([UInt8]), array([GGUFValue])
    case uint64(UInt64), int64(Int64), float64(Double)

    /// Integers of any width (and bools) as Int.
    public var int: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return v <= UInt64(Int.max) ? Int(v) : nil
        case let .int64(v): return Int(v)
        case let .bool(v): return v ? 1 : 0
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        default: return int.map(Double.init)
        }
    }

    /// The bytes of a string value (vocabularies are keyed by bytes).
    public var bytes: [UInt8]? { if case let .string(b) = self { return b } else { return nil } }
    public var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
    public var array: [GGUFValue]? { if case let .array(a) = self { return a } else { return nil } }
    public var bool: Bool? { if case let .bool(b) = self { return b } else { return nil } }
}

public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// Row-major shape (ne reversed): a [out, in] weight has ne = [in, out].
    public let shape: [Int]
    public let type: GGMLType
    /// Byte offset of the data from the start of the file.
    public let fileOffset: Int
    public let byteCount: Int
    public var count: Int { shape.reduce(1, *) }
}

public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: [String: GGUFValue]
    public let metadataKeys: [String]  // in file order
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    let file: MappedFile
    private let index: [String: Int]

    public init(path: String) throws {
        file = try MappedFile(path: path)
        self.path = path
        var r = ByteReader(file.bytes, path: path)
        let magic = try r.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else { throw r.fail("not a GGUF file (magic \(String(magic, radix: 16)))") }
        version = try r.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            throw r.fail("GGUF version \(version) is not supported (2 and 3 are)")
        }
        let tensorCount = try r.read(UInt64.self, "tensor count")
        let kvCount = try r.read(UInt64.self, "metadata count")
        // Every entry needs at least 8 + 4 + 1 bytes; absurd counts cannot fit the file.
        guard kvCount <= UInt64(r.remaining / 13), tensorCount <= UInt64(r.remaining / 24) else {
            throw r.fail("header claims \(kvCount) metadata entries and \(tensorCount) tensors, more than the file can hold")
        }
        var meta: [String: GGUFValue] = [:], keys: [String] = []
        for i in 0..<Int(kvCount) {
            let key = String(decoding: try GGUFFile.readString(&r, "metadata key \(i)"), as: UTF8.self)
            let type = try r.read(UInt32.self, "type of \(key)")
            let value = try GGUFFile.readValue(&r, type: type, what: key, depth: 0)
            if meta[key] == nil { keys.append(key) }
            meta[key] = value
        }
        metadata = meta
        metadataKeys = keys
        alignment = meta["general.alignment"]?.int ?? 32
        guard alignment > 0, alignment % 8 == 0, alignment <= 1 << 30 else {
            throw r.fail("general.alignment \(alignment) is not a positive multiple of 8 (at most 2^30)")
        }

        var infos: [(String, [Int], GGMLType, UInt64)] = []
        for i in 0..<Int(tensorCount) {
            let name = String(decoding: try GGUFFile.readString(&r, "tensor name \(i)"), as: UTF8.self)
            let rank = try r.read(UInt32.self, "rank of \(name)")
            guard rank >= 1 && rank <= 4 else { throw r.fail("tensor \(name) has rank \(rank) (1...4 allowed)") }
            var ne: [Int] = []
            for d in 0..<Int(rank) {
                let v = try r.read(UInt64.self, "dimension \(d) of \(name)")
                guard v > 0 && v < (1 << 40) else { throw r.fail("tensor \(name) has absurd dimension \(v)") }
                ne.append(Int(v))
            }
            let rawType = try r.read(UInt32.self, "type of \(name)")
            guard let type = GGMLType(rawValue: rawType) else {
                throw r.fail("tensor \(name) has ggml type \(rawType), which is not supported")
            }
            let offset = try r.read(UInt64.self, "offset of \(name)")
            infos.append((name, ne, type, offset))
        }
        let dataStart = (r.position + alignment - 1) / alignment * alignment
        var list: [GGUFTensorInfo] = [], idx: [String: Int] = [:]
        for (name, ne, type, offset) in infos {
            let (count, overflow) = ne.reduce((1, false)) { acc, d in
                let (m, o) = acc.0.multipliedReportingOverflow(by: d); return (m, acc.1 || o)
            }
            guard !overflow, count < (1 << 40) else { throw r.fail("tensor \(name) has too many elements") }
            guard ne[0] % type.blockSize == 0 else {
                throw r.fail("tensor \(name): row length \(ne[0]) is not a multiple of the \(type) block size \(type.blockSize)")
            }
            let bytes = count / type.blockSize * type.blockBytes
            guard offset % UInt64(alignment) == 0, offset <= UInt64(file.count),
                  dataStart + Int(offset) + bytes <= file.count else {
                throw r.fail("tensor \(name): data [\(offset), +\(bytes)) lies outside the file (data starts at \(dataStart), file is \(file.count) bytes)")
            }
            guard idx[name] == nil else { throw r.fail("tensor \(name) appears twice") }
            idx[name] = list.count
            list.append(GGUFTensorInfo(name: name, shape: Array(ne.reversed()), type: type,
                                       fileOffset: dataStart + Int(offset), byteCount: bytes))
        }
        tensors = list
        index = idx
    }

    public func info(_ name: String) -> GGUFTensorInfo? { index[name].map { tensors[$0] } }

    /// The tensor as Float32 in row-major order. F32 data points into the mapped file (no copy);
    /// other types are dequantized exactly as ggml does.
    public func tensor(_ name: String) throws -> Tensor {
        guard let info = info(name) else { throw CheckpointError(path, "no tensor named '\(name)'") }
        if info.type == .f32 && info.fileOffset % 4 == 0 {
            return file.floatTensor(shape: info.shape, byteOffset: info.fileOffset)
        }
        let out = Tensor(uninitializedShape: info.shape)
        let base = file.bytes.baseAddress! + info.fileOffset, dst = out.data  // invariant: a GGUF file is never empty
        // Rows (ne[0] values, whole blocks) are independent: expand chunks of them on all threads, by the
        // CQuant expansion (GGUFQuant.swift's `dequantize`, bit for bit, vectorized).
        let cols = info.shape.last!, rows = info.count / cols, rowBytes = cols / info.type.blockSize * info.type.blockBytes
        parallelFor(rows, grain: max(1, 4096 * 32 / cols)) { r in
            quant_expand_rows(Int32(info.type.rawValue), base, rowBytes, Int32(cols), Int32(r.lowerBound), Int32(r.count),
                              dst + r.lowerBound * cols)
        }
        return out
    }

    // MARK: parsing helpers

    static func readString(_ r: inout ByteReader, _ what: String) throws -> [UInt8] {
        let n = try r.read(UInt64.self, "length of \(what)")
        guard n <= UInt64(r.remaining) else { throw r.fail("truncated: \(what) claims \(n) bytes, \(r.remaining) left") }
        return Array(try r.readBytes(Int(n), what))
    }

    static func readValue(_ r: inout ByteReader, type: UInt32, what: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try r.read(UInt8.self, what))
        case 1: return .int8(try r.read(Int8.self, what))
        case 2: return .uint16(try r.read(UInt16.self, what))
        case 3: return .int16(try r.read(Int16.self, what))
        case 4: return .uint32(try r.read(UInt32.self, what))
        case 5: return .int32(try r.read(Int32.self, what))
        case 6: return .float32(Float(bitPattern: try r.read(UInt32.self, what)))
        case 7:
            let b = try r.read(UInt8.self, what)
            guard b <= 1 else { throw r.fail("\(what): bool value \(b)") }
            return .bool(b == 1)
        case 8: return .string(try readString(&r, what))
        case 9:
            guard depth < 4 else { throw r.fail("\(what): arrays nested too deeply") }
            let elementType = try r.read(UInt32.self, "element type of \(what)")
            let n = try r.read(UInt64.self, "length of \(what)")
            // Every element takes at least this many bytes of the file: a count the rest of the file
            // cannot hold (2^31 strings in a small file) is refused before anything is reserved for it.
            let minBytes: UInt64
            switch elementType {
            case 0, 1, 7: minBytes = 1
            case 2, 3: minBytes = 2
            case 4, 5, 6: minBytes = 4
            case 8, 10, 11, 12: minBytes = 8  // a string is at least its u64 length
            case 9: minBytes = 12  // an array is at least its u32 type and u64 length
            default: minBytes = 1  // an unknown type: the first element's read reports it
            }
            guard n <= UInt64(r.remaining) / minBytes else {
                throw r.fail("truncated: array \(what) claims \(n) elements, \(r.remaining) bytes left")
            }
            var items: [GGUFValue] = []
            items.reserveCapacity(Int(n))
            for _ in 0..<Int(n) { items.append(try readValue(&r, type: elementType, what: what, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try r.read(UInt64.self, what))
        case 11: return .int64(try r.read(Int64.self, what))
        case 12: return .float64(Double(bitPattern: try r.read(UInt64.self, what)))
        default: throw r.fail("\(what): unknown metadata value type \(type)")
        }
    }
}
