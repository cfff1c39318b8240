// matmul: BLAS against the naive triple loop on random shapes (plain, transposed, batched, broadcast
// batches, transformer-like shapes scaled down, K = 0 and size-1 dims), and gradient checks.
import XCTest
@testable import Runtime

final class MatmulTests: XCTestCase {
    /// Batched reference: matmulNaive on every (broadcast) pair of matrices.
    private func reference(_ a: Tensor, _ b: Tensor, _ ta: Bool, _ tb: Bool) -> Tensor {
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = broadcastShape(batchA, batchB)
        let ma = a.shape.suffix(2), mb = b.shape.suffix(2)
        let sizeA = ma.reduce(1, *), sizeB = mb.reduce(1, *)
        let strideA = broadcastStrides(batchA, to: batch), strideB = broadcastStrides(batchB, to: batch)
        var outs: [Tensor] = []
        let count = batch.reduce(1, *)
        for i in 0..<count {
            var rem = i, ia = 0, ib = 0
            for d in stride(from: batch.count - 1, through: 0, by: -1) {
                let idx = rem % batch[d]; rem /= batch[d]
                ia += idx * strideA[d]; ib += idx * strideB[d]
            }
            let am = Tensor(shape: Array(ma), scalars: Array(UnsafeBufferPointer(start: a.data + ia * sizeA, count: sizeA)))
            let bm = Tensor(shape: Array(mb), scalars: Array(UnsafeBufferPointer(start: b.data + ib * sizeB, count: sizeB)))
            outs.append(matmulNaive(am, bm, transposeA: ta, transposeB: tb))
        }
        let m = outs[0].shape
        return Tensor(shape: batch + m, scalars: outs.flatMap(\.scalars))
    }

    private func check(_ sa: [Int], _ sb: [Int], _ ta: Bool = false, _ tb: Bool = false, seed: UInt64,
                       file: StaticString = #filePath, line: UInt = #line) {
        let a = randn(sa, seed: seed), b = randn(sb, seed: seed &+ 1000)
        let got = matmul(a, b, transposeA: ta, transposeB: tb)
        let want = reference(a, b, ta, tb)
        assertClose(got, want, atol: 1e-4, rtol: 1e-4, "matmul \(sa)\(ta ? "ᵀ" : "") × \(sb)\(tb ? "ᵀ" : "")",
                    file: file, line: line)
    }

    func testNaiveHandComputed() {
        let a = T([2, 3], [1, 2, 3, 4, 5, 6]), b = T([3, 2], [7, 8, 9, 10, 11, 12])
        assertClose(matmulNaive(a, b), shape: [2, 2], [58, 64, 139, 154])
        assertClose(matmul(a, b), shape: [2, 2], [58, 64, 139, 154])
        assertClose(matmulNaive(a, a, transposeB: true), shape: [2, 2], [14, 32, 32, 77])
        assertClose(matmulNaive(a, a, transposeA: true), shape: [3, 3], [17, 22, 27, 22, 29, 36, 27, 36, 45])
        assertClose(matmul(b, a, transposeA: true, transposeB: true), shape: [2, 2], [58, 139, 64, 154])  // (AB)ᵀ
    }

    func testAgainstNaiveRandomShapes() {
        var seed: UInt64 = 1
        let gen = RandomGenerator(seed: 77)
        for _ in 0..<40 {
            let m = 1 + gen.nextInt(below: 9), k = 1 + gen.nextInt(below: 17), n = 1 + gen.nextInt(below: 9)
            for ta in [false, true] {
                for tb in [false, true] {
                    check(ta ? [k, m] : [m, k], tb ? [n, k] : [k, n], ta, tb, seed: seed)
                    seed += 1
                }
            }
        }
    }

    func testBatchedAndBroadcast() {
        for ta in [false, true] {
            for tb in [false, true] {
                let (m, k, n) = (3, 5, 4)
                let sa = ta ? [k, m] : [m, k], sb = tb ? [n, k] : [k, n]
                check([2] + sa, [2] + sb, ta, tb, seed: 10)                    // batched
                check([2, 1] + sa, [3] + sb, ta, tb, seed: 11)                 // broadcast batch
                check([1, 3] + sa, [2, 1] + sb, ta, tb, seed: 12)              // both stretched
                check([2, 3] + sa, sb, ta, tb, seed: 13)                       // batched by a plain matrix
                check(sa, [4] + sb, ta, tb, seed: 14)                          // plain by batched
            }
        }
    }

    func testTransformerShapes() {
        // Scaled down: B 2, T 7, D 16, heads 4 (head dim 4), MLP 32, vocab 11.
        check([2, 7, 16], [48, 16], false, true, seed: 20)          // fused QKV projection (Linear: x Wᵀ)
        check([2, 4, 7, 4], [2, 4, 7, 4], false, true, seed: 21)    // scores Q Kᵀ
        check([2, 4, 7, 7], [2, 4, 7, 4], seed: 22)                 // attention × V
        check([2, 7, 16], [32, 16], false, true, seed: 23)          // MLP up
        check([2, 7, 32], [16, 32], false, true, seed: 24)          // MLP down
        check([14, 16], [11, 16], false, true, seed: 25)            // LM head
        check([2, 2, 7, 4], [2, 1, 7, 4], false, true, seed: 26)    // GQA: 2 KV heads broadcast over groups
        check([2, 4, 1, 4], [2, 4, 9, 4], false, true, seed: 27)    // one decoding step against a KV cache
    }

    func testEdgeCases() {
        // K = 0: a sum over nothing is 0.
        let z = matmul(Tensor.zeros([3, 0]), Tensor.zeros([0, 2]))
        assertClose(z, shape: [3, 2], [0, 0, 0, 0, 0, 0])
        let zb = matmul(Tensor.zeros([2, 3, 0]), Tensor.zeros([2, 0, 4]))
        XCTAssertEqual(zb.shape, [2, 3, 4]); XCTAssertEqual(zb.scalars, [Float](repeating: 0, count: 24))
        let zt = matmul(Tensor.zeros([0, 3]), Tensor.zeros([2, 0]), transposeA: true, transposeB: true)
        assertClose(zt, shape: [3, 2], [0, 0, 0, 0, 0, 0])
        let zf = matmul(Tensor.zeros([2, 3, 0]), Tensor.zeros([0, 5]))
        XCTAssertEqual(zf.shape, [2, 3, 5]); XCTAssertEqual(zf.scalars, [Float](repeating: 0, count: 30))
        // M = 0 or N = 0: empty results.
        XCTAssertEqual(matmul(Tensor.zeros([0, 3]), Tensor.ones([3, 2])).shape, [0, 2])
        XCTAssertEqual(matmul(Tensor.ones([2, 3]), Tensor.ones([3, 0])).shape, [2, 0])
        // Size-1 dims everywhere.
        check([1, 1], [1, 1], seed: 30)
        check([1, 5], [5, 1], seed: 31)
        check([5, 1], [1, 5], seed: 32)
        check([1, 1, 5], [5, 1], seed: 33)
        check([1, 5], [1, 5], false, true, seed: 34)
        check([5, 1], [5, 3], true, false, seed: 35)
        check([1, 1, 1], [1, 1, 1], seed: 36)
    }

    func testZeroKGradient() {
        let a = Tensor.zeros([3, 0]).requiringGrad(), b = Tensor.zeros([0, 2]).requiringGrad()
        matmul(a, b).backward(Tensor.ones([3, 2]))
        XCTAssertEqual(a.grad?.shape, [3, 0]); XCTAssertEqual(b.grad?.shape, [0, 2])
    }

    func testGradients() {
        let (m, k, n) = (3, 4, 2)
        for ta in [false, true] {
            for tb in [false, true] {
                let sa = ta ? [k, m] : [m, k], sb = tb ? [n, k] : [k, n]
                let tag = "\(ta ? "T" : "N")\(tb ? "T" : "N")"
                gradCheck("matmul 2-D \(tag)", [randn(sa, seed: 40), randn(sb, seed: 41)]) {
                    matmul($0[0], $0[1], transposeA: ta, transposeB: tb)
                }
                gradCheck("matmul batched \(tag)", [randn([2] + sa, seed: 42), randn([2] + sb, seed: 43)]) {
                    matmul($0[0], $0[1], transposeA: ta, transposeB: tb)
                }
                gradCheck("matmul broadcast batch \(tag)", [randn([2, 1] + sa, seed: 44), randn([3] + sb, seed: 45)]) {
                    matmul($0[0], $0[1], transposeA: ta, transposeB: tb)
                }
                gradCheck("matmul batched × plain \(tag)", [randn([2, 2] + sa, seed: 46), randn(sb, seed: 47)]) {
                    matmul($0[0], $0[1], transposeA: ta, transposeB: tb)
                }
                gradCheck("matmul plain × batched \(tag)", [randn(sa, seed: 48), randn([2] + sb, seed: 49)]) {
                    matmul($0[0], $0[1], transposeA: ta, transposeB: tb)
                }
            }
        }
        // Only one side requires grad.
        let a = randn([3, 4], seed: 50), b = randn([2, 4, 5], seed: 51)
        gradCheck("matmul wrt a only", [a, b], wrt: [0]) { matmul($0[0], $0[1]) }
        gradCheck("matmul wrt b only", [a, b], wrt: [1]) { matmul($0[0], $0[1]) }
        gradCheck("matmul self", [randn([3, 3], seed: 52)]) { matmul($0[0], $0[0], transposeB: true) }
    }
}
