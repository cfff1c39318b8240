// Broadcasting arithmetic and unary math: hand-computed values and gradient checks.
import XCTest
@testable import Runtime

final class ArithmeticTests: XCTestCase {
    /// Shape pairs that exercise every broadcasting path of zipKernel (same shape, scalar, row, column,
    /// leading axes, both sides stretched, rank 0).
    static let shapePairs: [([Int], [Int])] = [
        ([2, 3], [2, 3]), ([2, 3], [3]), ([3], [2, 3]), ([2, 3], [2, 1]), ([2, 1], [1, 3]),
        ([2, 3, 4], [3, 1]), ([4], [2, 3, 4]), ([2, 1, 4], [1, 3, 1]), ([2, 3], []), ([], [2, 3]),
        ([2, 3], [1]), ([1, 3, 1], [2, 1, 4]), ([3, 1, 2], [3, 4, 2]),
    ]

    func testBroadcastValues() {
        let a = T([2, 1], [1, 2]), b = T([3], [10, 20, 30])
        assertClose(add(a, b), shape: [2, 3], [11, 21, 31, 12, 22, 32])
        assertClose(sub(a, b), shape: [2, 3], [-9, -19, -29, -8, -18, -28])
        assertClose(mul(a, b), shape: [2, 3], [10, 20, 30, 20, 40, 60])
        assertClose(div(b, a), shape: [2, 3], [10, 20, 30, 5, 10, 15])
        let c = T([2, 1, 2], [1, 2, 3, 4]), d = T([1, 3, 1], [0, 10, 20])
        assertClose(add(c, d), shape: [2, 3, 2], [1, 2, 11, 12, 21, 22, 3, 4, 13, 14, 23, 24])
        assertClose(maximum(T([4], [1, 5, -2, 3]), T([1], [2])), shape: [4], [2, 5, 2, 3])
        assertClose(minimum(T([4], [1, 5, -2, 3]), T([], [2])), shape: [4], [1, 2, -2, 2])
        assertClose(add(Tensor(scalar: 2), Tensor(scalar: 3)), shape: [], [5])
        // Scalar forms.
        let x = T([3], [1, 2, 4])
        assertClose(x + 1, shape: [3], [2, 3, 5]); assertClose(1 - x, shape: [3], [0, -1, -3])
        assertClose(x * 3, shape: [3], [3, 6, 12]); assertClose(4 / x, shape: [3], [4, 2, 1])
        assertClose(x / 2, shape: [3], [0.5, 1, 2]); assertClose(-x, shape: [3], [-1, -2, -4])
    }

    func testBinaryGradients() {
        for (k, (sa, sb)) in Self.shapePairs.enumerated() {
            let a = randn(sa, seed: UInt64(10 + k)), b = uniform(sb, seed: UInt64(50 + k), 0.5, 2)
            let tag = "\(sa) \(sb)"
            gradCheck("add \(tag)", [a, b]) { add($0[0], $0[1]) }
            gradCheck("sub \(tag)", [a, b]) { sub($0[0], $0[1]) }
            gradCheck("mul \(tag)", [a, b]) { mul($0[0], $0[1]) }
            gradCheck("div \(tag)", [a, b], eps: 1e-3) { div($0[0], $0[1]) }
            // maximum/minimum: x on the grid 0.25·k, y on the grid 0.25·(m + ½): never closer than 0.125.
            let x = onGrid(sa, seed: UInt64(70 + k), offset: 0), y = onGrid(sb, seed: UInt64(90 + k), offset: 0.5)
            gradCheck("maximum \(tag)", [x, y]) { maximum($0[0], $0[1]) }
            gradCheck("minimum \(tag)", [x, y]) { minimum($0[0], $0[1]) }
        }
    }

    /// 0.25·(k + offset) for random integers k in -6...5.
    private func onGrid(_ shape: [Int], seed: UInt64, offset: Float) -> Tensor {
        let u = uniform(shape, seed: seed, -6, 6)
        return Tensor(shape: shape, scalars: u.scalars.map { 0.25 * ($0.rounded(.down) + offset) })
    }

    /// Random shape pairs (rank 0...4, some axes stretched on either side): every broadcasting path
    /// against a naive per-element index computation, forward and backward (sumToShape).
    func testBroadcastFuzzAgainstNaive() {
        let g = RandomGenerator(seed: 2718)
        for trial in 0..<300 {
            let rank = g.nextInt(below: 5)
            let full = (0..<rank).map { _ in 1 + g.nextInt(below: 3) }
            func variant() -> [Int] {
                let drop = g.nextInt(below: rank + 1)          // leading axes left out
                return full.dropFirst(drop).map { g.nextInt(below: 3) == 0 ? 1 : $0 }
            }
            let sa = variant(), sb = variant()
            let out = broadcastShape(sa, sb)
            let a = randn(sa, seed: UInt64(trial)), b = randn(sb, seed: UInt64(trial + 5000))
            // Naive: for each output index, the operand index with stretched axes at 0.
            func index(_ o: [Int], _ s: [Int]) -> Int {
                var i = 0
                for (k, d) in s.enumerated() { i = i * d + (d == 1 ? 0 : o[o.count - s.count + k]) }
                return i
            }
            let n = out.reduce(1, *)
            var want = [Float](), gradA = [Float](repeating: 0, count: a.count), gradB = [Float](repeating: 0, count: b.count)
            let seed = randn(out, seed: UInt64(trial + 9000))
            for flat in 0..<n {
                var o = [Int](repeating: 0, count: out.count), r = flat
                for k in stride(from: out.count - 1, through: 0, by: -1) { o[k] = r % out[k]; r /= out[k] }
                let ia = index(o, sa), ib = index(o, sb)
                want.append(a.data[ia] * b.data[ib])
                gradA[ia] += seed.data[flat] * b.data[ib]
                gradB[ib] += seed.data[flat] * a.data[ia]
            }
            let x = a.copy().requiringGrad(), y = b.copy().requiringGrad()
            let z = mul(x, y)
            assertClose(z, shape: out, want, "mul \(sa) \(sb)")
            z.backward(seed)
            assertClose(x.grad!, shape: sa, gradA, "grad a \(sa) \(sb)")
            assertClose(y.grad!, shape: sb, gradB, "grad b \(sa) \(sb)")
            assertClose(a.broadcasted(to: out), shape: out, (0..<n).map { flat in
                var o = [Int](repeating: 0, count: out.count), r = flat
                for k in stride(from: out.count - 1, through: 0, by: -1) { o[k] = r % out[k]; r /= out[k] }
                return a.data[index(o, sa)]
            }, "broadcasted \(sa) to \(out)")
        }
    }

    func testTieGradientSplitsEvenly() {
        let a = T([3], [1, 2, 3]).requiringGrad(), b = T([3], [1, 5, 0]).requiringGrad()
        maximum(a, b).sum().backward()
        assertClose(a.grad!, shape: [3], [0.5, 0, 1]); assertClose(b.grad!, shape: [3], [0.5, 1, 0])
        let c = T([2], [4, 4]).requiringGrad(), d = T([], [4]).requiringGrad()
        minimum(c, d).sum().backward()
        assertClose(c.grad!, shape: [2], [0.5, 0.5]); assertClose(d.grad!, shape: [], [1])
    }

    func testScalarOpGradients() {
        let a = randn([2, 3], seed: 1), p = uniform([2, 3], seed: 2, 0.5, 2)
        gradCheck("neg", [a]) { neg($0[0]) }
        gradCheck("scale", [a]) { scale($0[0], -2.5) }
        gradCheck("shift", [a]) { shift($0[0], 3) }
        gradCheck("s - x", [a]) { 2 - $0[0] }
        gradCheck("s / x", [p], eps: 1e-3) { 3 / $0[0] }
        gradCheck("x / s", [a]) { $0[0] / 4 }
    }

    func testUnaryValues() {
        let x = T([4], [0.25, 1, 4, 9])
        assertClose(sqrt(x), shape: [4], [0.5, 1, 2, 3])
        assertClose(rsqrt(x), shape: [4], [2, 1, 0.5, 1.0 / 3])
        assertClose(reciprocal(x), shape: [4], [4, 1, 0.25, 1.0 / 9])
        assertClose(square(T([3], [-2, 0, 3])), shape: [3], [4, 0, 9])
        assertClose(pow(x, 1.5), shape: [4], [0.125, 1, 8, 27])
        assertClose(abs(T([3], [-2, 0, 3])), shape: [3], [2, 0, 3])
        assertClose(exp(T([3], [0, 1, -1])), shape: [3], [1, 2.7182817, 0.36787945])
        assertClose(log(T([3], [1, 2.7182817, 0.5])), shape: [3], [0, 1, -0.6931472])
        assertClose(clamp(T([5], [-3, -1, 0, 1, 3]), min: -1, max: 2), shape: [5], [-1, -1, 0, 1, 2])
        assertClose(clamp(T([2], [-3, 3]), min: 0), shape: [2], [0, 3])
        assertClose(sin(T([2], [0, .pi / 2])), shape: [2], [0, 1])
        assertClose(cos(T([2], [0, .pi])), shape: [2], [1, -1])
    }

    func testUnaryGradients() {
        let a = randn([3, 4], seed: 3), pos = uniform([3, 4], seed: 4, 0.5, 2), nz = awayFromZero([3, 4], seed: 5)
        gradCheck("exp", [a]) { exp($0[0]) }
        gradCheck("log", [pos], eps: 1e-3) { log($0[0]) }
        gradCheck("sqrt", [pos], eps: 1e-3) { sqrt($0[0]) }
        gradCheck("rsqrt", [pos], eps: 1e-3) { rsqrt($0[0]) }
        gradCheck("abs", [nz]) { abs($0[0]) }
        gradCheck("square", [a]) { square($0[0]) }
        gradCheck("pow 3", [a]) { pow($0[0], 3) }
        gradCheck("pow -0.5", [pos], eps: 1e-3) { pow($0[0], -0.5) }
        gradCheck("pow 2.5", [pos], eps: 1e-3) { pow($0[0], 2.5) }
        gradCheck("reciprocal", [pos], eps: 1e-3) { reciprocal($0[0]) }
        gradCheck("sin", [a]) { sin($0[0]) }
        gradCheck("cos", [a]) { cos($0[0]) }
        // clamp: values at least 0.1 away from both bounds, some inside and some outside.
        let c = T([8], [-2, -1.2, -0.7, -0.2, 0.3, 0.6, 0.9, 1.8])
        gradCheck("clamp", [c]) { clamp($0[0], min: -0.8, max: 0.75) }
        gradCheck("clamp min only", [c]) { clamp($0[0], min: 0) }
    }

    func testKinkGradientsMatchPyTorch() {
        // abs at 0 → 0; clamp at a bound passes the gradient (PyTorch's convention).
        let x = T([3], [-1, 0, 2]).requiringGrad()
        abs(x).sum().backward()
        assertClose(x.grad!, shape: [3], [-1, 0, 1])
        let y = T([3], [-1, 0, 1]).requiringGrad()
        clamp(y, min: 0, max: 1).sum().backward()
        assertClose(y.grad!, shape: [3], [0, 1, 1])
    }
}
