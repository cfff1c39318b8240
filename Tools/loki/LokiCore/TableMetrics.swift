// Metrics given as numbers: an explicit distance matrix, and class embeddings.
//
// MatrixMetric keeps the N×N matrix as given (plain or, with `squared`, squared distances).
// EmbeddingMetric keeps the N×D embeddings; D² rows come from one GEMM: ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b
// (clamped at 0, exactly 0 on the diagonal), or for cosine (1 − a·b/(‖a‖‖b‖))².
import CBLAS
import Foundation
import Runtime

public final class MatrixMetric: LabelMetric {
    public let classes: [String]
    /// Row-major N×N values.
    let values: [Float]
    /// The values are squared distances.
    let squared: Bool

    public init(classes: [String], values: [Float], squared: Bool) {
        // invariant: MetricFiles.matrix counts N values per row for N rows before building it.
        precondition(values.count == classes.count * classes.count, "MatrixMetric: \(values.count) values for \(classes.count) classes")
        self.classes = classes
        self.values = values
        self.squared = squared
    }

    public func distance(_ i: Int, _ j: Int) -> Float {
        let v = values[i * classes.count + j]
        return squared ? v.squareRoot() : v
    }

    public func distanceRow(_ i: Int) -> [Float] { (0..<classes.count).map { distance(i, $0) } }

    public func squaredDistanceRows(_ rows: [Int]) -> Tensor {
        let n = classes.count
        let out = Tensor(uninitializedShape: [rows.count, n])
        values.withUnsafeBufferPointer { v in
            for (k, i) in rows.enumerated() {
                for j in 0..<n {
                    let x = v[i * n + j]
                    out.data[k * n + j] = squared ? x : x * x
                }
            }
        }
        return out
    }

    /// The first violation of d(i, i) = 0, d ≥ 0, finite, d(i, j) = d(j, i) (relative 1e-5), if any.
    public func metricViolation() -> String? {
        let n = classes.count
        for i in 0..<n {
            if values[i * n + i] != 0 { return "d('\(classes[i])', '\(classes[i])') = \(values[i * n + i]), not 0" }
            for j in 0..<n {
                let a = values[i * n + j], b = values[j * n + i]
                if !a.isFinite || a < 0 { return "d('\(classes[i])', '\(classes[j])') = \(a) is not a finite non-negative distance" }
                if i != j && a == 0 { return "d('\(classes[i])', '\(classes[j])') = 0 between different classes" }
                if Swift.abs(a - b) > 1e-5 * Swift.max(Swift.abs(a), Swift.abs(b)) {
                    return "the matrix is not symmetric: d('\(classes[i])', '\(classes[j])') = \(a) but d('\(classes[j])', '\(classes[i])') = \(b)"
                }
            }
        }
        return nil
    }
}

public final class EmbeddingMetric: LabelMetric {
    public let classes: [String]
    public let kind: EmbeddingDistance
    /// [N, D]
    public let embeddings: Tensor
    /// ‖e_i‖² (Euclidean) or ‖e_i‖ (cosine), per class.
    let norms: [Float]

    public init(classes: [String], embeddings: Tensor, kind: EmbeddingDistance) {
        // invariant: MetricFiles.embeddings builds [N, D] from N rows of D numbers.
        precondition(embeddings.rank == 2 && embeddings.shape[0] == classes.count, "EmbeddingMetric: embeddings \(embeddings.shape) for \(classes.count) classes")
        self.classes = classes
        self.embeddings = embeddings
        self.kind = kind
        let d = embeddings.shape[1], e = embeddings.data
        norms = (0..<classes.count).map { i in
            var s: Float = 0
            for k in 0..<d { s += e[i * d + k] * e[i * d + k] }
            return kind == .euclidean ? s : s.squareRoot()
        }
    }

    public var dimension: Int { embeddings.shape[1] }

    /// Plain loop (the tests' reference for the GEMM rows).
    public func distance(_ i: Int, _ j: Int) -> Float {
        if i == j { return 0 }
        let d = dimension, e = embeddings.data
        var acc: Float = 0
        switch kind {
        case .euclidean:
            for k in 0..<d { let x = e[i * d + k] - e[j * d + k]; acc += x * x }
            return acc.squareRoot()
        case .cosine:
            for k in 0..<d { acc += e[i * d + k] * e[j * d + k] }
            return 1 - acc / Swift.max(norms[i] * norms[j], 1e-12)
        }
    }

    public func distanceRow(_ i: Int) -> [Float] { (0..<classes.count).map { distance(i, $0) } }

    public func squaredDistanceRows(_ rows: [Int]) -> Tensor {
        let n = classes.count, d = dimension, k = rows.count
        let picked = embeddings.indexSelect(axis: 0, rows)  // [K, D]
        let out = Tensor(uninitializedShape: [k, n])
        if k > 0 && n > 0 {
            // G = E_rows · Eᵀ: [K, D] × [D, N]
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(k), Int32(n), Int32(d), 1,
                        picked.data, Int32(d), embeddings.data, Int32(d), 0, out.data, Int32(n))
        }
        let o = out.data
        parallelFor(k, grain: max(1, 65_536 / max(n, 1))) { range in
            for r in range {
                let i = rows[r]
                for j in 0..<n {
                    let g = o[r * n + j]
                    let v: Float
                    switch kind {
                    case .euclidean: v = Swift.max(0, norms[i] + norms[j] - 2 * g)
                    case .cosine: let c = 1 - g / Swift.max(norms[i] * norms[j], 1e-12); v = c * c
                    }
                    o[r * n + j] = v
                }
                o[r * n + i] = 0
            }
        }
        return out
    }
}
