// Convolutions (conv1d, conv2d) and pooling (max, average, adaptive, global): hand-computed values,
// a naive direct convolution on random geometries, and gradient checks.
import XCTest
@testable import Runtime

final class ConvPoolTests: XCTestCase {
    /// Direct 2-D convolution (Double accumulation): the definition, loop by loop.
    private func naiveConv2d(_ x: Tensor, _ w: Tensor, _ bias: Tensor?, stride: (Int, Int), padding: (Int, Int),
                             dilation: (Int, Int), groups: Int) -> Tensor {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let oh = (h + 2 * padding.0 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
        let ow = (wd + 2 * padding.1 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
        let og = o / groups
        var out = [Float]()
        for s in 0..<n { for oc in 0..<o { for oy in 0..<oh { for ox in 0..<ow {
            var acc = Double(bias?.data[oc] ?? 0)
            let gi = oc / og
            for ic in 0..<cg { for i in 0..<kh { for j in 0..<kw {
                let y = oy * stride.0 - padding.0 + i * dilation.0, xx = ox * stride.1 - padding.1 + j * dilation.1
                guard y >= 0 && y < h && xx >= 0 && xx < wd else { continue }
                let cin = gi * cg + ic
                acc += Double(x.data[((s * c + cin) * h + y) * wd + xx]) * Double(w.data[((oc * cg + ic) * kh + i) * kw + j])
            } } }
            out.append(Float(acc))
        } } } }
        return Tensor(shape: [n, o, oh, ow], scalars: out)
    }

    func testConvHandComputed() {
        let x = T([1, 1, 5], [1, 2, 3, 4, 5])
        assertClose(conv1d(x, weight: T([1, 1, 2], [1, -1])), shape: [1, 1, 4], [-1, -1, -1, -1])
        // Causal, dilation 2: y[t] = x[t-2] + 10 x[t] (zeros before the start).
        assertClose(conv1d(x, weight: T([1, 1, 2], [1, 10]), dilation: 2, causal: true), shape: [1, 1, 5], [10, 20, 31, 42, 53])
        assertClose(conv1d(x, weight: T([1, 1, 3], [1, 1, 1]), stride: 2, padding: 1), shape: [1, 1, 3], [3, 9, 9])
        assertClose(conv1d(x, weight: T([1, 1, 1], [2]), bias: T([1], [0.5])), shape: [1, 1, 5], [2.5, 4.5, 6.5, 8.5, 10.5])
        // Depthwise (groups = channels).
        let x2 = T([1, 2, 3], [1, 2, 3, 10, 20, 30])
        assertClose(conv1d(x2, weight: T([2, 1, 1], [2, 3]), groups: 2), shape: [1, 2, 3], [2, 4, 6, 30, 60, 90])
        // Causal with stride 2: outputs at t = 0, 2, 4 see x[t-1], x[t].
        assertClose(conv1d(x, weight: T([1, 1, 2], [1, 1]), stride: 2, causal: true), shape: [1, 1, 3], [1, 5, 9])
        let img = Tensor.arange(9).reshaped(1, 1, 3, 3)
        assertClose(conv2d(img, weight: Tensor.ones([1, 1, 2, 2]), bias: T([1], [1])), shape: [1, 1, 2, 2], [9, 13, 21, 25])
        assertClose(conv2d(img, weight: Tensor.ones([1, 1, 2, 2]), dilation: (2, 2)), shape: [1, 1, 1, 1], [16])
        assertClose(conv2d(img, weight: Tensor.ones([1, 1, 1, 1]), stride: (2, 2)), shape: [1, 1, 2, 2], [0, 2, 6, 8])
        assertClose(conv2d(img, weight: Tensor.ones([1, 1, 3, 3]), padding: (1, 0)), shape: [1, 1, 3, 1], [15, 36, 33])
    }

    func testConv2dAgainstNaive() {
        let cases: [(x: [Int], w: [Int], s: (Int, Int), p: (Int, Int), d: (Int, Int), g: Int)] = [
            ([2, 3, 6, 5], [4, 3, 3, 3], (1, 1), (0, 0), (1, 1), 1),
            ([1, 4, 7, 7], [6, 2, 3, 2], (2, 1), (1, 2), (1, 1), 2),
            ([2, 4, 8, 6], [4, 1, 3, 3], (1, 2), (2, 1), (2, 1), 4),
            ([1, 6, 9, 9], [3, 2, 2, 3], (3, 2), (1, 1), (2, 3), 3),
            ([1, 2, 4, 4], [2, 2, 4, 4], (1, 1), (0, 0), (1, 1), 1),
            ([3, 1, 5, 1], [2, 1, 2, 1], (1, 1), (1, 0), (1, 1), 1),
            // Batches over 4 samples share GEMMs in chunks while autograd records (convChunk).
            ([9, 4, 6, 5], [6, 2, 3, 3], (2, 1), (1, 1), (1, 1), 2),
            ([13, 3, 5, 5], [4, 3, 3, 3], (1, 1), (1, 1), (1, 1), 1),
        ]
        for (k, cs) in cases.enumerated() {
            let x = randn(cs.x, seed: UInt64(100 + k)), w = randn(cs.w, seed: UInt64(200 + k)), b = randn([cs.w[0]], seed: UInt64(300 + k))
            let got = conv2d(x, weight: w, bias: b, stride: cs.s, padding: cs.p, dilation: cs.d, groups: cs.g)
            let want = naiveConv2d(x, w, b, stride: cs.s, padding: cs.p, dilation: cs.d, groups: cs.g)
            assertClose(got, want, atol: 1e-4, rtol: 1e-4, "conv2d case \(k)")
            // conv1d is conv2d with H = 1.
            let x1 = randn([cs.x[0], cs.x[1], cs.x[2]], seed: UInt64(400 + k)), w1 = randn([cs.w[0], cs.w[1], cs.w[2]], seed: UInt64(500 + k))
            let got1 = conv1d(x1, weight: w1, bias: b, stride: cs.s.0, padding: cs.p.0, dilation: cs.d.0, groups: cs.g)
            let want1 = naiveConv2d(x1.unsqueezed(2), w1.unsqueezed(2), b, stride: (1, cs.s.0), padding: (0, cs.p.0),
                                    dilation: (1, cs.d.0), groups: cs.g).squeezed(2)
            assertClose(got1, want1, atol: 1e-4, rtol: 1e-4, "conv1d case \(k)")
        }
    }

    func testConv1dGradients() {
        let x = randn([2, 4, 7], seed: 110), w = randn([6, 2, 3], seed: 111), b = randn([6], seed: 112)
        gradCheck("conv1d plain", [x, w.slice(axis: 1, 0, 2).copy(), b], eps: 1e-3) {
            conv1d($0[0].slice(axis: 1, 0, 2), weight: $0[1], bias: $0[2])
        }
        gradCheck("conv1d groups 2 bias", [x, w, b], eps: 1e-3) { conv1d($0[0], weight: $0[1], bias: $0[2], groups: 2) }
        gradCheck("conv1d stride 2 padding 2", [x, w, b], eps: 1e-3) {
            conv1d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 2, groups: 2)
        }
        gradCheck("conv1d dilation 2", [x, w], eps: 1e-3) { conv1d($0[0], weight: $0[1], dilation: 2, groups: 2) }
        gradCheck("conv1d causal dilation 2", [x, w, b], eps: 1e-3) {
            conv1d($0[0], weight: $0[1], bias: $0[2], dilation: 2, groups: 2, causal: true)
        }
        gradCheck("conv1d causal stride 2", [x, w], eps: 1e-3) { conv1d($0[0], weight: $0[1], stride: 2, groups: 2, causal: true) }
        gradCheck("conv1d x only", [x, w], eps: 1e-3, wrt: [0]) { conv1d($0[0], weight: $0[1], groups: 2) }
        gradCheck("conv1d weight only", [x, w], eps: 1e-3, wrt: [1]) { conv1d($0[0], weight: $0[1], groups: 2) }
    }

    func testConv2dGradients() {
        let x = randn([2, 4, 5, 4], seed: 120), w = randn([4, 2, 3, 2], seed: 121), b = randn([4], seed: 122)
        gradCheck("conv2d groups 2 bias", [x, w, b], eps: 1e-3) { conv2d($0[0], weight: $0[1], bias: $0[2], groups: 2) }
        gradCheck("conv2d stride padding", [x, w, b], eps: 1e-3) {
            conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 1), padding: (1, 2), groups: 2)
        }
        gradCheck("conv2d dilation", [x, w], eps: 1e-3) {
            conv2d($0[0], weight: $0[1], padding: (1, 1), dilation: (2, 2), groups: 2)
        }
        XCTAssertGreaterThan(convChunk(9, columnFloats: 100), 1, "the next case runs chunks of several samples")
        let x9 = randn([9, 4, 4, 3], seed: 125)
        gradCheck("conv2d chunked groups 2", [x9, w, b], eps: 1e-3) { conv2d($0[0], weight: $0[1], bias: $0[2], padding: (1, 0), groups: 2) }
        let w1 = randn([3, 4, 2, 2], seed: 123)
        gradCheck("conv2d groups 1", [x, w1], eps: 1e-3) { conv2d($0[0], weight: $0[1], stride: (2, 2)) }
        let wd = randn([4, 1, 3, 3], seed: 124)
        gradCheck("conv2d depthwise", [x, wd], eps: 1e-3) { conv2d($0[0], weight: $0[1], padding: (1, 1), groups: 4) }
        gradCheck("conv2d asymmetric geometry", [x, w], eps: 1e-3) {
            let g = Conv2DGeometry(kernel: (3, 2), stride: (1, 2), padTop: 2, padBottom: 0, padLeft: 0, padRight: 1, dilation: (1, 1))
            return conv2d($0[0], weight: $0[1], bias: nil, geometry: g, groups: 2)
        }
    }

    func testPoolingValues() {
        let x = Tensor.arange(16).reshaped(1, 1, 4, 4)
        assertClose(maxPool2d(x, kernel: (2, 2)), shape: [1, 1, 2, 2], [5, 7, 13, 15])
        assertClose(avgPool2d(x, kernel: (2, 2)), shape: [1, 1, 2, 2], [2.5, 4.5, 10.5, 12.5])
        assertClose(maxPool2d(x, kernel: (3, 3), stride: (1, 1)), shape: [1, 1, 2, 2], [10, 11, 14, 15])
        // Padding: max pads with -inf, so a corner window sees only x[0, 0].
        assertClose(maxPool2d(x, kernel: (2, 2), stride: (2, 2), padding: (1, 1)), shape: [1, 1, 3, 3],
                    [0, 2, 3, 8, 10, 11, 12, 14, 15])
        // Average with padding: count_include_pad true divides by the full window (padding counted),
        // false by the real elements.
        let r = T([1, 1, 4], [1, 2, 3, 4])
        assertClose(avgPool1d(r, kernel: 3, stride: 1, padding: 1), shape: [1, 1, 4], [1, 2, 3, 7.0 / 3])
        assertClose(avgPool1d(r, kernel: 3, stride: 1, padding: 1, countIncludePad: false), shape: [1, 1, 4], [1.5, 2, 3, 3.5])
        assertClose(avgPool1d(r, kernel: 2, stride: 2, padding: 1), shape: [1, 1, 3], [0.5, 2.5, 2])
        assertClose(maxPool1d(T([1, 1, 4], [1, 5, 2, 4]), kernel: 2, stride: 2, padding: 1), shape: [1, 1, 3], [1, 5, 4])
        assertClose(maxPool1d(T([1, 1, 5], [1, 5, 2, 4, 9]), kernel: 2), shape: [1, 1, 2], [5, 4])  // floor mode drops the tail
        // Adaptive: windows [⌊iL/n⌋, ⌈(i+1)L/n⌉): 5 → 3 is [0,2) [1,4) [3,5); 2 → 3 is [0,1) [0,2) [1,2).
        let a = T([1, 1, 5], [1, 2, 3, 4, 5])
        assertClose(adaptivePool1d(a, output: 3, mode: .average), shape: [1, 1, 3], [1.5, 3, 4.5])
        assertClose(adaptivePool1d(a, output: 3, mode: .max), shape: [1, 1, 3], [2, 4, 5])
        assertClose(adaptivePool1d(T([1, 1, 2], [1, 3]), output: 3, mode: .average), shape: [1, 1, 3], [1, 2, 3])
        assertClose(adaptivePool2d(x, output: (1, 1), mode: .average), shape: [1, 1, 1, 1], [7.5])
        assertClose(adaptivePool2d(x, output: (3, 2), mode: .max), shape: [1, 1, 3, 2], [5, 7, 9, 11, 13, 15])
        assertClose(globalPool(x, mode: .average), shape: [1, 1], [7.5])
        assertClose(globalPool(x, mode: .max), shape: [1, 1], [15])
        assertClose(globalPool(T([1, 2, 3], [1, 2, 3, -1, -2, -3]), mode: .max), shape: [1, 2], [3, -1])
    }

    func testPoolingGradients() {
        let x = distinct([2, 2, 5, 6], seed: 130)
        gradCheck("maxPool2d 2x2", [x]) { maxPool2d($0[0], kernel: (2, 2)) }
        gradCheck("maxPool2d overlapping", [x]) { maxPool2d($0[0], kernel: (3, 2), stride: (1, 2)) }
        gradCheck("maxPool2d padding", [x]) { maxPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        gradCheck("avgPool2d", [x]) { avgPool2d($0[0], kernel: (2, 3)) }
        gradCheck("avgPool2d padding include", [x]) { avgPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        gradCheck("avgPool2d padding exclude", [x]) {
            avgPool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false)
        }
        gradCheck("adaptive avg 2d", [x]) { adaptivePool2d($0[0], output: (3, 4), mode: .average) }
        gradCheck("adaptive max 2d", [x]) { adaptivePool2d($0[0], output: (3, 4), mode: .max) }
        gradCheck("global avg", [x]) { globalPool($0[0], mode: .average) }
        gradCheck("global max", [x]) { globalPool($0[0], mode: .max) }
        let y = distinct([2, 3, 7], seed: 131)
        gradCheck("maxPool1d", [y]) { maxPool1d($0[0], kernel: 3, stride: 2, padding: 1) }
        gradCheck("avgPool1d include", [y]) { avgPool1d($0[0], kernel: 3, stride: 2, padding: 1) }
        gradCheck("avgPool1d exclude", [y]) { avgPool1d($0[0], kernel: 3, stride: 2, padding: 1, countIncludePad: false) }
        gradCheck("adaptive avg 1d", [y]) { adaptivePool1d($0[0], output: 4, mode: .average) }
        gradCheck("adaptive max 1d", [y]) { adaptivePool1d($0[0], output: 4, mode: .max) }
        gradCheck("adaptive avg 1d upsample", [y]) { adaptivePool1d($0[0], output: 9, mode: .average) }
    }

    /// im2col's span copies equal the plain per-element loop for strides, paddings and dilations, and
    /// col2im is its adjoint (⟨im2col x, c⟩ = ⟨x, col2im c⟩).
    func testIm2colSpansMatchTheReferenceLoop() {
        for (k, st, pad, dil, h, w) in [(3, 1, 1, 1, 7, 9), (3, 2, 1, 1, 8, 7), (1, 2, 0, 1, 5, 5), (3, 1, 2, 2, 6, 6), (5, 3, 4, 1, 4, 9), (2, 1, 0, 3, 7, 7)] {
            let g = Conv2DGeometry(kernel: (k, k), stride: (st, st), padTop: pad, padBottom: pad, padLeft: pad, padRight: pad, dilation: (dil, dil))
            let (oh, ow) = g.outputSize(h, w)
            let c = 2, rows = c * k * k
            let x = randn([c, h, w], seed: UInt64(h * w + k))
            let fast = Tensor.zeros([rows, oh * ow]), ref = Tensor.zeros([rows, oh * ow])
            im2col(x.data, channels: c, h: h, w: w, g, oh: oh, ow: ow, fast.data, ld: oh * ow)
            im2colReference(x.data, channels: c, h: h, w: w, g, oh: oh, ow: ow, ref.data)
            XCTAssertEqual(fast.scalars, ref.scalars, "k \(k) stride \(st) pad \(pad) dilation \(dil)")
            let cols = randn([rows, oh * ow], seed: 3), back = Tensor.zeros([c, h, w])
            col2im(cols.data, channels: c, h: h, w: w, g, oh: oh, ow: ow, back.data, ld: oh * ow)
            let lhs = zip(fast.scalars, cols.scalars).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            let rhs = zip(x.scalars, back.scalars).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            XCTAssertEqual(lhs, rhs, accuracy: 1e-3)
        }
    }
}
