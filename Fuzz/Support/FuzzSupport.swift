// What the fuzz harnesses share (Fuzz/<name>/main.swift; `make fuzz` builds each with libFuzzer and
// AddressSanitizer and runs it): the input as bytes, and as a file for readers that take a path.
import Foundation

/// The fuzzer's input as an array.
public func fuzzBytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// Writes the input to a per-process scratch file with extension `ext` and returns its path.
public func fuzzFile(_ data: UnsafePointer<UInt8>, _ size: Int, ext: String) -> String {
    let path = NSTemporaryDirectory() + "/mltools-fuzz-\(getpid()).\(ext)"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var done = 0
    while done < size {
        let n = write(fd, data + done, size - done)
        if n <= 0 { break }
        done += n
    }
    close(fd)
    return path
}
