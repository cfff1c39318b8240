// LM-Infinite's bounded attention against a dense implementation of the Λ mask (and of StreamingLLM's),
// computed in Double with absolute positions; chunked prefill against token-by-token decoding.
import Foundation
import XCTest
import ToolTestSupport
import Runtime
@testable import LMInfiniteCore

final class BoundedAttentionTests: XCTestCase {
    static let tiny = Repo.path("data/fixtures/llama/tiny-gqa-tied")  // 6 heads, 2 kv heads, head dim 8

    /// Rotation of one head vector x (length D) by position p, in Double, with the model's frequencies.
    private func rotate(_ x: [Double], _ p: Int, _ inv: [Float]) -> [Double] {
        let half = x.count / 2
        var y = x
        for i in 0..<half {
            let a = Double(p) * Double(inv[i]), c = cos(a), s = sin(a)
            y[i] = x[i] * c - x[i + half] * s
            y[i + half] = x[i + half] * c + x[i] * s
        }
        return y
    }

    private enum Rule { case lambda(globals: Int, window: Int, distance: Int), streaming(sinks: Int, window: Int) }

    /// Dense attention of n queries over n keys with the rule's mask and distances; optional top-k
    /// middle tokens for the queries at the given positions. q: [n, H, D], k, v: [n, Hkv, D].
    private func dense(_ q: Tensor, _ k: Tensor, _ v: Tensor, rule: Rule, inv: [Float],
                       topK: (k: Int, distance: Int, queries: Set<Int>)? = nil) -> [Double] {
        let (n, h, d, hkv) = (q.shape[0], q.shape[1], q.shape[2], k.shape[1])
        func vec(_ t: Tensor, _ i: Int, _ head: Int, _ heads: Int) -> [Double] { (0..<d).map { Double(t.data[(i * heads + head) * d + $0]) } }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var out = [Double](repeating: 0, count: n * h * d)
        let scale = 1 / Double(d).squareRoot()
        for p in 0..<n {
            for head in 0..<h {
                let kh = head / (h / hkv), qv = vec(q, p, head, h)
                var scores: [(Double, Int)] = []
                for j in 0...p {
                    let kv = vec(k, j, kh, hkv)
                    switch rule {
                    case let .lambda(g, w, dist):
                        if j > p - w { scores.append((dot(rotate(qv, p, inv), rotate(kv, j, inv)) * scale, j)) }
                        else if j < g { scores.append((dot(rotate(qv, dist, inv), kv) * scale, j)) }
                    case let .streaming(s, w):
                        if j > p - w { scores.append((dot(rotate(qv, p, inv), rotate(kv, j, inv)) * scale, j)) }
                        else if j < s { scores.append((dot(rotate(qv, min(p, s + w - 1), inv), rotate(kv, j, inv)) * scale, j)) }
                    }
                }
                if let t = topK, t.queries.contains(p), case let .lambda(g, w, _) = rule, p - w + 1 - g >= t.k {
                    let middle = (g..<(p - w + 1)).map { j in (dot(rotate(qv, t.distance, inv), vec(k, j, kh, hkv)) * scale, j) }
                    scores += middle.sorted { $0.0 > $1.0 }.prefix(t.k)
                }
                let m = scores.map(\.0).max()!
                let z = scores.reduce(0) { $0 + exp($1.0 - m) }
                for (s, j) in scores {
                    let w = exp(s - m) / z, vv = vec(v, j, kh, hkv)
                    for t in 0..<d { out[(p * h + head) * d + t] += w * vv[t] }
                }
            }
        }
        return out
    }

    /// Feeds q, k, v through the backend in the given chunk sizes (cut at epochs) and collects outputs.
    private func run(_ backend: BoundedAttention, _ q: Tensor, _ k: Tensor, _ v: Tensor, chunk: Int) -> [Float] {
        var out: [Float] = []
        var start = 0
        let n = q.shape[0]
        while start < n {
            let c = min(chunk, n - start, backend.maxChunk)
            let piece = { (t: Tensor) in t.slice(axis: 0, start, start + c).copy().unsqueezed(0) }
            out += withoutGrad { backend.attend(layer: 0, q: piece(q), k: piece(k), v: piece(v)) }.scalars
            backend.advance(by: c)
            start += c
        }
        return out
    }

    func testLambdaAndStreamingEqualTheDenseMask() throws {
        let model = try LLaMAModel.load(path: Self.tiny)
        let inv = model.rope.invFreq
        let rng = RandomGenerator(seed: 21)
        let n = 45
        let q = rng.normal([n, 6, 8]), k = rng.normal([n, 2, 8]), v = rng.normal([n, 2, 8])
        let cases: [(String, Rule, () -> BoundedAttention)] = [
            ("lambda G3 L8 D8", .lambda(globals: 3, window: 8, distance: 8),
             { BoundedAttention(model: model, window: 8, globals: 3, globalDistance: .fixed(8)) }),
            ("lambda G0 L7 D7", .lambda(globals: 0, window: 7, distance: 7),
             { BoundedAttention(model: model, window: 7, globals: 0, globalDistance: .fixed(7)) }),
            ("lambda G10 L6 D11", .lambda(globals: 10, window: 6, distance: 11),
             { BoundedAttention(model: model, window: 6, globals: 10, globalDistance: .fixed(11)) }),
            ("streaming S4 W9", .streaming(sinks: 4, window: 9),
             { BoundedAttention(model: model, window: 9, globals: 4, globalDistance: .cacheIndex) }),
        ]
        for (name, rule, make) in cases {
            let want = dense(q, k, v, rule: rule, inv: inv)
            for chunk in [1, 3, 64] {
                let got = run(make(), q, k, v, chunk: chunk)
                let diff = zip(got, want).map { Swift.abs(Double($0) - $1) }.max()!
                XCTAssertLessThan(diff, 1e-5, "\(name), chunks of \(chunk): max |diff| \(diff)")
            }
        }
    }

    func testTopKMiddleTokensForTheLastQueryOfEachPass() throws {
        let model = try LLaMAModel.load(path: Self.tiny)
        let rng = RandomGenerator(seed: 22)
        let n = 30
        let q = rng.normal([n, 6, 8]), k = rng.normal([n, 2, 8]), v = rng.normal([n, 2, 8])
        // One token per pass: every query is the last of its pass.
        let backend = BoundedAttention(model: model, window: 6, globals: 2, globalDistance: .fixed(6),
                                       topK: TopKOptions(k: 3, distance: 9, fromLayer: 0))
        let got = run(backend, q, k, v, chunk: 1)
        let want = dense(q, k, v, rule: .lambda(globals: 2, window: 6, distance: 6), inv: model.rope.invFreq,
                         topK: (3, 9, Set(0..<n)))
        XCTAssertLessThan(zip(got, want).map { Swift.abs(Double($0) - $1) }.max()!, 1e-5)
    }

    func testRoPEAnglesStayBoundedDeepIntoASequence() throws {
        // The same tokens placed near position 1,000,003 give what they give near 0: only relative
        // positions matter, and no angle grows with the absolute position. (Without globals, query t ≥ 7
        // sees only tokens of this segment in its window of 8.)
        let model = try LLaMAModel.load(path: Self.tiny)
        let rng = RandomGenerator(seed: 23)
        let q = rng.normal([20, 6, 8]), k = rng.normal([20, 2, 8]), v = rng.normal([20, 2, 8])
        let near = run(BoundedAttention(model: model, window: 8, globals: 0, globalDistance: .fixed(8)), q, k, v, chunk: 4)
        let far = BoundedAttention(model: model, window: 8, globals: 0, globalDistance: .fixed(8))
        far.advance(by: 1_000_003)
        let farOut = run(far, q, k, v, chunk: 4)
        let row = 6 * 8
        let diff = zip(near.dropFirst(7 * row), farOut.dropFirst(7 * row)).map { Swift.abs($0 - $1) }.max()!
        XCTAssertLessThan(diff, 1e-5)
    }
}
