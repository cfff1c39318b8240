// Products with block-quantized weights (Checkpoint/QuantizedMatrix.swift) without expanding the whole
// matrix: y = x Wᵀ for W [N, K] kept in its GGUF format.
//
// One row while decoding (`RowPanels.matrixVectorRows`): the row is quantized per block of 32 to 8 bits
// (ggml's Q8_0/Q8_1) and every weight row's product is a sum of integer block products (the CQuant C
// module: AVX2 where the CPU has it, chosen at run time; K-quants by groups of 32 with their sub-scales;
// half-precision rows are multiplied with the float row instead). Rows split into fixed chunks over the
// threads: a row's value does not depend on the thread count. Everything else (prefill, batches, training): tiles of 256 weight rows are
// expanded to Float32 and multiplied by `gemm` (the float path's arithmetic on the same values), so only
// a tile per thread is ever expanded. The backward pass (LoRA or a prompt trained over a frozen
// quantized base) does the same with the tiles untransposed.
import CQuant

public enum QuantizedKernels {
    /// "avx2" or "portable": what this CPU runs.
    public static var name: String { String(cString: quant_kernel_name()) }
    /// Forces the portable C kernels (tests compare the two).
    public static func forcePortable(_ on: Bool) { quant_force_portable(on ? 1 : 0) }

    /// The 8-bit blocks decoding multiplies for activations `x` (a multiple of 32 values): scale d,
    /// d·Σq and the 32 values of each block.
    static func activationBlocks(_ x: [Float]) -> [(d: Float, s: Float, q: [Int8])] {
        var blocks = [quant_q8](repeating: quant_q8(), count: x.count / 32)
        quant_q8_row(x, Int32(x.count), &blocks)
        return blocks.map { b in
            var b = b
            let q = withUnsafeBytes(of: &b.q) { Array($0.bindMemory(to: Int8.self)) }
            return (b.d, b.s, q)
        }
    }
}

private let tileRows = 256

/// x [..., K] · Wᵀ → [..., N] for a quantized W [N, K].
public func quantizedLinear(_ x: Tensor, _ w: QuantizedMatrix) -> Tensor {
    let k = w.cols, n = w.rows
    precondition(x.shape.last == k, "quantizedLinear: input \(x.shape) for a [\(n), \(k)] weight")
    let m = x.count / max(k, 1)
    let out = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [n])
    if m == 1 && RowPanels.matrixVectorRows {
        quantizedMatrixVector(x.data, w, out.data)
    } else if m > 0 {
        let tiles = (n + tileRows - 1) / tileRows
        let xp = x.data, yp = out.data
        parallelFor(tiles, grain: 1) { range in
            let buf = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * k)
            defer { buf.deallocate() }
            for t in range {
                let r0 = t * tileRows, rows = min(tileRows, n - r0)
                w.dequantizeRows(r0, rows, into: buf)
                gemm(false, true, m, rows, k, xp, k, buf, k, yp + r0, n)
            }
        }
    }
    propagate(out, [x]) { x.tangent.map { quantizedLinear($0, w) } }
    return record(out, "quantizedLinear", [x]) { g in [quantizedLinearBackward(g, w)] }
}

/// g [..., N] · W → [..., K] (the input gradient of quantizedLinear).
func quantizedLinearBackward(_ g: Tensor, _ w: QuantizedMatrix) -> Tensor {
    let k = w.cols, n = w.rows, m = g.count / max(n, 1)
    let out = Tensor.zeros(Array(g.shape.dropLast()) + [k])
    let buf = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * k)
    defer { buf.deallocate() }
    for r0 in stride(from: 0, to: n, by: tileRows) {
        let rows = min(tileRows, n - r0)
        w.dequantizeRows(r0, rows, into: buf)
        gemm(false, false, m, k, rows, g.data + r0, n, buf, k, out.data, k, beta: 1)
    }
    return out
}

/// y[N] = W x for one activation row.
func quantizedMatrixVector(_ x: UnsafePointer<Float>, _ w: QuantizedMatrix, _ y: UnsafeMutablePointer<Float>) {
    let k = w.cols, n = w.rows, type = Int32(w.type.rawValue)
    let usesQ8 = quant_uses_q8(type) != 0
    let xq = UnsafeMutablePointer<quant_q8>.allocate(capacity: usesQ8 ? k / 32 : 1)
    defer { xq.deallocate() }
    if usesQ8 { quant_q8_row(x, Int32(k), xq) }
    let chunk = 64, chunks = (n + chunk - 1) / chunk
    let base = w.base, rowBytes = w.rowBytes
    parallelFor(chunks, grain: max(1, (1 << 17) / max(chunk * k, 1))) { range in
        for c in range {
            let r0 = c * chunk, rows = min(chunk, n - r0)
            quant_matvec(type, base, rowBytes, Int32(k), Int32(r0), Int32(rows), usesQ8 ? xq : nil, x, y + r0)
        }
    }
}
