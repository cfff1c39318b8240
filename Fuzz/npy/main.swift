// Fuzz harness: NumPy .npy parsing (header dict, dtype, shape, Fortran order, data size). Never a trap,
// never an allocation the header merely claims.
import FuzzSupport
import Runtime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    if let a = try? NPYArray(bytes: fuzzBytes(data, size)) { _ = a.count }
    return 0
}

runFuzzer(fuzzNPY)
