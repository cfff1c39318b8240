// Shape ops and indexing: reshape, permute, slice, concat/stack/split, broadcast, indexSelect,
// gather, scatterAdd, maskedFill, where; values and gradients.
import XCTest
@testable import Runtime

final class ShapeOpsTests: XCTestCase {
    func testReshapeFamilyValues() {
        let x = Tensor.arange(6)
        XCTAssertEqual(x.reshaped(2, -1).shape, [2, 3])
        XCTAssertEqual(x.reshaped(-1, 2).shape, [3, 2])
        let y = x.reshaped(1, 2, 3)
        XCTAssertEqual(y.flattened().shape, [6])
        XCTAssertEqual(y.flattened(from: 1).shape, [1, 6])
        XCTAssertEqual(y.flattened(to: 1).shape, [2, 3])
        XCTAssertEqual(y.squeezed(0).shape, [2, 3])
        XCTAssertEqual(x.unsqueezed(0).shape, [1, 6])
        XCTAssertEqual(x.unsqueezed(-1).shape, [6, 1])
        XCTAssertTrue(x.reshaped(2, 3).storage === x.storage, "reshape is a view")
    }

    func testPermuteTransposeValues() {
        let x = Tensor.arange(24).reshaped(2, 3, 4)
        let p = x.permuted(2, 0, 1)
        XCTAssertEqual(p.shape, [4, 2, 3])
        // p[k, i, j] = x[i, j, k] = 12 i + 4 j + k
        for k in 0..<4 { for i in 0..<2 { for j in 0..<3 {
            XCTAssertEqual(p.data[(k * 2 + i) * 3 + j], Float(12 * i + 4 * j + k))
        } } }
        assertClose(T([2, 3], [1, 2, 3, 4, 5, 6]).transposed(), shape: [3, 2], [1, 4, 2, 5, 3, 6])
        let t = x.transposed(0, 1)
        XCTAssertEqual(t.shape, [3, 2, 4])
        XCTAssertEqual(t.data[1 * 8 + 1 * 4 + 2], 12 + 4 + 2)
    }

    func testSliceValues() {
        let x = Tensor.arange(12).reshaped(3, 4)
        let v = x.slice(axis: 0, 1, 3)
        XCTAssertTrue(v.storage === x.storage, "leading-axis slice is a view")
        assertClose(v, shape: [2, 4], [4, 5, 6, 7, 8, 9, 10, 11])
        assertClose(x.slice(axis: 1, 1, 4, step: 2), shape: [3, 2], [1, 3, 5, 7, 9, 11])
        assertClose(x.slice(axis: 0, 0, 3, step: 2), shape: [2, 4], [0, 1, 2, 3, 8, 9, 10, 11])
        assertClose(x.slice(axis: -1, -2, 4), shape: [3, 2], [2, 3, 6, 7, 10, 11])
        assertClose(x.slice(axis: 1, 2, 100), shape: [3, 2], [2, 3, 6, 7, 10, 11])
        XCTAssertEqual(x.slice(axis: 1, 3, 1).shape, [3, 0])
        assertClose(x[2], shape: [4], [8, 9, 10, 11])
        assertClose(x.slice(axis: 1, 0, 4, step: 3), shape: [3, 2], [0, 3, 4, 7, 8, 11])
    }

    func testConcatStackSplitValues() {
        let a = T([2, 2], [1, 2, 3, 4]), b = T([2, 1], [5, 6])
        assertClose(concat([a, b], axis: 1), shape: [2, 3], [1, 2, 5, 3, 4, 6])
        assertClose(concat([a, a], axis: 0), shape: [4, 2], [1, 2, 3, 4, 1, 2, 3, 4])
        assertClose(stack([a, a * 10], axis: 0), shape: [2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40])
        assertClose(stack([a, a * 10], axis: 2), shape: [2, 2, 2], [1, 10, 2, 20, 3, 30, 4, 40])
        assertClose(stack([a, a * 10], axis: -1), shape: [2, 2, 2], [1, 10, 2, 20, 3, 30, 4, 40])
        let parts = Tensor.arange(10).reshaped(2, 5).split([2, 3], axis: 1)
        assertClose(parts[0], shape: [2, 2], [0, 1, 5, 6])
        assertClose(parts[1], shape: [2, 3], [2, 3, 4, 7, 8, 9])
        let chunks = Tensor.arange(6).chunked(3)
        XCTAssertEqual(chunks.map(\.scalars), [[0, 1], [2, 3], [4, 5]])
    }

    func testBroadcastedValues() {
        assertClose(T([2, 1], [1, 2]).broadcasted(to: [2, 3]), shape: [2, 3], [1, 1, 1, 2, 2, 2])
        assertClose(T([3], [1, 2, 3]).broadcasted(to: [2, 3]), shape: [2, 3], [1, 2, 3, 1, 2, 3])
        assertClose(T([1, 2, 1], [1, 2]).broadcasted(to: [2, 2, 2]), shape: [2, 2, 2], [1, 1, 2, 2, 1, 1, 2, 2])
        assertClose(Tensor(scalar: 7).broadcasted(to: [2]), shape: [2], [7, 7])
    }

    func testIndexingValues() {
        let x = Tensor.arange(12).reshaped(3, 4)
        assertClose(x.indexSelect(axis: 0, [2, 0, 2]), shape: [3, 4], [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11])
        assertClose(x.indexSelect(axis: 1, [3, 1]), shape: [3, 2], [3, 1, 7, 5, 11, 9])
        assertClose(x.gather(axis: 1, indices: [0, 3, 1, 1, 2, 0], indexShape: [3, 2]), shape: [3, 2], [0, 3, 5, 5, 10, 8])
        assertClose(x.gather(axis: 0, indices: [2, 0, 1, 0], indexShape: [1, 4]), shape: [1, 4], [8, 1, 6, 3])
        let s = scatterAdd(Tensor.zeros([2, 3]), axis: 1, indices: [0, 0, 2, 1], source: T([2, 2], [1, 2, 3, 4]))
        assertClose(s, shape: [2, 3], [3, 0, 0, 0, 4, 3])
        let s0 = scatterAdd(Tensor.ones([3, 2]), axis: 0, indices: [2, 0], source: T([1, 2], [5, 6]))
        assertClose(s0, shape: [3, 2], [1, 7, 1, 1, 6, 1])
        let m = T([2, 3], [1, 2, 3, 4, 5, 6]).maskedFill(T([1, 3], [0, 1, 0]), -9)
        assertClose(m, shape: [2, 3], [1, -9, 3, 4, -9, 6])
        let w = `where`(T([2, 1], [1, 0]), T([3], [1, 2, 3]), T([], [0]))
        assertClose(w, shape: [2, 3], [1, 2, 3, 0, 0, 0])
    }

    func testShapeGradients() {
        let x = randn([2, 3, 4], seed: 21)
        gradCheck("reshape", [x]) { $0[0].reshaped(4, 6) }
        gradCheck("reshape -1", [x]) { $0[0].reshaped(-1, 2) * $0[0].reshaped(-1, 2) }
        gradCheck("flatten", [x]) { $0[0].flattened(from: 1) }
        gradCheck("unsqueeze/squeeze", [x]) { $0[0].unsqueezed(1).squeezed(1).unsqueezed(-1) }
        for order in [[0, 1, 2], [2, 0, 1], [1, 0, 2], [0, 2, 1], [2, 1, 0]] {
            gradCheck("permute \(order)", [x]) { $0[0].permuted(order) }
        }
        gradCheck("transpose", [x]) { $0[0].transposed() }
        gradCheck("transpose 0 2", [x]) { $0[0].transposed(0, 2) }
        gradCheck("broadcasted [2,1,4]→[3,2,3,4]", [randn([2, 1, 4], seed: 22)]) { $0[0].broadcasted(to: [3, 2, 3, 4]) }
        gradCheck("broadcasted [3]→[2,3]", [randn([3], seed: 23)]) { $0[0].broadcasted(to: [2, 3]) }
    }

    func testSliceGradients() {
        let x = randn([4, 3, 5], seed: 24)
        gradCheck("slice leading view", [x]) { $0[0].slice(axis: 0, 1, 3) }
        gradCheck("slice leading step", [x]) { $0[0].slice(axis: 0, 0, 4, step: 3) }
        gradCheck("slice axis 1", [x]) { $0[0].slice(axis: 1, 1, 3) }
        gradCheck("slice axis 2 step 2", [x]) { $0[0].slice(axis: 2, 0, 5, step: 2) }
        gradCheck("slice axis -1 negative start", [x]) { $0[0].slice(axis: -1, -3, 5, step: 2) }
        gradCheck("subscript", [x]) { $0[0][2] }
        gradCheck("two overlapping slices", [x]) { mul($0[0].slice(axis: 1, 0, 2), $0[0].slice(axis: 1, 1, 3)) }
    }

    func testConcatStackSplitGradients() {
        let a = randn([2, 3], seed: 25), b = randn([2, 2], seed: 26), c = randn([2, 3], seed: 27)
        gradCheck("concat axis 1", [a, b, c]) { concat($0, axis: 1) }
        gradCheck("concat axis 0", [a, c]) { concat($0, axis: 0) }
        gradCheck("concat same tensor twice", [a]) { concat([$0[0], $0[0]], axis: -1) }
        for axis in [0, 1, 2, -1] {
            gradCheck("stack axis \(axis)", [a, c]) { stack($0, axis: axis) }
        }
        let x = randn([3, 6], seed: 28)
        let w = randn([6], seed: 29)
        gradCheck("split", [x]) { t in
            let p = t[0].split([1, 2, 3], axis: 1)
            return concat([p[2], scale(p[0], 2), p[1]], axis: 1) * w
        }
        gradCheck("split axis 0, part unused", [x]) { $0[0].split([2, 1], axis: 0)[0] }
        gradCheck("chunked", [x]) { t in
            let p = t[0].chunked(3, axis: 1)
            return p[0] * p[1] + p[2]
        }
    }

    func testIndexingGradients() {
        let x = randn([4, 3], seed: 30)
        gradCheck("indexSelect axis 0 (repeats)", [x]) { $0[0].indexSelect(axis: 0, [3, 0, 3, 1]) }
        gradCheck("indexSelect axis 1", [x]) { $0[0].indexSelect(axis: 1, [2, 2, 0]) }
        let y = randn([2, 3, 4], seed: 31)
        gradCheck("indexSelect axis 1 of rank 3", [y]) { $0[0].indexSelect(axis: 1, [1, 1, 0, 2]) }
        gradCheck("gather axis 1", [x]) { $0[0].gather(axis: 1, indices: [0, 2, 1, 1, 2, 2, 0, 0], indexShape: [4, 2]) }
        gradCheck("gather axis 0", [x]) { $0[0].gather(axis: 0, indices: [3, 3, 0, 1, 2, 3], indexShape: [2, 3]) }
        gradCheck("gather axis 2 rank 3", [y]) {
            $0[0].gather(axis: 2, indices: [0, 3, 1, 1, 2, 2, 0, 0, 3, 3, 1, 2], indexShape: [2, 3, 2])
        }
        let base = randn([3, 4], seed: 32), src = randn([3, 2], seed: 33)
        gradCheck("scatterAdd axis 1", [base, src]) {
            scatterAdd($0[0], axis: 1, indices: [0, 0, 3, 1, 2, 2], source: $0[1])
        }
        let src0 = randn([2, 4], seed: 34)
        gradCheck("scatterAdd axis 0", [base, src0]) {
            scatterAdd($0[0], axis: 0, indices: [0, 1, 2, 2, 0, 0, 1, 2], source: $0[1])
        }
        let mask = T([1, 3], [0, 1, 0])
        gradCheck("maskedFill", [x]) { $0[0].maskedFill(mask, -5) }
        let cond = T([4, 1], [1, 0, 0, 1])
        let a = randn([4, 3], seed: 35), b = randn([3], seed: 36)
        gradCheck("where", [a, b]) { `where`(cond, $0[0], $0[1]) }
    }

    func testOpsReadViewsAtTheirOffset() {
        // A leading-axis slice shares storage at a nonzero offset: every op must read from `data`.
        let base = randn([3, 2, 4, 6], seed: 37)
        let view = base[1], copy = base[1].copy()
        XCTAssertTrue(view.storage === base.storage)
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("exp", exp), ("add", { $0 + $0.slice(axis: 0, 1, 2) }), ("sum axis", { $0.sum(axis: 1) }), ("sum", { $0.sum() }),
            ("max", { $0.max(axis: 2) }), ("logsumexp", { $0.logsumexp(axis: 0) }), ("softmax", { softmax($0, axis: 1) }),
            ("logSoftmax", { logSoftmax($0) }), ("permute", { $0.permuted(2, 0, 1) }), ("slice step", { $0.slice(axis: 2, 0, 6, step: 2) }),
            ("matmul", { matmul($0, $0, transposeB: true) }), ("matmul folded", { matmul($0, $0[0][0].reshaped(6, 1)) }),
            ("layerNorm", { layerNorm($0, weight: nil, bias: nil) }), ("rmsNorm", { rmsNorm($0, weight: nil) }),
            ("batchNorm", { batchNorm($0, runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true) }),
            ("conv2d", { conv2d($0.unsqueezed(0), weight: Tensor.ones([1, 2, 2, 2])) }),
            ("pool", { maxPool2d($0.unsqueezed(0), kernel: (2, 2)) }), ("gather", { $0.gather(axis: 0, indices: Array(repeating: 1, count: 24), indexShape: [1, 4, 6]) }),
            ("indexSelect", { $0.indexSelect(axis: 2, [5, 0]) }), ("concat", { concat([$0, $0], axis: 2) }),
            ("crossEntropy", { crossEntropy($0.reshaped(8, 6), targets: [0, 1, 2, 3, 4, 5, 0, 1]) }),
        ]
        for (name, f) in ops {
            XCTAssertEqual(f(view).scalars, f(copy).scalars, name)
        }
        gradCheck("gradients into a view's base", [base]) { t in softmax(t[0][2], axis: 1) * layerNorm(t[0][1], weight: nil, bias: nil) }
    }
}
