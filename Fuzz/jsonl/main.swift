// Fuzz harness: a JSONL record (the parser every program's input goes through), and the accessors
// programs read fields with. Any input must give a record or an error, never a crash.
import FuzzSupport
import Runtime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONL(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let bytes = fuzzBytes(data, size)
    guard let r = try? Record(parsing: bytes) else { return 0 }
    _ = r.jsonText
    for key in ["text", "label", "embedding", "ids", "features"] {
        _ = try? r.string(key)
        _ = try? r.floats(key)
        _ = try? r.ints(key)
        _ = try? r.int(key)
        _ = try? r.double(key)
    }
    _ = try? JSONValue(parsing: bytes)
    return 0
}

runFuzzer(fuzzJSONL)
