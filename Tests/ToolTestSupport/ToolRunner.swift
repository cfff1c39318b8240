// Running the built programs in tests (tier 3): find the binary next to the test bundle, feed it
// stdin, collect stdout, stderr and the exit status. Also paths to the repository's data.
import Foundation

public struct ToolResult {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// stdout split into lines (no trailing empty line).
    public var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
}

public enum Repo {
    /// The repository root (this file is Tests/ToolTestSupport/ToolRunner.swift).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized.path
    public static func path(_ relative: String) -> String { root + "/" + relative }
    public static let minilm = path("data/models/all-MiniLM-L6-v2")
    public static let smollm2 = path("data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
    public static let e5 = path("data/models/multilingual-e5-small")
    public static let mpnet = path("data/models/all-mpnet-base-v2")
    public static var haveModels: Bool {
        [minilm + "/model.safetensors", smollm2, e5 + "/model.safetensors", mpnet + "/model.safetensors"]
            .allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }
}

/// The directory holding the built executables (the test bundle's build directory).
public func binaryDirectory() -> String {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    for dir in [bundle, Repo.path(".build/release")] where FileManager.default.isExecutableFile(atPath: dir + "/embed") {
        return dir
    }
    return bundle
}

/// Runs `program` with `arguments`, writing `stdin` to it; waits for it to exit.
/// `directory`: the working directory (default: the test's).
public func runTool(_ program: String, _ arguments: [String], stdin: String = "", environment: [String: String]? = nil,
                    directory: String? = nil) throws -> ToolResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binaryDirectory() + "/" + program)
    p.arguments = arguments
    if let environment { p.environment = environment }
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let inPipe = Pipe(), outPipe = Pipe(), errPipe = Pipe()
    p.standardInput = inPipe
    p.standardOutput = outPipe
    p.standardError = errPipe
    try p.run()
    // Write stdin on a thread so a program that fills its stdout pipe cannot deadlock us.
    let writer = Thread {
        inPipe.fileHandleForWriting.write(stdin.data(using: .utf8)!)
        try? inPipe.fileHandleForWriting.close()
    }
    writer.start()
    // stderr drains on another thread while this one reads stdout (either pipe may fill first).
    final class Box: @unchecked Sendable { var data = Data() }
    let err = Box()
    let done = DispatchSemaphore(value: 0)
    DispatchQueue.global().async { err.data = errPipe.fileHandleForReading.readDataToEndOfFile(); done.signal() }
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    p.waitUntilExit()
    return ToolResult(status: p.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stderr: String(decoding: err.data, as: UTF8.self))
}

/// A fresh temporary directory removed at exit of the test (caller removes it).
public func temporaryDirectory(_ label: String) throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(getpid())-\(UUID().uuidString.prefix(8))").path
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

/// Starts `program arguments` `times` times, each killed with SIGKILL after a random delay (µs) unless it
/// finished first, then runs it once more to the end. The arguments should include `--resume`.
public func runKilledAndResumed(_ program: String, _ arguments: [String], delays: ClosedRange<UInt32>,
                                times: Int = 5) throws -> (kills: Int, last: ToolResult) {
    var rng = SystemRandomNumberGenerator()
    var kills = 0
    for _ in 0..<times {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binaryDirectory() + "/" + program)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(UInt32.random(in: delays, using: &rng))
        if p.isRunning { kill(p.processIdentifier, SIGKILL); kills += 1 }
        p.waitUntilExit()
    }
    return (kills, try runTool(program, arguments))
}

/// Kill delays (µs) for `runKilledAndResumed` scaled to an uninterrupted run of `seconds` on this
/// machine: between 10% and 60% of it, so some runs die before they finish however fast the machine.
public func killDelays(forRunOf seconds: Double) -> ClosedRange<UInt32> {
    UInt32(max(20_000, seconds * 1e5))...UInt32(max(40_000, seconds * 6e5))
}
