// Fuzz harness: config.json → model construction through the registry, for every architecture. The
// weights come from an empty checkpoint, so building stops at the first weight it asks for; what
// is exercised is reading and validating the config (a size of 0, a head count that does not divide
// the width, negative counts, absurd values) before any allocation. Never a trap.
import Foundation
import FuzzSupport
import Runtime

/// Statics, not top-level lets: main.swift's top-level code never runs under libFuzzer.
enum Scratch {
    static let directory = NSTemporaryDirectory() + "/mltools-fuzz-config-\(getpid())"
    static let emptyCheckpoint: [UInt8] = Array("{}".utf8)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    try? FileManager.default.createDirectory(atPath: Scratch.directory, withIntermediateDirectories: true)
    let config = fuzzBytes(data, size)
    _ = FileManager.default.createFile(atPath: Scratch.directory + "/config.json", contents: Data(config))
    var header = [UInt8](repeating: 0, count: 8)
    header[0] = UInt8(Scratch.emptyCheckpoint.count)
    _ = FileManager.default.createFile(atPath: Scratch.directory + "/model.safetensors", contents: Data(header + Scratch.emptyCheckpoint))
    _ = try? ModelRegistry.loadBackbone(path: Scratch.directory)
    return 0
}

runFuzzer(fuzzConfig)
