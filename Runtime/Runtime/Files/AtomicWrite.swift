// Writing output files so that nothing half-written is ever seen, and nothing that is not a plain
// file is clobbered. A new path or a regular file is written through a temporary file in the same
// directory (fsync'ed, then renamed over it): a reader sees the old contents or the new, never a part,
// and a killed run leaves the old file. Anything else at the path (a symlink, a FIFO, a device such as
// /dev/stdout or /dev/null) is written straight into, since a rename would replace it.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes `path` by `body(fd)` (see the file header). Errors name the path.
public func writeAtomically(to path: String, _ body: (Int32) throws -> Void) throws {
    func errorText() -> String { String(cString: strerror(errno)) }
    var st = stat()
    if lstat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw FileWriteError(path, errorText()) }
        defer { close(fd) }
        try body(fd)
        return
    }
    let dir = (path as NSString).deletingLastPathComponent
    let tmp = (dir.isEmpty ? "." : dir) + "/.\((path as NSString).lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)  // the umask applies
    guard fd >= 0 else { throw FileWriteError(path, "cannot create a temporary file in \(dir.isEmpty ? "." : dir): \(errorText())") }
    var closed = false
    do {
        try body(fd)
        guard fsync(fd) == 0 else { throw FileWriteError(path, "cannot sync: \(errorText())") }
        closed = true
        guard close(fd) == 0 else { throw FileWriteError(path, "cannot close: \(errorText())") }
        guard rename(tmp, path) == 0 else { throw FileWriteError(path, "cannot rename into place: \(errorText())") }
    } catch {
        if !closed { close(fd) }
        unlink(tmp)
        throw error
    }
}

/// Writes all of `n` bytes at `p` to `fd` (EINTR retried); errors name `path`.
public func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int, _ path: String) throws {
    var done = 0
    while done < n {
        let w = write(fd, p + done, n - done)
        if w < 0 && errno == EINTR { continue }
        guard w > 0 else { throw FileWriteError(path, "write failed: \(String(cString: strerror(errno)))") }
        done += w
    }
}

/// `bytes` into `path`, atomically where that is possible (see the file header).
public func writeFile(_ bytes: [UInt8], to path: String) throws {
    try writeAtomically(to: path) { fd in
        try bytes.withUnsafeBytes { b in if let base = b.baseAddress { try writeAll(fd, base, b.count, path) } }
    }
}

/// `text` (UTF-8) into `path`, atomically where that is possible.
public func writeFile(_ text: String, to path: String) throws {
    try writeFile(Array(text.utf8), to: path)
}
