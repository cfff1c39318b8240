// What the fuzz harnesses share (Fuzz/<name>/main.swift; `make fuzz` builds each with libFuzzer and
// AddressSanitizer and runs it): the input as bytes, and as a file for readers that take a path.
import CFuzzDriver
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

/// The harness's entry: libFuzzer on `callback` (with `make fuzz`'s build), or a message saying how to
/// build it.
public func runFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    let status = mltools_run_fuzzer(CommandLine.argc, CommandLine.unsafeArgv, callback)
    if status == -1 {
        FileHandle.standardError.write(Data("this harness has no libFuzzer: build and run it with `make fuzz`\n".utf8))
        exit(2)
    }
    exit(status)
}
