// JSONLWriter: whole buffers to a file descriptor with write(2), no stdio buffering in between.
//
// Each call writes everything it is given (partial writes and EINTR retried, a non-blocking fd
// waited on with poll) and tells a closed reader (EPIPE: `program | head -1` is done) apart from
// a real failure (disk full), so the runner can end quietly in the first case. SIGPIPE must be
// ignored for EPIPE to arrive as an error instead of killing the process (the runner does that).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class JSONLWriter {
    public enum Status: Equatable {
        case ok
        /// The reading end is gone (EPIPE).
        case closed
        /// Any other error, as strerror text.
        case failed(String)
    }

    public let fd: Int32
    let ownsFD: Bool

    /// Write to an open descriptor (stdout, a pipe); it is not closed by this writer.
    public init(fd: Int32) {
        self.fd = fd
        self.ownsFD = false
    }

    /// Create or truncate `path` (or, with `append`, add to its end: each `write` is then one
    /// write(2) at the end of the file, so several processes appending lines never interleave them);
    /// throws an InputError (path + strerror text) when that fails.
    public init(path: String, append: Bool = false) throws {
        let f = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0o644)
        guard f >= 0 else { throw InputError(path: path, problem: String(cString: strerror(errno))) }
        self.fd = f
        self.ownsFD = true
    }

    deinit {
        if ownsFD { _ = close(fd) }
    }

    public func write(_ bytes: [UInt8]) -> Status {
        bytes.withUnsafeBytes { write($0) }
    }

    public func write(_ text: String) -> Status {
        write(Array(text.utf8))
    }

    public func write(_ bytes: UnsafeRawBufferPointer) -> Status {
        JSONLWriter.writeAll(fd, bytes)
    }

    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Status {
        guard var p = bytes.baseAddress else { return .ok }
        var left = bytes.count
        while left > 0 {
            let n = systemWrite(fd, p, left)
            if n >= 0 {
                p += n
                left -= n
                continue
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK:
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, -1)
            case EPIPE: return .closed
            default: return .failed(String(cString: strerror(errno)))
            }
        }
        return .ok
    }

    /// Ignore SIGPIPE process-wide, so writes to a closed pipe fail with EPIPE instead of killing us.
    public static func ignoreSIGPIPE() {
        _ = signal(SIGPIPE, SIG_IGN)
    }
}

/// write(2), named apart from JSONLWriter's own `write` methods.
@inline(__always)
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}
