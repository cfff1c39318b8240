// Fuzz harness: a GGUF file (metadata, tensor table, every tensor dequantized), the LLaMA config read
// from it and the tokenizer inside it.
import FuzzSupport
import Runtime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let path = fuzzFile(data, size, ext: "gguf")
    guard let f = try? GGUFFile(path: path) else { return 0 }
    for name in f.tensorNames { _ = try? f.tensor(name) }
    _ = try? LLaMAConfig.load(gguf: f)
    if let tok = try? Tokenizer.load(path: path) { _ = try? tok.encode("Hello, world! héllo 世界") }
    return 0
}

runFuzzer(fuzzGGUF)
