// Fuzz harness: a zo trajectory.jsonl read back (header and step lines). Any input must give a
// trajectory or an error naming the line, never a crash.
import FuzzSupport
import ZOCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrajectory(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    _ = try? readTrajectory(fuzzFile(data, size, ext: "jsonl"))
    return 0
}

runFuzzer(fuzzTrajectory)
