// Test helpers: a finite-difference gradient check for any f: [Tensor] -> Tensor, value comparison
// with tolerances, and deterministic inputs kept away from the kinks of non-smooth ops.
//
// Gradient check: with r a fixed random tensor of f's output shape, L(x) = Σ r ⊙ f(x) (so every output
// element matters). Autograd gives ∂L/∂x from f(x).backward(r); the numeric side perturbs one input
// element at a time by ±eps and takes (L₊ − L₋) / (x₊ − x₋), with L summed in Double from the Float
// outputs and the actual Float step in the denominator. Float32 forward passes leave ~1e-7 relative
// noise in each output, which the division by 2·eps magnifies (about 1e-5·|y| at eps 1e-2); the central
// difference's truncation error is about eps²/6·f'''. Hence eps 1e-2..1e-3, and a pass criterion
// |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|) with rtol 1e-2 and atol 1e-3.
import XCTest
@testable import Runtime

struct GradCheckOptions {
    var eps: Double = 1e-2
    var rtol: Double = 1e-2
    var atol: Double = 1e-3
    /// Indices of the inputs to check (nil: all); the others are constants (no requiresGrad).
    var wrt: [Int]? = nil
}

/// Checks autograd against central differences for `f` at `inputs`; fails the test on a mismatch,
/// printing the first mismatches and the max difference. Returns the max abs difference.
@discardableResult
func gradCheck(_ name: String, _ inputs: [Tensor], eps: Double = 1e-2, rtol: Double = 1e-2, atol: Double = 1e-3,
               wrt: [Int]? = nil, seed: UInt64 = 99, file: StaticString = #filePath, line: UInt = #line,
               _ f: ([Tensor]) -> Tensor) -> Double {
    let r = gradCheckResult(name, inputs, eps: eps, rtol: rtol, atol: atol, wrt: wrt, seed: seed, f)
    if let failure = r.failure { XCTFail(failure, file: file, line: line) }
    return r.maxDiff
}

/// The check itself: the max abs difference and, on a mismatch (or a broken graph), the report.
func gradCheckResult(_ name: String, _ inputs: [Tensor], eps: Double = 1e-2, rtol: Double = 1e-2, atol: Double = 1e-3,
                     wrt: [Int]? = nil, seed: UInt64 = 99, _ f: ([Tensor]) -> Tensor) -> (maxDiff: Double, failure: String?) {
    let checked = Set(wrt ?? Array(inputs.indices))
    for (i, x) in inputs.enumerated() {
        x.grad = nil
        x.requiresGrad = checked.contains(i)
    }
    let y = f(inputs)
    let r = Tensor.randn(y.shape, seed: seed, stream: 12345)
    let rs = r.scalars.map(Double.init)
    guard y.requiresGrad else {
        for x in inputs { x.requiresGrad = false }
        return (.infinity, "\(name): output does not require grad (nothing recorded)")
    }
    y.backward(r)

    func loss() -> Double {
        let out = withoutGrad { f(inputs) }
        precondition(out.shape == y.shape, "\(name): output shape changed")
        let p = out.data
        var acc = 0.0
        for j in 0..<out.count { acc += rs[j] * Double(p[j]) }
        return acc
    }

    var maxDiff = 0.0
    var mismatches: [String] = []
    var total = 0
    for i in inputs.indices where checked.contains(i) {
        let x = inputs[i]
        let analytic: [Float]
        if let g = x.grad {
            if g.shape != x.shape { mismatches.append("input \(i): gradient shape \(g.shape) for \(x.shape)") }
            analytic = g.scalars
        } else {
            analytic = [Float](repeating: 0, count: x.count)
        }
        for e in 0..<x.count {
            let x0 = x.data[e]
            let xp = Float(Double(x0) + eps), xm = Float(Double(x0) - eps)
            x.data[e] = xp
            let lp = loss()
            x.data[e] = xm
            let lm = loss()
            x.data[e] = x0
            let numeric = (lp - lm) / (Double(xp) - Double(xm))
            let a = Double(analytic[e])
            let diff = Swift.abs(a - numeric)
            maxDiff = Swift.max(maxDiff, diff.isNaN ? .infinity : diff)
            total += 1
            if !(diff <= atol + rtol * Swift.max(Swift.abs(a), Swift.abs(numeric))) {
                if mismatches.count < 6 {
                    mismatches.append("input \(i) \(x.shape) element \(e): autograd \(a), numeric \(numeric)")
                }
            }
        }
    }
    for x in inputs { x.grad = nil; x.requiresGrad = false }
    if mismatches.isEmpty { return (maxDiff, nil) }
    return (maxDiff, "\(name): gradient mismatch (max |diff| \(maxDiff) over \(total) elements; eps \(eps), rtol \(rtol), atol \(atol)):\n  "
            + mismatches.joined(separator: "\n  "))
}

/// Element-wise comparison: |a − e| ≤ atol + rtol·|e|; prints the first mismatches and the max difference.
func assertClose(_ actual: [Float], _ expected: [Float], atol: Float = 1e-5, rtol: Float = 1e-4,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(message): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    var maxDiff: Float = 0
    var bad: [String] = []
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        if a == e { continue }  // also equal infinities
        let d = Swift.abs(a - e)
        maxDiff = Swift.max(maxDiff, d.isNaN ? .infinity : d)
        if !(d <= atol + rtol * Swift.abs(e)) && bad.count < 6 { bad.append("[\(i)] got \(a), expected \(e)") }
    }
    if !bad.isEmpty {
        XCTFail("\(message): mismatch (max |diff| \(maxDiff), atol \(atol), rtol \(rtol)):\n  " + bad.joined(separator: "\n  "),
                file: file, line: line)
    }
}

func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Float = 1e-5, rtol: Float = 1e-4,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(message): shape", file: file, line: line)
    assertClose(actual.scalars, expected.scalars, atol: atol, rtol: rtol, message, file: file, line: line)
}

func assertClose(_ actual: Tensor, shape: [Int], _ expected: [Float], atol: Float = 1e-5, rtol: Float = 1e-4,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, shape, "\(message): shape", file: file, line: line)
    assertClose(actual.scalars, expected, atol: atol, rtol: rtol, message, file: file, line: line)
}

// MARK: inputs

/// N(0, 1) values, reproducible from `seed`.
func randn(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    Tensor.randn(shape, seed: seed, stream: 1, std: std)
}

/// U[low, high) values.
func uniform(_ shape: [Int], seed: UInt64, _ low: Float, _ high: Float) -> Tensor {
    Tensor.rand(shape, seed: seed, stream: 2, low: low, high: high)
}

/// Values with |x| in [0.2, 1.5) and a random sign: at least 0.2 away from a kink at 0.
func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
    let mag = uniform(shape, seed: seed, 0.2, 1.5), sign = uniform(shape, seed: seed &+ 1, -1, 1)
    return Tensor(shape: shape, scalars: zip(mag.scalars, sign.scalars).map { $1 < 0 ? -$0 : $0 })
}

/// All-distinct values at least `gap` apart (a shuffled grid plus small jitter): no ties for max/min.
func distinct(_ shape: [Int], seed: UInt64, gap: Float = 0.1) -> Tensor {
    let n = shape.reduce(1, *)
    let perm = RandomGenerator(seed: seed, stream: 3).permutation(n)
    let jitter = uniform([n], seed: seed, 0, 0.3 * gap).scalars
    let center = Float(n - 1) / 2
    return Tensor(shape: shape, scalars: (0..<n).map { (Float(perm[$0]) - center) * gap + jitter[$0] })
}

/// Builds a tensor from nested literal data.
func T(_ shape: [Int], _ values: [Float]) -> Tensor { Tensor(shape: shape, scalars: values) }
