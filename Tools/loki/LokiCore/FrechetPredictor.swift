// Loki's prediction rule: the Fréchet mean of the model's probabilities over the label metric,
//
//   ŷ = argmin_{y ∈ Y} Σ_i p_i d²(λ_i, y)          p: [K] over the observed classes λ_i, y among N classes
//
// for a batch at once: the expected squared distances are S = P · D² ([B, K] × [K, N]), one GEMM per
// batch (the reference's `np.argmin(np.dot(probs, d[observed] ** 2), axis=1)`), then a scan of each
// row for its minimum (ties: the first class, as np.argmin) and, on request, its k smallest entries.
// The GEMM runs over blocks of columns so scratch memory stays at B × block floats whatever N is.
import CBLAS
import Foundation
import Runtime

public final class FrechetPredictor {
    public let distances: ObservedDistances

    public init(_ distances: ObservedDistances) {
        // invariant: observed lists come from readClassList (never empty), all classes (at least one,
        // MetricFiles.load) or a cache whose list was checked non-empty.
        precondition(!distances.observed.isEmpty, "FrechetPredictor: no observed classes")
        self.distances = distances
    }

    /// Observed classes (the length of each probability vector).
    public var k: Int { distances.observed.count }
    /// Classes in the label space.
    public var n: Int { distances.classes.count }

    public struct Prediction: Equatable {
        /// Class index of the Fréchet mean.
        public var best: Int
        /// Its expected squared distance Σ_i p_i d²(λ_i, ŷ) (the Fréchet variance).
        public var bestScore: Float
        /// With top > 0: the best classes and their expected squared distances, ascending.
        public var top: [Candidate]
    }

    public struct Candidate: Equatable {
        public var index: Int
        public var score: Float
    }

    /// `probs`: `rows` probability vectors of length k, back to back (each summing to 1 for the
    /// scores to be expectations; the argmin does not depend on it).
    public func predict(_ probs: [Float], rows: Int, top: Int = 0) -> [Prediction] {
        // invariant: callers append exactly k probabilities per row (ProbabilityInput.read checks the count).
        precondition(probs.count == rows * k, "FrechetPredictor: \(probs.count) values for \(rows) rows of \(k)")
        if rows == 0 { return [] }
        let n = self.n, k = self.k, keep = Swift.min(top, n)
        let block = Swift.min(n, Swift.max(512, (1 << 19) / rows))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows * block)
        defer { scratch.deallocate() }
        var results = [Prediction](repeating: Prediction(best: -1, bestScore: .infinity, top: []), count: rows)
        let d2 = distances.squared.data
        probs.withUnsafeBufferPointer { p in
            var j0 = 0
            while j0 < n {
                let bn = Swift.min(block, n - j0)
                // S[:, j0..<j0+bn] = P [rows, k] · D²[:, j0..<j0+bn] (leading dimension n)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(bn), Int32(k), 1,
                            p.baseAddress!, Int32(k), d2 + j0, Int32(n), 0, scratch, Int32(bn))  // invariant: rows, k >= 1
                results.withUnsafeMutableBufferPointer { res in
                    parallelFor(rows, grain: Swift.max(1, 262_144 / bn)) { range in
                        for r in range { scan(scratch + r * bn, bn, offset: j0, keep: keep, into: &res[r]) }
                    }
                }
                j0 += bn
            }
        }
        return results
    }

    /// Folds one row block of expected squared distances into a row's running minimum and top list.
    @inline(__always)
    private func scan(_ s: UnsafeMutablePointer<Float>, _ count: Int, offset: Int, keep: Int, into r: inout Prediction) {
        var best = r.bestScore, bestIndex = r.best
        for j in 0..<count where s[j] < best { best = s[j]; bestIndex = offset + j }
        r.best = bestIndex
        r.bestScore = best
        guard keep > 0 else { return }
        var worst = r.top.count == keep ? r.top[keep - 1].score : .infinity
        for j in 0..<count where s[j] < worst || r.top.count < keep {
            // Insert after equal scores so ties keep class order.
            var at = r.top.count
            while at > 0 && r.top[at - 1].score > s[j] { at -= 1 }
            if at >= keep { continue }
            r.top.insert(Candidate(index: offset + j, score: s[j]), at: at)
            if r.top.count > keep { r.top.removeLast() }
            if r.top.count == keep { worst = r.top[keep - 1].score }
        }
    }

    /// The rule written out as loops (Double sums): what the tests compare the GEMM path with.
    public static func naive(_ p: [Float], squared d2: Tensor) -> (best: Int, score: Double) {
        let k = d2.shape[0], n = d2.shape[1]
        var best = -1, bestScore = Double.infinity
        for y in 0..<n {
            var s = 0.0
            for i in 0..<k { s += Double(p[i]) * Double(d2.data[i * n + y]) }
            if s < bestScore { best = y; bestScore = s }
        }
        return (best, bestScore)
    }
}
