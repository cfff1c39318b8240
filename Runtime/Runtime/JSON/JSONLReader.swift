// JSONLReader: the lines of a list of inputs, in order, read in large chunks with read(2).
//
// "-" is stdin (shown as "<stdin>" in messages). Lines split on "\n"; a trailing "\r" is dropped; a
// last line without a newline counts; blank and whitespace-only lines are skipped but still counted,
// so line numbers match what an editor shows; a UTF-8 byte order mark opening a file is dropped.
// `prepare()` checks every named file up front and sums their sizes for the progress ETA; an input
// that cannot be opened is set aside (`unreadable`) and the others are read, as cat and jq do.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An input that cannot be opened or read: "cannot read PATH: No such file or directory".
public struct InputError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "cannot read \(path): \(problem)" }
}

public final class JSONLReader {
    public struct Line {
        /// The line without "\n" and without a trailing "\r".
        public var bytes: [UInt8]
        /// The path as given, or "<stdin>".
        public var source: String
        /// 1-based line number within its input.
        public var number: Int
        /// Whether the line ended in "\r\n" (the "\r" is not in `bytes`).
        public var crlf = false
    }

    public let inputs: [String]
    let stdinFD: Int32
    /// Sum of the inputs' sizes when every one is a regular file (after `prepare()`); nil otherwise.
    public private(set) var totalBytes: Int?
    /// Bytes of the lines handed out so far, newlines included.
    public private(set) var bytesConsumed = 0
    /// Inputs that could not be opened (by `prepare()` or later), in order; they are skipped.
    public private(set) var unreadable: [InputError] = []
    private var skipped = Set<Int>()

    var nextInput = 0
    var fd: Int32 = -1
    var ownsFD = false
    var atEOF = false
    var source = ""
    var lineNumber = 0
    var buffer: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var start = 0, end = 0

    public init(inputs: [String], stdin: Int32 = STDIN_FILENO, chunkSize: Int = 1 << 20) {
        self.inputs = inputs.isEmpty ? ["-"] : inputs
        self.stdinFD = stdin
        self.capacity = max(chunkSize, 1)
        self.buffer = .allocate(capacity: capacity)
    }

    deinit {
        closeCurrent()
        buffer.deallocate()
    }

    public static func displayName(_ path: String) -> String { path == "-" ? "<stdin>" : path }

    /// Check that every named input opens and is not a directory (those that do not are set aside in
    /// `unreadable`); compute `totalBytes`.
    public func prepare() throws {
        var total: Int? = 0
        for (index, path) in inputs.enumerated() {
            var st = stat()
            if path == "-" {
                if fstat(stdinFD, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG {
                    let offset = lseek(stdinFD, 0, SEEK_CUR)
                    total = total.map { $0 + Int(st.st_size) - max(0, Int(offset)) }
                } else {
                    total = nil
                }
                continue
            }
            let f: Int32
            do { f = try JSONLReader.openInput(path) } catch let e as InputError {
                unreadable.append(e)
                skipped.insert(index)
                continue
            }
            if fstat(f, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG {
                total = total.map { $0 + Int(st.st_size) }
            } else {
                total = nil
            }
            _ = close(f)
        }
        totalBytes = total
    }

    static func openInput(_ path: String) throws -> Int32 {
        let f = open(path, O_RDONLY | O_CLOEXEC)
        guard f >= 0 else { throw InputError(path: path, problem: String(cString: strerror(errno))) }
        var st = stat()
        if fstat(f, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            _ = close(f)
            throw InputError(path: path, problem: "is a directory")
        }
        return f
    }

    /// The next non-blank line, or nil after the last input.
    public func next() throws -> Line? {
        while true {
            if fd < 0 {
                guard try openNext() else { return nil }
                continue
            }
            if start < end, let nl = memchr(buffer + start, 0x0A, end - start) {
                let i = buffer.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                let lineStart = start
                bytesConsumed += i + 1 - start
                start = i + 1
                lineNumber += 1
                if let line = makeLine(lineStart, i) { return line }
                continue
            }
            if atEOF {
                if start < end {  // last line without a newline
                    let lineStart = start
                    bytesConsumed += end - start
                    start = end
                    lineNumber += 1
                    if let line = makeLine(lineStart, end) { return line }
                }
                closeCurrent()
                continue
            }
            try fill()
        }
    }

    /// True when `next()` can return without waiting on a slow producer (a pipe or terminal that has
    /// nothing more yet): lets the runner process a partial batch instead of waiting for a full one.
    public func canContinueWithoutBlocking() -> Bool {
        if fd < 0 || atEOF { return true }
        if start < end && memchr(buffer + start, 0x0A, end - start) != nil { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0
    }

    func makeLine(_ start: Int, _ newline: Int) -> Line? {
        var lineStart = start, lineEnd = newline
        if lineNumber == 1 && lineEnd - lineStart >= 3 && buffer[lineStart] == 0xEF && buffer[lineStart + 1] == 0xBB
            && buffer[lineStart + 2] == 0xBF {
            lineStart += 3  // a byte order mark, which RFC 8259 lets a parser ignore
        }
        let crlf = lineEnd > lineStart && buffer[lineEnd - 1] == 0x0D
        if crlf { lineEnd -= 1 }
        var blank = true
        for j in lineStart..<lineEnd {
            let c = buffer[j]
            if c != 0x20 && c != 0x09 && c != 0x0D { blank = false; break }
        }
        if blank { return nil }
        let bytes = Array(UnsafeBufferPointer(start: buffer + lineStart, count: lineEnd - lineStart))
        return Line(bytes: bytes, source: source, number: lineNumber, crlf: crlf)
    }

    func openNext() throws -> Bool {
        while nextInput < inputs.count && skipped.contains(nextInput) { nextInput += 1 }
        guard nextInput < inputs.count else { return false }
        let path = inputs[nextInput]
        nextInput += 1
        if path == "-" {
            fd = stdinFD
            ownsFD = false
        } else {
            do { fd = try JSONLReader.openInput(path) } catch let e as InputError {
                unreadable.append(e)  // gone since prepare(): skipped like the others
                return try openNext()
            }
            ownsFD = true
        }
        source = JSONLReader.displayName(path)
        lineNumber = 0
        atEOF = false
        start = 0
        end = 0
        return true
    }

    func closeCurrent() {
        if fd >= 0 && ownsFD { _ = close(fd) }
        fd = -1
        ownsFD = false
    }

    /// Move the partial line to the front, grow if one line fills the buffer, and read more.
    func fill() throws {
        if start > 0 {
            if start < end { memmove(buffer, buffer + start, end - start) }
            end -= start
            start = 0
        }
        if end == capacity {
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            bigger.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = bigger
            capacity *= 2
        }
        while true {
            let n = read(fd, buffer + end, capacity - end)
            if n > 0 { end += n; return }
            if n == 0 { atEOF = true; return }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {  // a non-blocking stdin: wait for data
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, -1)
                continue
            }
            throw InputError(path: source, problem: String(cString: strerror(errno)))
        }
    }
}
