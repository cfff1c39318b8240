// Matrix products through cblas_sgemm, with BLAS's transpose flags instead of copies.
//
// matmul(a, b): a [..., M, K] (or [..., K, M] with transposeA), b [K, N] (or [N, K] with transposeB)
// or batched b [..., K, N]; batch axes broadcast. When b is a plain matrix and a is not transposed,
// a's batch axes fold into M: one GEMM for the whole batch (the Linear layer's case).
// `matmulNaive` is the triple loop the tests compare against.
import CBLAS

/// C = op(A)·op(B) (+ beta·C) with explicit leading dimensions (row-major): kernels that read
/// interleaved layouts (heads inside rows) without copying call this directly.
///
/// Products split into tiles of at most 252 rows × 384 columns (decided by the shapes alone), each a
/// single-threaded BLAS call, the tiles spread over the runtime's threads: every output element is
/// computed the same way for any thread count.
///
/// Rows are also computed the same way whatever the other rows are (a record's result does not depend
/// on its batch neighbours): OpenBLAS's kernels treat a row according to its position within a panel of
/// R rows and give a partial last panel other code (R = 12 for its Haswell/Zen sgemm), so every product
/// with op(A) = A runs on whole panels, the last one through a zero-padded copy; callers that lay
/// sequences out at multiples of R (TokenBatch) then get the bits a sequence gets alone. R is measured
/// once per process from the kernel in use (`RowPanels.size`). One-row products are matrix-vector
/// products split into fixed 1,024-column chunks only where a caller asks for that (decoding:
/// `RowPanels.withMatrixVectorRows`); elsewhere a single row is a panel like any other.
public func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                 _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int, alpha: Float = 1, beta: Float = 0) {
    guard m > 0 && n > 0 else { return }
    if k == 0 {
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
        return
    }
    if m == 1 && !transA && RowPanels.matrixVectorRows {
        // y = op(B)ᵀ a: B [K, N] → Trans over [K, cols]; B [N, K] (transB) → NoTrans over [rows, K].
        let chunk = 1024, chunks = (n + chunk - 1) / chunk
        parallelFor(chunks, grain: max(1, (1 << 18) / max(chunk * k, 1))) { range in
            for t in range {
                let j0 = t * chunk, w = min(chunk, n - j0)
                if transB {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(w), Int32(k), alpha, b + j0 * ldb, Int32(ldb), a, 1, beta, c + j0, 1)
                } else {
                    cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(w), alpha, b + j0, Int32(ldb), a, 1, beta, c + j0, 1)
                }
            }
        }
        return
    }
    if RowPanels.rowsAlone && !transA && m > 1 {
        // Each row as the first row of its own zero-padded panel (below): its bits cannot depend on
        // where the caller's batch put it.
        for i in 0..<m { gemm(false, transB, 1, n, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, alpha: alpha, beta: beta) }
        return
    }
    let r = transA ? 1 : RowPanels.size
    let whole = m - m % r
    if whole > 0 { tiledGEMM(transA, transB, whole, n, k, a, lda, b, ldb, c, ldc, alpha: alpha, beta: beta, panel: r) }
    if whole < m {
        // The last partial panel through a zero-padded copy of its rows (and of C's, when beta ≠ 0).
        let rows = m - whole
        let pa = UnsafeMutablePointer<Float>.allocate(capacity: r * k), pc = UnsafeMutablePointer<Float>.allocate(capacity: r * n)
        defer { pa.deallocate(); pc.deallocate() }
        pa.initialize(repeating: 0, count: r * k)
        pc.initialize(repeating: 0, count: r * n)
        for i in 0..<rows {
            (pa + i * k).update(from: a + (whole + i) * lda, count: k)
            if beta != 0 { (pc + i * n).update(from: c + (whole + i) * ldc, count: n) }
        }
        tiledGEMM(false, transB, r, n, k, pa, k, b, ldb, pc, n, alpha: alpha, beta: beta, panel: r)
        for i in 0..<rows { (c + (whole + i) * ldc).update(from: pc + i * n, count: n) }
    }
}

/// The fixed tiling over the threads (tile rows a multiple of `panel`).
private func tiledGEMM(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                       _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                       _ c: UnsafeMutablePointer<Float>, _ ldc: Int, alpha: Float, beta: Float, panel: Int) {
    let tm = max(panel, 256 / panel * panel), tn = 384
    let mt = (m + tm - 1) / tm, nt = (n + tn - 1) / tn
    parallelFor(mt * nt, grain: max(1, (1 << 20) / max(min(m, tm) * min(n, tn) * k, 1))) { range in
        for t in range {
            let i0 = (t / nt) * tm, j0 = (t % nt) * tn
            let rows = min(tm, m - i0), cols = min(tn, n - j0)
            let ap = transA ? a + i0 : a + i0 * lda
            let bp = transB ? b + j0 * ldb : b + j0
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(rows), Int32(cols), Int32(k), alpha, ap, Int32(lda), bp, Int32(ldb), beta,
                        c + i0 * ldc + j0, Int32(ldc))
        }
    }
}

/// How OpenBLAS's kernel in use groups rows, measured once, and the decoding switch for one-row products.
public enum RowPanels {
    /// The smallest R (of 1, 2, 4, 8, 12, 16, 24, 32, 48, 64) for which a row gives the same bits at
    /// every position that is a multiple of R of a product whose row count is a multiple of R.
    public static let size: Int = measure()

    /// Whether one-row products use matrix-vector BLAS (faster for decoding one token; not the bits of a
    /// row computed inside a panel).
    public nonisolated(unsafe) static var matrixVectorRows = false

    /// Whether every row of a product is computed alone, at the start of its own panel (`withRowsAlone`).
    public nonisolated(unsafe) static var rowsAlone = false

    /// Runs `body` with every row of its products computed as if it were the only row: for per-record
    /// vectors stacked in a batch (pooled texts, label vectors), whose positions within a panel would
    /// otherwise change with the batch (TokenBatch aligns whole sequences instead). Costs R× the
    /// multiply-adds of those products.
    public static func withRowsAlone<T>(_ body: () throws -> T) rethrows -> T {
        let saved = rowsAlone
        rowsAlone = true
        defer { rowsAlone = saved }
        return try body()
    }

    /// Runs `body` with one-row products as matrix-vector products (a decoder's token-by-token steps).
    public static func withMatrixVectorRows<T>(_ body: () throws -> T) rethrows -> T {
        let saved = matrixVectorRows
        matrixVectorRows = true
        defer { matrixVectorRows = saved }
        return try body()
    }

    static func measure() -> Int {
        let k = 40, n = 36
        let w = RandomGenerator(seed: 7, stream: 1).normal([n, k]), x = RandomGenerator(seed: 7, stream: 2).normal([4, k])
        for r in [1, 2, 4, 8, 12, 16, 24, 32, 48, 64] {
            var seen: [UInt32]? = nil
            var same = true
            outer: for m in [r, 2 * r, 3 * r, 5 * r] {
                for p in stride(from: 0, to: m, by: r) {
                    let buf = RandomGenerator(seed: 7, stream: UInt64(3 + m * 100 + p)).normal([m, k])
                    let rows = min(4, m - p)
                    for i in 0..<rows { (buf.data + (p + i) * k).update(from: x.data + i * k, count: k) }
                    var c = [Float](repeating: 0, count: m * n)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, buf.data, Int32(k),
                                w.data, Int32(k), 0, &c, Int32(n))
                    let bits = c[(p * n)..<((p + rows) * n)].map(\.bitPattern)
                    if let s = seen, s != bits { same = false; break outer }
                    seen = bits
                }
            }
            if same { return r }
        }
        return 1
    }
}

/// C[M, N] = op(A) op(B) (+ beta C), row-major, contiguous operands (through `gemm`).
@inline(__always)
func sgemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
           _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
           beta: Float = 0) {
    gemm(transA, transB, m, n, k, a, transA ? m : k, b, transB ? k : n, c, n, beta: beta)
}

public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul: operands need rank >= 2, got \(a.shape) and \(b.shape)")
    let (m, ka) = transposeA ? (a.shape[a.rank - 1], a.shape[a.rank - 2]) : (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (kb, n) = transposeB ? (b.shape[b.rank - 1], b.shape[b.rank - 2]) : (b.shape[b.rank - 2], b.shape[b.rank - 1])
    precondition(ka == kb, "matmul: inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "")")
    let k = ka
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    let batch = broadcastShape(batchA, batchB)
    let out = Tensor(uninitializedShape: batch + [m, n])

    if batchB.isEmpty && !transposeA {
        // Fold a's batch into rows: [B*M, K] × [K, N].
        sgemm(false, transposeB, batch.reduce(1, *) * m, n, k, a.data, b.data, out.data)
    } else {
        let sa = broadcastStrides(batchA, to: batch), sb = broadcastStrides(batchB, to: batch)
        let count = batch.reduce(1, *)
        var ia = 0, ib = 0
        var index = [Int](repeating: 0, count: batch.count)
        for i in 0..<count {
            sgemm(transposeA, transposeB, m, n, k, a.data + ia * m * k, b.data + ib * k * n, out.data + i * m * n)
            var d = batch.count - 1
            while d >= 0 {
                index[d] += 1; ia += sa[d]; ib += sb[d]
                if index[d] < batch[d] { break }
                ia -= sa[d] * batch[d]; ib -= sb[d] * batch[d]; index[d] = 0; d -= 1
            }
        }
    }

    propagate(out, [a, b]) { tangentSum(a.tangent.map { matmul($0, b.detach(), transposeA: transposeA, transposeB: transposeB) }, b.tangent.map { matmul(a.detach(), $0, transposeA: transposeA, transposeB: transposeB) }) }

    return record(out, "matmul", [a, b]) { g in
        var ga: Tensor? = nil, gb: Tensor? = nil
        if a.requiresGrad {
            switch (transposeA, transposeB) {
            case (false, false): ga = matmul(g, b, transposeB: true)
            case (false, true): ga = matmul(g, b)
            case (true, false): ga = matmul(b, g, transposeB: true)
            case (true, true): ga = matmul(b, g, transposeA: true, transposeB: true)
            }
            ga = sumToShape(ga!, a.shape)
        }
        if b.requiresGrad {
            switch (transposeA, transposeB) {
            case (false, false): gb = batchB.isEmpty ? matmul(a.flattened(to: -2), g.flattened(to: -2), transposeA: true)
                                                     : matmul(a, g, transposeA: true)
            case (false, true): gb = batchB.isEmpty ? matmul(g.flattened(to: -2), a.flattened(to: -2), transposeA: true)
                                                    : matmul(g, a, transposeA: true)
            case (true, false): gb = matmul(a, g)
            case (true, true): gb = matmul(g, a, transposeA: true, transposeB: true)
            }
            gb = sumToShape(gb!, b.shape)
        }
        return [ga, gb]
    }
}

/// The plain triple loop (Double accumulation), for tests of `matmul`.
public func matmulNaive(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2, "matmulNaive: matrices only")
    let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
    let n = transposeB ? b.shape[0] : b.shape[1]
    precondition(k == (transposeB ? b.shape[1] : b.shape[0]), "matmulNaive: inner dimensions differ")
    let out = Tensor(uninitializedShape: [m, n])
    let pa = a.data, pb = b.data, o = out.data
    for i in 0..<m {
        for j in 0..<n {
            var acc = 0.0
            for l in 0..<k {
                let x = transposeA ? pa[l * m + i] : pa[i * k + l]
                let y = transposeB ? pb[j * k + l] : pb[l * n + j]
                acc += Double(x) * Double(y)
            }
            o[i * n + j] = Float(acc)
        }
    }
    return out
}
