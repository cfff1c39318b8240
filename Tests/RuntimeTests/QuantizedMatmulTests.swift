// Products with GGUF block-quantized weights (Ops/QuantizedMatmul.swift, the CQuant module) against
// expand-then-float32, per format: the decoding matrix-vector product within the activation
// quantization bound, the AVX2 and portable kernels within float rounding of each other, thread-count
// independence, the tiled product and its backward, and SmolLM2 with its weights kept quantized.
import Foundation
import XCTest
@testable import Runtime

final class QuantizedMatmulTests: XCTestCase {
    static let formats: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .f16, .bf16]

    /// Random blocks with finite, moderate scales (random bytes elsewhere).
    static func randomMatrix(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> QuantizedMatrix {
        var g = SplitMix(seed)
        let n = rows * cols / type.blockSize * type.blockBytes
        var bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        func half(_ v: Float) -> (UInt8, UInt8) { let b = Float16(v).bitPattern; return (UInt8(b & 0xFF), UInt8(b >> 8)) }
        func setHalf(_ at: Int, _ v: Float) { let (lo, hi) = half(v); bytes[at] = lo; bytes[at + 1] = hi }
        let bb = type.blockBytes
        for b in 0..<(n / max(bb, 1)) {
            let o = b * bb, scale = Float(g.next() % 1000 + 1) / 20000
            switch type {
            case .q4_0, .q5_0, .q8_0: setHalf(o, scale)
            case .q4_1, .q5_1, .q4_K, .q5_K: setHalf(o, scale); setHalf(o + 2, -scale * 3)
            case .q6_K: setHalf(o + 208, scale / 4)
            case .f16, .bf16:
                let v = Float(Int(g.next() % 2001) - 1000) / 1000
                if type == .f16 { setHalf(o, v) } else {
                    let bits = UInt16(v.bitPattern >> 16); bytes[o] = UInt8(bits & 0xFF); bytes[o + 1] = UInt8(bits >> 8)
                }
            default: break
            }
        }
        return QuantizedMatrix(type: type, rows: rows, cols: cols, bytes: bytes)
    }

    struct SplitMix {
        var s: UInt64
        init(_ seed: UInt64) { s = seed }
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// |ŷ − y| allowed for row r: each block's activations are off by at most d/2 = amax/254 after
    /// 8-bit quantization (for the formats multiplied through Q8 activations), plus float rounding.
    func bound(_ w: Tensor, _ x: [Float], row r: Int, q8: Bool) -> Double {
        let k = x.count
        var b = 0.0, mag = 0.0
        for blk in stride(from: 0, to: k, by: 32) {
            let amax = Double(x[blk..<(blk + 32)].map { Swift.abs($0) }.max()!)
            var wsum = 0.0
            for j in blk..<(blk + 32) { wsum += Double(Swift.abs(w.data[r * k + j])); mag += Double(Swift.abs(w.data[r * k + j] * x[j])) }
            if q8 { b += amax / 254 * wsum }
        }
        return b * 1.0001 + 1e-5 * mag + 1e-6
    }

    func testMatrixVectorWithinActivationQuantizationBound() {
        let rows = 70, cols = 512
        let x = RandomGenerator(seed: 3, stream: 1).normal([cols])
        let xs = Array(UnsafeBufferPointer(start: x.data, count: cols))
        for type in Self.formats {
            let q = Self.randomMatrix(type, rows: rows, cols: cols, seed: UInt64(type.rawValue))
            let w = q.dequantized()
            for portable in [false, true] {
                QuantizedKernels.forcePortable(portable)
                defer { QuantizedKernels.forcePortable(false) }
                let y = RowPanels.withMatrixVectorRows { quantizedLinear(x.reshaped([1, cols]), q) }
                for r in 0..<rows {
                    var exact = 0.0
                    for j in 0..<cols { exact += Double(w.data[r * cols + j]) * Double(xs[j]) }
                    let err = Swift.abs(Double(y.data[r]) - exact)
                    let usesQ8 = ![GGMLType.f16, .bf16].contains(type)
                    XCTAssertLessThanOrEqual(err, bound(w, xs, row: r, q8: usesQ8),
                                             "\(type) \(portable ? "portable" : QuantizedKernels.name) row \(r)")
                }
            }
        }
    }

    /// Expanding rows (prefill's tiles, embedding lookups) gives GGUFQuant.swift's dequantization bit for
    /// bit, on both kernels.
    func testRowExpansionEqualsDequantize() {
        for type in Self.formats {
            let q = Self.randomMatrix(type, rows: 6, cols: 512, seed: 40 + UInt64(type.rawValue))
            let ref = Tensor(uninitializedShape: [6, 512])
            dequantize(UnsafeRawBufferPointer(start: q.base, count: q.byteCount), type: type, count: 6 * 512, into: ref.data)
            for portable in [false, true] {
                QuantizedKernels.forcePortable(portable)
                defer { QuantizedKernels.forcePortable(false) }
                XCTAssertEqual(q.dequantized().scalars.map(\.bitPattern), ref.scalars.map(\.bitPattern), "\(type) portable: \(portable)")
            }
        }
    }

    func testVectorAndPortableKernelsAgree() throws {
        try XCTSkipIf(QuantizedKernels.name == "portable", "this CPU has no AVX2: only the portable kernels run")
        let cols = 1024
        let x = RandomGenerator(seed: 5, stream: 1).normal([1, cols])
        for type in Self.formats {
            let q = Self.randomMatrix(type, rows: 40, cols: cols, seed: 100 + UInt64(type.rawValue))
            let w = q.dequantized()
            let fast = RowPanels.withMatrixVectorRows { quantizedLinear(x, q) }
            QuantizedKernels.forcePortable(true)
            let slow = RowPanels.withMatrixVectorRows { quantizedLinear(x, q) }
            QuantizedKernels.forcePortable(false)
            for r in 0..<40 {
                // The same integer block sums; float additions grouped differently: rounding of Σ|w·x|.
                var mag: Float = 0
                for j in 0..<cols { mag += Swift.abs(w.data[r * cols + j] * x.data[j]) }
                XCTAssertEqual(fast.data[r], slow.data[r], accuracy: 1e-6 * mag + 1e-7, "\(type) row \(r)")
            }
        }
    }

    /// The AVX2 activation quantizer gives the portable one's blocks exactly (ties rounded to even), and
    /// each value is within half a step of the activation.
    func testActivationQuantizationIsExactAcrossKernels() {
        var x = RandomGenerator(seed: 8, stream: 1).normal([256]).scalars
        for j in 64..<96 { x[j] = 0 }  // an all-zero block (scale 0)
        let fast = QuantizedKernels.activationBlocks(x)
        QuantizedKernels.forcePortable(true)
        let slow = QuantizedKernels.activationBlocks(x)
        QuantizedKernels.forcePortable(false)
        for (b, (f, s)) in zip(fast, slow).enumerated() {
            XCTAssertEqual(f.q, s.q, "block \(b)")
            XCTAssertEqual(f.d, s.d)
            XCTAssertEqual(f.s, s.s)
            for j in 0..<32 { XCTAssertLessThanOrEqual(Swift.abs(Float(s.q[j]) * s.d - x[32 * b + j]), s.d / 2 * 1.0001 + 1e-9) }
            XCTAssertEqual(s.s, s.d * Float(s.q.reduce(0) { $0 + Int($1) }), accuracy: 1e-5)
        }
    }

    func testMatrixVectorIndependentOfThreadCount() {
        let q = Self.randomMatrix(.q4_1, rows: 1000, cols: 576, seed: 9)
        let x = RandomGenerator(seed: 9, stream: 2).normal([1, 576])
        let saved = Threads.count
        defer { Threads.set(saved) }
        Threads.set(1)
        let one = RowPanels.withMatrixVectorRows { quantizedLinear(x, q) }
        Threads.set(2)
        let two = RowPanels.withMatrixVectorRows { quantizedLinear(x, q) }
        XCTAssertEqual(one.scalars.map(\.bitPattern), two.scalars.map(\.bitPattern))
    }

    func testTiledProductAndBackwardEqualFloat() {
        for type in [GGMLType.q4_1, .q6_K, .f16] {
            let q = Self.randomMatrix(type, rows: 300, cols: 256, seed: 11)
            let w = q.dequantized()
            let x = RandomGenerator(seed: 11, stream: 3).normal([2, 5, 256]).requiringGrad()
            let y = withGrad { quantizedLinear(x, q) }
            let ref = matmul(x.detach(), w, transposeB: true)
            XCTAssertEqual(y.shape, [2, 5, 300])
            for i in 0..<y.count { XCTAssertEqual(y.data[i], ref.data[i], accuracy: 1e-4 * max(1, Swift.abs(ref.data[i])), "\(type)") }
            let g = RandomGenerator(seed: 11, stream: 4).normal([2, 5, 300])
            withGrad { (y * g).sum().backward() }
            let gx = matmul(g, w)
            for i in 0..<gx.count { XCTAssertEqual(x.grad!.data[i], gx.data[i], accuracy: 1e-4 * max(1, Swift.abs(gx.data[i])), "\(type) grad") }
        }
    }

    func testLinearExpandsOnceWhenTheWeightIsNeeded() {
        let q = Self.randomMatrix(.q8_0, rows: 8, cols: 64, seed: 2)
        let layer = Linear(quantized: q, bias: nil)
        XCTAssertNotNil(layer.quantized)
        XCTAssertEqual(layer.inFeatures, 64)
        let state = layer.namedState()
        XCTAssertEqual(state.map(\.0), ["weight"])
        XCTAssertNil(layer.quantized, "listing the state expands the weight")
        XCTAssertEqual(state[0].1.scalars, q.dequantized().scalars)
    }

    /// LoRA over a frozen quantized base: adding and listing adapters leaves the base quantized, and the
    /// adapter's gradients equal those over the same base in float32.
    func testLoRAOverQuantizedBase() {
        let q = Self.randomMatrix(.q4_1, rows: 48, cols: 64, seed: 21)
        final class Net: Module { let proj: Linear; init(_ l: Linear) { proj = l; super.init() } }
        let quant = Net(Linear(quantized: q, bias: nil)), dense = Net(Linear(weight: q.dequantized(), bias: nil))
        let config = LoRAConfig(rank: 4, alpha: 8, dropout: 0, targets: ["proj"])
        quant.addLoRA(config, generator: RandomGenerator(seed: 1, stream: 1))
        dense.addLoRA(config, generator: RandomGenerator(seed: 1, stream: 1))
        XCTAssertNotNil(quant.proj.quantized, "addLoRA expanded the frozen base")
        XCTAssertEqual(quant.loraState().map(\.0), dense.loraState().map(\.0))
        XCTAssertNotNil(quant.proj.quantized, "loraState expanded the frozen base")
        for net in [quant, dense] { net.proj.lora!.b.assign(RandomGenerator(seed: 2, stream: 2).normal(net.proj.lora!.b.shape, std: 0.1)) }
        let x = RandomGenerator(seed: 3, stream: 3).normal([5, 64])
        for net in [quant, dense] { withGrad { square(net.proj(x)).sum().backward() } }
        for ((name, a), (_, b)) in zip(quant.loraState(), dense.loraState()) {
            for i in 0..<a.count { XCTAssertEqual(a.grad!.data[i], b.grad!.data[i], accuracy: 1e-3 * max(1, Swift.abs(b.grad!.data[i])), name) }
        }
        XCTAssertNotNil(quant.proj.quantized)
    }

    func testReorderedRowsMatchUnpermute() {
        let q = Self.randomMatrix(.q4_0, rows: 16, cols: 32, seed: 4)
        let r = QuantizedMatrix(reordering: q, unpermutedRoPERow(rows: 16, heads: 2))
        XCTAssertEqual(r.dequantized().scalars, unpermuteRoPERows(q.dequantized(), heads: 2).scalars)
    }

    /// SmolLM2 with its Q4_1 weights kept quantized: per-token NLL of a text within 1% of the float32
    /// path's (the expanded weights are the same numbers; decoding's 8-bit activations are the difference),
    /// and, teacher-forced along the float path's greedy continuation, the same next token wherever the
    /// float path's top two logits are more than 0.5 apart.
    func testSmolLM2KeptQuantizedMatchesExpanded() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: LLaMATests.smol), "run `make models` first (make test does)")
        let quant = try LLaMAModel.load(path: LLaMATests.smol, keepQuantized: true)
        let dense = try LLaMAModel.load(path: LLaMATests.smol)
        XCTAssertNotNil(quant.layers[0].selfAttn.qProj.quantized)
        let ids = [1, 504, 3458, 282, 4649, 314, 253, 1345, 28, 284, 260, 3114, 314, 1232, 30, 378, 2680, 282, 260, 3458, 314, 10040, 30]
        func tokenNLL(_ m: LLaMAModel) -> [Double] {
            // Token by token through the cache (the decoding path: matrix-vector products).
            let cache = m.makeCache()
            var nll: [Double] = []
            withoutGrad {
                for i in 0..<(ids.count - 1) {
                    let logits = m(ids: [ids[i]], cache: cache, logits: .last)
                    let l = logits.scalars.map(Double.init), mx = l.max()!
                    let lse = mx + log(l.map { exp($0 - mx) }.reduce(0, +))
                    nll.append(lse - l[ids[i + 1]])
                }
            }
            return nll
        }
        let a = tokenNLL(quant), b = tokenNLL(dense)
        let meanA = a.reduce(0, +) / Double(a.count), meanB = b.reduce(0, +) / Double(b.count)
        print("QuantizedMatmulTests: SmolLM2 mean NLL kept quantized \(meanA), expanded \(meanB), kernels \(QuantizedKernels.name)")
        XCTAssertLessThan(Swift.abs(meanA - meanB) / meanB, 0.01)
        // Prefill (tiled products of the same expanded values) gives the float path's logits.
        let pa = withoutGrad { quant(ids: ids, logits: .last) }, pb = withoutGrad { dense(ids: ids, logits: .last) }
        let diff = zip(pa.scalars, pb.scalars).map { Swift.abs($0 - $1) }.max()!
        XCTAssertLessThan(diff, 1e-3)
        // The float path's greedy continuation, then both models step through it token by token.
        var continuation: [Int] = []
        withoutGrad {
            let cache = dense.makeCache()
            var logits = dense(ids: ids, cache: cache, logits: .last)
            for _ in 0..<24 {
                continuation.append(logits.argmax(axis: -1)[0])
                logits = dense(ids: [continuation.last!], cache: cache, logits: .last)
            }
        }
        let qc = quant.makeCache(), dc = dense.makeCache()
        var agree = 0, worst: Float = 0
        withoutGrad {
            var lq = quant(ids: ids, cache: qc, logits: .last), ld = dense(ids: ids, cache: dc, logits: .last)
            for next in continuation {
                let d = ld.scalars, q = lq.scalars
                worst = max(worst, zip(d, q).map { Swift.abs($0 - $1) }.max()!)
                let top = d.indices.max { d[$0] < d[$1] }!, qTop = q.indices.max { q[$0] < q[$1] }!
                let second = d.indices.filter { $0 != top }.map { d[$0] }.max()!
                if qTop == top { agree += 1 } else {
                    XCTAssertLessThan(d[top] - second, 0.5, "kept-quantized argmax \(qTop) where the float path's \(top) leads by \(d[top] - second)")
                }
                lq = quant(ids: [next], cache: qc, logits: .last)
                ld = dense(ids: [next], cache: dc, logits: .last)
            }
        }
        print("QuantizedMatmulTests: greedy argmax agrees at \(agree) of \(continuation.count) steps; logits max abs diff \(worst)")
    }
}
