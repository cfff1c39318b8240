// Fuzz harness: PNG decoding (libpng behind the runtime's longjmp-catching C shim).
import FuzzSupport
import Runtime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    if let im = try? Image(png: fuzzBytes(data, size)) { _ = im.pixels.count }
    return 0
}

runFuzzer(fuzzPNG)
