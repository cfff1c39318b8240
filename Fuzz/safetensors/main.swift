// Fuzz harness: a safetensors file, every tensor read.
import FuzzSupport
import Runtime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let path = fuzzFile(data, size, ext: "safetensors")
    guard let f = try? SafeTensorsFile(path: path) else { return 0 }
    for t in f.tensors { _ = try? f.tensor(t.name) }
    return 0
}

runFuzzer(fuzzSafeTensors)
