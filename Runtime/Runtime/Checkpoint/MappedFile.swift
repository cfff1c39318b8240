// MappedFile: a whole file mapped into memory (read-only pages, private), and a bounds-checked
// little-endian reader over bytes. Checkpoint readers parse headers through ByteReader, so a
// truncated or hostile file becomes a CheckpointError, never a read out of bounds.
import Foundation

/// A problem with a checkpoint or model file: names the file and says what is wrong.
public struct CheckpointError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public init(_ path: String, _ problem: String) {
        self.path = path
        self.problem = problem
    }
    public var description: String { "\(path): \(problem)" }
}

public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let bytes: UnsafeRawBufferPointer
    private let base: UnsafeMutableRawPointer?
    private let length: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw CheckpointError(path, "cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CheckpointError(path, "cannot stat (\(String(cString: strerror(errno))))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw CheckpointError(path, "not a regular file") }
        length = Int(st.st_size)
        if length == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        // Private and writable (copy-on-write): tensors may point straight into the mapping, and a
        // stray write can never reach the file.
        let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw CheckpointError(path, "cannot map (\(String(cString: strerror(errno))))") }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: length)
    }

    deinit {
        if let base { munmap(base, length) }
    }

    public var count: Int { length }

    /// A float tensor that points into the mapping (no copy), valid while the tensor lives.
    /// `byteOffset` must be 4-byte aligned and the range inside the file.
    public func floatTensor(shape: [Int], byteOffset: Int) -> Tensor {
        let n = shape.reduce(1, *)
        // invariant: callers (GGUF, safetensors) pass a range they validated against the file at open,
        // so the file is not empty (base is set) and the range lies inside it.
        precondition(byteOffset % 4 == 0 && byteOffset + 4 * n <= length, "MappedFile.floatTensor: range outside file")
        let p = (base! + byteOffset).bindMemory(to: Float.self, capacity: max(n, 1))
        return Tensor(shape: shape, storage: Storage(borrowing: p, count: n, owner: self))
    }
}

/// Sequential little-endian reads with bounds checks; every failure is a CheckpointError.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var position: Int

    init(_ bytes: UnsafeRawBufferPointer, path: String, position: Int = 0) {
        self.bytes = bytes
        self.path = path
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    func fail(_ problem: String) -> CheckpointError { CheckpointError(path, problem) }

    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw fail("truncated: \(what()) needs \(n) bytes at offset \(position), file has \(remaining) left")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, what())
        let v = bytes.loadUnaligned(fromByteOffset: position, as: T.self)
        position += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func readBytes(_ n: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try need(n, what())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
        position += n
        return slice
    }
}
