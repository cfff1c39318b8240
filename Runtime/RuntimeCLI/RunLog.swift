// The training log every trainer writes (log.jsonl) and the append-only files beside it (zo's
// trajectory): one line per write(2), synced before a checkpoint counts them, cut back to the
// checkpoint's count when a run resumes. A log line never drops a value: a non-finite number is
// written as null and named in the line's "notes".
import Foundation
import Runtime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file of lines that only grows: created empty, or (resuming) cut back to its first `keep` lines.
public final class AppendFile {
    public let path: String
    public private(set) var lines: Int
    private let fd: Int32

    public init(path: String, keep: Int? = nil) throws {
        self.path = path
        var kept = 0, offset = 0
        if let keep, let data = FileManager.default.contents(atPath: path) {
            let bytes = [UInt8](data)
            while kept < keep, let nl = bytes[offset...].firstIndex(of: 0x0A) {
                offset = nl + 1
                kept += 1
            }
            guard kept == keep else {
                throw LoadError(path: path, problem: "holds \(kept) complete lines, the checkpoint counts \(keep)")
            }
        }
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LoadError(path: path, problem: "cannot open for writing: \(String(cString: strerror(errno)))") }
        guard ftruncate(fd, off_t(offset)) == 0, lseek(fd, off_t(offset), SEEK_SET) >= 0 else {
            close(fd)
            throw LoadError(path: path, problem: "cannot cut back to \(offset) bytes: \(String(cString: strerror(errno)))")
        }
        lines = kept
    }

    deinit { close(fd) }

    /// One line (a newline is added), in one write.
    public func append(_ line: String) throws {
        var text = line + "\n"
        let status = text.withUTF8 { JSONLWriter.writeAll(fd, UnsafeRawBufferPointer($0)) }
        if case .failed(let problem) = status { throw LoadError(path: path, problem: "cannot write: \(problem)") }
        if status == .closed { throw LoadError(path: path, problem: "cannot write: closed") }
        lines += 1
    }

    /// Puts the lines written so far on disk.
    public func sync() throws {
        guard fsync(fd) == 0 else { throw LoadError(path: path, problem: "cannot sync: \(String(cString: strerror(errno)))") }
    }
}

/// One log line: values by name; non-finite numbers become null with a note.
public struct LogEntry {
    public private(set) var record = Record()
    private var notes: [String] = []

    public init() {}

    public mutating func set(_ key: String, int value: Int) { record.set(key, int: value) }
    public mutating func set(_ key: String, string value: String) { record.set(key, string: value) }

    public mutating func set(_ key: String, _ value: Double) {
        if value.isFinite, (try? record.set(key, double: value)) != nil { return }
        record.set(key, .null)
        notes.append("\(key) is \(value)")
    }

    /// A Float is written in its own shortest form (0.1, not 0.10000000149011612).
    public mutating func set(_ key: String, _ value: Float) {
        if value.isFinite, (try? record.set(key, float: value)) != nil { return }
        record.set(key, .null)
        notes.append("\(key) is \(value)")
    }

    public mutating func set(_ key: String, _ values: [Float]) {
        record.set(key, .array(values.map { v in JSONNumber(v).map { .number($0) } ?? .null }))
        if let bad = values.first(where: { !$0.isFinite }) { notes.append("\(key) holds \(bad)") }
    }

    /// The line, with "notes" when a value was not finite.
    public var jsonText: String {
        var r = record
        if !notes.isEmpty { r.set("notes", strings: notes) }
        return r.jsonText
    }
}

/// log.jsonl of a run, and the progress line on stderr.
public final class RunLog {
    public let file: AppendFile
    let program: String
    let showProgress: Bool

    public init(path: String, keep: Int?, program: String, progress: Bool) throws {
        file = try AppendFile(path: path, keep: keep)
        self.program = program
        showProgress = progress
    }

    public var lines: Int { file.lines }

    public func write(_ entry: LogEntry, progress: String? = nil) throws {
        try file.append(entry.jsonText)
        if showProgress, let progress { FileHandle.standardError.write(Data("\r\(program): \(progress)   ".utf8)) }
    }

    /// Ends the progress line.
    public func finish() {
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
