// The attention op and RoPE: values against a plain implementation, masks, and gradients against
// finite differences (tier 1).
import XCTest
@testable import Runtime

final class AttentionTests: XCTestCase {
    /// softmax(scale·QKᵀ + mask)·V written with the generic ops, per head, for comparison.
    private func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool, offset: Int = 0, pad: [[Bool]]? = nil,
                           window: Int? = nil, bias: Tensor? = nil) -> Tensor {
        let (b, tq, h, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3]), (tk, hkv) = (k.shape[1], k.shape[2])
        var rows: [Tensor] = []
        for bi in 0..<b {
            var heads: [Tensor] = []
            for hi in 0..<h {
                let qh = q[bi].slice(axis: 1, hi, hi + 1).reshaped([tq, d])
                let kh = k[bi].slice(axis: 1, hi / (h / hkv), hi / (h / hkv) + 1).reshaped([tk, d])
                let vh = v[bi].slice(axis: 1, hi / (h / hkv), hi / (h / hkv) + 1).reshaped([tk, d])
                var s = matmul(qh, kh, transposeB: true) * (1 / Float(d).squareRoot())
                if let bias { s = s + bias[bias.shape[0] == 1 ? 0 : bi][hi] }
                var m = [Float](repeating: 0, count: tq * tk)
                for i in 0..<tq {
                    for j in 0..<tk where (causal && j > offset + i) || (pad.map { !$0[bi][j] } ?? false)
                        || (causal && window.map { j <= offset + i - $0 } ?? false) { m[i * tk + j] = 1 }
                }
                s = s.maskedFill(Tensor(shape: [tq, tk], scalars: m), -1e30)
                heads.append(matmul(softmax(s, axis: -1), vh).reshaped([tq, 1, d]))
            }
            rows.append(concat(heads, axis: 1).unsqueezed(0))
        }
        return concat(rows, axis: 0)
    }

    func testMatchesPlainImplementation() {
        let rng = RandomGenerator(seed: 4)
        for (h, hkv, causal, tq, tk) in [(4, 4, false, 5, 5), (6, 2, true, 5, 5), (4, 1, true, 3, 7)] {
            let q = rng.normal([2, tq, h, 8]), k = rng.normal([2, tk, hkv, 8]), v = rng.normal([2, tk, hkv, 8])
            let pad = [[Bool]](repeating: (0..<tk).map { $0 != 1 }, count: 2)
            let offset = tk - tq
            let ours = attention(q, k, v, mask: AttentionMask(causal: causal, queryOffset: offset, keyPadding: pad))
            let want = reference(q, k, v, causal: causal, offset: offset, pad: pad)
            let diff = zip(ours.scalars, want.scalars).map { Swift.abs($0 - $1) }.max()!
            XCTAssertLessThan(diff, 1e-5, "h \(h) hkv \(hkv) causal \(causal)")
        }
    }

    /// Queries from another sequence (GLiClass's labels reading text tokens) over right-padded keys:
    /// every query row takes part, whatever the number of keys (the self-attention shortcut that
    /// skips padded query rows must not apply).
    func testCrossAttentionOverRightPaddedKeys() {
        let rng = RandomGenerator(seed: 9)
        let q = rng.normal([2, 2, 4, 2]), k = rng.normal([2, 7, 4, 2]), v = rng.normal([2, 7, 4, 2])
        let pad = [(0..<7).map { $0 < 4 }, (0..<7).map { $0 < 6 }]
        let ours = attention(q, k, v, mask: AttentionMask(keyPadding: pad))
        let want = reference(q, k, v, causal: false, pad: pad)
        XCTAssertLessThan(zip(ours.scalars, want.scalars).map { Swift.abs($0 - $1) }.max()!, 1e-5)
    }

    func testAdditiveBiasAndSlidingWindowMatchPlainImplementation() {
        let rng = RandomGenerator(seed: 7)
        let q = rng.normal([2, 4, 3, 8]), k = rng.normal([2, 6, 3, 8]), v = rng.normal([2, 6, 3, 8])
        for bias in [rng.normal([1, 3, 4, 6]), rng.normal([2, 3, 4, 6])] {
            let ours = attention(q, k, v, mask: AttentionMask(keyPadding: [[true, true, true, true, false, true], [true, true, true, true, true, true]]), bias: bias)
            let want = reference(q, k, v, causal: false, pad: [[true, true, true, true, false, true], [true, true, true, true, true, true]], bias: bias)
            XCTAssertLessThan(zip(ours.scalars, want.scalars).map { Swift.abs($0 - $1) }.max()!, 1e-5, "bias \(bias.shape)")
        }
        let windowed = attention(q, k, v, mask: AttentionMask(causal: true, queryOffset: 2, window: 3))
        let want = reference(q, k, v, causal: true, offset: 2, window: 3)
        XCTAssertLessThan(zip(windowed.scalars, want.scalars).map { Swift.abs($0 - $1) }.max()!, 1e-5, "sliding window")
        // A window as long as the sequence changes nothing.
        XCTAssertEqual(attention(q, k, v, mask: AttentionMask(causal: true, queryOffset: 2, window: 6)).scalars,
                       attention(q, k, v, mask: AttentionMask(causal: true, queryOffset: 2)).scalars)
    }

    func testKeyLengthUsesOnlyAPrefixAndEmptyRowsAreZero() {
        let rng = RandomGenerator(seed: 5)
        let q = rng.normal([1, 2, 2, 4]), k = rng.normal([1, 6, 2, 4]), v = rng.normal([1, 6, 2, 4])
        let prefix = attention(q, k, v, keyLength: 3)
        let sliced = attention(q, k.slice(axis: 1, 0, 3).copy().reshaped([1, 3, 2, 4]), v.slice(axis: 1, 0, 3).copy().reshaped([1, 3, 2, 4]))
        XCTAssertEqual(prefix.scalars, sliced.scalars)
        let none = attention(q, k, v, mask: AttentionMask(keyPadding: [[false, false, false, false, false, false]]))
        XCTAssertEqual(none.scalars, [Float](repeating: 0, count: none.count))
    }

    func testGradients() {
        let rng = RandomGenerator(seed: 6)
        gradCheck("attention gqa causal", [rng.normal([2, 3, 4, 4]), rng.normal([2, 3, 2, 4]), rng.normal([2, 3, 2, 4])], eps: 1e-3) {
            attention($0[0], $0[1], $0[2], mask: AttentionMask(causal: true))
        }
        gradCheck("attention padded", [rng.normal([1, 4, 2, 3]), rng.normal([1, 5, 2, 3]), rng.normal([1, 5, 2, 3])], eps: 1e-3) {
            attention($0[0], $0[1], $0[2], mask: AttentionMask(causal: true, queryOffset: 1, keyPadding: [[true, false, true, true, true]]))
        }
        gradCheck("attention with a shared bias", [rng.normal([2, 3, 2, 4]), rng.normal([2, 4, 2, 4]), rng.normal([2, 4, 2, 4]),
                                                   rng.normal([1, 2, 3, 4])], eps: 1e-3) {
            attention($0[0], $0[1], $0[2], mask: AttentionMask(keyPadding: [[true, true, false, true], [true, true, true, true]]), bias: $0[3])
        }
        gradCheck("attention with a per-sequence bias", [rng.normal([2, 3, 2, 4]), rng.normal([2, 3, 2, 4]), rng.normal([2, 3, 2, 4]),
                                                         rng.normal([2, 2, 3, 3])], eps: 1e-3) {
            attention($0[0], $0[1], $0[2], mask: AttentionMask(causal: true, window: 2), bias: $0[3])
        }
        gradCheck("relativeGather", [rng.normal([2, 3, 4, 6])], eps: 1e-3) { relativeGather($0[0], index: [0, 5, 2, 3, 1, 1, 4, 0, 2, 5, 3, 4], tq: 4, tk: 3) }
        gradCheck("relativeGather by keys", [rng.normal([1, 2, 3, 5])], eps: 1e-3) {
            relativeGather($0[0], index: [0, 4, 2, 3, 1, 1, 4, 0, 3, 2, 1, 0], tq: 4, tk: 3, byKeys: true)
        }
        let rope = RoPE(headDim: 6, theta: 100)
        let (c, s) = rope.tables(positions: [0, 3, 7])
        gradCheck("rope", [rng.normal([2, 3, 2, 6])], eps: 1e-3) { applyRoPE($0[0], cos: c, sin: s) }
    }

    func testRoPERotatesPairsAndPreservesNorms() {
        let rope = RoPE(headDim: 4, theta: 10000)
        let (c, s) = rope.tables(positions: [0, 1])
        let x = Tensor(shape: [1, 2, 1, 4], scalars: [1, 2, 3, 4, 1, 0, 0, 0])
        let y = applyRoPE(x, cos: c, sin: s)
        XCTAssertEqual(Array(y.scalars.prefix(4)), [1, 2, 3, 4])  // position 0: identity
        // position 1, pair (x0, x2) rotated by angle 1·inv_freq[0] = 1 radian.
        XCTAssertEqual(y.scalars[4], Foundation.cos(1), accuracy: 1e-6)
        XCTAssertEqual(y.scalars[6], Foundation.sin(1), accuracy: 1e-6)
    }
}
