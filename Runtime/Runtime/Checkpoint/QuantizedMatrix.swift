// QuantizedMatrix: a weight matrix [rows, cols] kept in its GGUF block format (GGUFQuant.swift) instead
// of being expanded to Float32: a view into the mapped file, or an owned copy when its rows had to be
// reordered (llama.cpp's Q/K row order). Layers multiply it directly (Ops/QuantizedMatmul.swift); it
// expands to Float32 only where something needs the float weights (training it, a zeroth-order
// perturbation, saving).
import CQuant
import Foundation

public final class QuantizedMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let rows: Int, cols: Int
    /// Bytes per row (cols / blockSize blocks).
    public let rowBytes: Int
    let base: UnsafeRawPointer
    private let owner: AnyObject?
    private let owned: UnsafeMutableRawPointer?

    /// A view of `rows` rows starting at `base`, kept alive by `owner`.
    init(type: GGMLType, rows: Int, cols: Int, base: UnsafeRawPointer, owner: AnyObject) {
        precondition(cols % type.blockSize == 0, "QuantizedMatrix: \(cols) columns for \(type) blocks of \(type.blockSize)")
        (self.type, self.rows, self.cols) = (type, rows, cols)
        rowBytes = cols / type.blockSize * type.blockBytes
        self.base = base
        self.owner = owner
        owned = nil
    }

    /// An owned matrix whose row i is `rowBytes` bytes written by `fill(i, destination)`.
    private init(type: GGMLType, rows: Int, cols: Int, fill: (Int, UnsafeMutableRawPointer) -> Void) {
        precondition(cols % type.blockSize == 0, "QuantizedMatrix: \(cols) columns for \(type) blocks of \(type.blockSize)")
        (self.type, self.rows, self.cols) = (type, rows, cols)
        rowBytes = cols / type.blockSize * type.blockBytes
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(rows * rowBytes, 1), alignment: 64)
        for i in 0..<rows { fill(i, p + i * rowBytes) }
        owned = p
        base = UnsafeRawPointer(p)
        owner = nil
    }

    /// An owned copy of `source` whose row i is source's row `order(i)`.
    public convenience init(reordering source: QuantizedMatrix, _ order: (Int) -> Int) {
        self.init(type: source.type, rows: source.rows, cols: source.cols) { i, dst in
            dst.copyMemory(from: source.base + order(i) * source.rowBytes, byteCount: source.rowBytes)
        }
    }

    /// A matrix from its raw blocks (rows × cols/blockSize blocks, row-major), copied.
    public convenience init(type: GGMLType, rows: Int, cols: Int, bytes: [UInt8]) {
        precondition(bytes.count == rows * (cols / type.blockSize) * type.blockBytes, "QuantizedMatrix: \(bytes.count) bytes for [\(rows), \(cols)] \(type)")
        let rb = cols / type.blockSize * type.blockBytes
        self.init(type: type, rows: rows, cols: cols) { i, dst in
            bytes.withUnsafeBytes { dst.copyMemory(from: $0.baseAddress! + i * rb, byteCount: rb) }
        }
    }

    deinit { owned?.deallocate() }

    public var shape: [Int] { [rows, cols] }
    public var byteCount: Int { rows * rowBytes }

    /// Rows [r0, r0 + n) as Float32, exactly as ggml dequantizes them (the CQuant expansion: the bits of
    /// GGUFQuant.swift's `dequantize`, vectorized), into `dst` ([n, cols]).
    func dequantizeRows(_ r0: Int, _ n: Int, into dst: UnsafeMutablePointer<Float>) {
        quant_expand_rows(Int32(type.rawValue), base, rowBytes, Int32(cols), Int32(r0), Int32(n), dst)
    }

    /// The whole matrix as Float32 [rows, cols].
    public func dequantized() -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        let dst = out.data
        parallelFor(rows, grain: max(1, 4096 * 32 / max(cols, 1))) { r in dequantizeRows(r.lowerBound, r.count, into: dst + r.lowerBound * cols) }
        return out
    }

    /// Rows `ids` as Float32 [ids.count, cols] (an embedding lookup).
    public func gatherRows(_ ids: [Int]) -> Tensor {
        let out = Tensor(uninitializedShape: [ids.count, cols])
        for (i, r) in ids.enumerated() {
            precondition(r >= 0 && r < rows, "QuantizedMatrix: row \(r) outside \(rows) rows")
            dequantizeRows(r, 1, into: out.data + i * cols)
        }
        return out
    }
}

extension GGUFFile {
    /// Tensor `name` in its stored block format when it is a matrix of a format the quantized kernels
    /// multiply (every type but F32, which maps as floats without a copy); nil otherwise.
    public func quantizedMatrix(_ name: String) -> QuantizedMatrix? {
        guard let info = info(name), info.shape.count == 2, info.type != .f32 else { return nil }
        return QuantizedMatrix(type: info.type, rows: info.shape[0], cols: info.shape[1],
                               base: UnsafeRawPointer(file.bytes.baseAddress! + info.fileOffset), owner: file)
    }
}
