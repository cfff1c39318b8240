// Fuzz harness: a zo trajectory.jsonl read back (header and step lines). Any input must give a
// trajectory or an error naming the line, never a crash.
import FuzzSupport
import ZOCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTrajectory(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? readTrajectory(fuzzFile(data, size, ext: "jsonl"))
    return 0
}
