// Activations, softmax/log-softmax and dropout: hand-computed values and gradient checks.
import XCTest
@testable import Runtime

final class ActivationTests: XCTestCase {
    func testActivationValues() {
        let x = T([5], [-2, -1, 0, 1, 3])
        assertClose(relu(x), shape: [5], [0, 0, 0, 1, 3])
        assertClose(leakyRelu(x, slope: 0.1), shape: [5], [-0.2, -0.1, 0, 1, 3])
        assertClose(leakyRelu(x), shape: [5], [-0.02, -0.01, 0, 1, 3])
        // Φ(1) = 0.841344746, Φ(-1) = 0.158655254, Φ(-2) = 0.022750132, Φ(3) = 0.998650102
        assertClose(gelu(x), shape: [5], [-0.045500264, -0.158655254, 0, 0.841344746, 2.995950306], atol: 1e-6)
        // 0.5 x (1 + tanh(√(2/π)(x + 0.044715 x³)))
        let tanhForm = x.scalars.map { v -> Float in
            let u = 0.7978845608028654 * (Double(v) + 0.044715 * Double(v * v * v))
            return Float(0.5 * Double(v) * (1 + Foundation.tanh(u)))
        }
        assertClose(gelu(x, approximation: .tanh).scalars, tanhForm, atol: 1e-6)
        assertClose(gelu(T([1], [1]), approximation: .tanh), shape: [1], [0.841191990])
        assertClose(sigmoid(x), shape: [5], [0.119202922, 0.268941421, 0.5, 0.731058579, 0.952574127])
        assertClose(silu(x), shape: [5], [-0.238405844, -0.268941421, 0, 0.731058579, 2.857722381])
        assertClose(tanh(x), shape: [5], [-0.964027580, -0.761594156, 0, 0.761594156, 0.995054754])
        // Extremes stay finite.
        let big = T([4], [-100, -30, 30, 100])
        assertClose(sigmoid(big), shape: [4], [0, 9.357623e-14, 1, 1], atol: 1e-12)
        assertClose(silu(big), shape: [4], [0, -2.8072868e-12, 30, 100], atol: 1e-10)
        XCTAssertTrue(gelu(big).scalars.allSatisfy(\.isFinite))
        XCTAssertTrue(gelu(big, approximation: .tanh).scalars.allSatisfy(\.isFinite))
    }

    func testActivationByName() {
        let x = T([3], [-1, 0.5, 2])
        for (name, f) in [("relu", relu), ("silu", silu), ("swish", silu), ("tanh", tanh), ("sigmoid", sigmoid),
                          ("gelu", { gelu($0) }), ("gelu_new", { gelu($0, approximation: .tanh) }),
                          ("gelu_pytorch_tanh", { gelu($0, approximation: .tanh) }),
                          ("leaky_relu", { leakyRelu($0) })] as [(String, (Tensor) -> Tensor)] {
            guard let g = activation(named: name) else { XCTFail("no activation \(name)"); continue }
            XCTAssertEqual(g(x).scalars, f(x).scalars, name)
        }
        XCTAssertNil(activation(named: "nope"))
    }

    func testActivationGradients() {
        let nz = awayFromZero([3, 5], seed: 61), x = randn([3, 5], seed: 62, std: 2)
        gradCheck("relu", [nz]) { relu($0[0]) }
        gradCheck("leakyRelu", [nz]) { leakyRelu($0[0], slope: 0.2) }
        gradCheck("gelu", [x], eps: 1e-3) { gelu($0[0]) }
        gradCheck("gelu tanh", [x], eps: 1e-3) { gelu($0[0], approximation: .tanh) }
        gradCheck("silu", [x], eps: 1e-3) { silu($0[0]) }
        gradCheck("tanh", [x], eps: 1e-3) { tanh($0[0]) }
        gradCheck("sigmoid", [x], eps: 1e-3) { sigmoid($0[0]) }
    }

    func testSoftmaxValues() {
        let x = T([2, 3], [1, 2, 3, 1000, 1001, 1002])
        let p: [Float] = [0.090030573, 0.244728471, 0.665240956]
        assertClose(softmax(x), shape: [2, 3], p + p)
        assertClose(logSoftmax(x), shape: [2, 3], (p + p).map { Foundation.log($0) })
        // Along axis 0: columns.
        let y = T([2, 2], [0, 1, Float(Foundation.log(3.0)), 1])
        assertClose(softmax(y, axis: 0), shape: [2, 2], [0.25, 0.5, 0.75, 0.5])
        // Masked entries (-inf) get 0; an all-masked lane gives zeros (log: -inf), not NaN.
        let m = T([2, 3], [0, -.infinity, 0, -.infinity, -.infinity, -.infinity])
        XCTAssertEqual(softmax(m).scalars, [0.5, 0, 0.5, 0, 0, 0])
        XCTAssertEqual(logSoftmax(m).scalars[3...].map { $0 }, [-.infinity, -.infinity, -.infinity])
        let m0 = T([3, 2], [0, -.infinity, -.infinity, -.infinity, 0, -.infinity])
        XCTAssertEqual(softmax(m0, axis: 0).scalars, [0.5, 0, 0, 0, 0.5, 0])
    }

    func testSoftmaxGradients() {
        let x = randn([2, 3, 4], seed: 63, std: 1.5)
        for axis in [0, 1, 2, -1] {
            gradCheck("softmax axis \(axis)", [x], eps: 1e-3) { softmax($0[0], axis: axis) }
            gradCheck("logSoftmax axis \(axis)", [x], eps: 1e-3) { logSoftmax($0[0], axis: axis) }
        }
        // A masked (-inf) column: gradient through the others.
        let mask = T([1, 4], [0, 0, 1, 0])
        gradCheck("softmax with mask", [randn([3, 4], seed: 64)], eps: 1e-3) {
            softmax($0[0].maskedFill(mask, -.infinity))
        }
    }

    func testDropout() {
        let x = uniform([1000], seed: 65, 1, 2)
        let g = RandomGenerator(seed: 5)
        let y = dropout(x, p: 0.3, training: true, generator: g)
        XCTAssertEqual(g.offset, 1000, "dropout advances its generator by one draw per element")
        let zeros = y.scalars.filter { $0 == 0 }.count
        XCTAssertTrue((240...360).contains(zeros), "dropped \(zeros) of 1000 at p = 0.3")
        for (a, b) in zip(x.scalars, y.scalars) where b != 0 { XCTAssertEqual(b, a / 0.7, accuracy: 1e-5) }
        // Reproducible from (seed, stream, offset).
        XCTAssertEqual(dropout(x, p: 0.3, training: true, generator: RandomGenerator(seed: 5)).scalars, y.scalars)
        XCTAssertNotEqual(dropout(x, p: 0.3, training: true, generator: g).scalars, y.scalars)
        // Evaluation and p = 0 are the identity.
        XCTAssertTrue(dropout(x, p: 0.3, training: false, generator: g) === x)
        XCTAssertTrue(dropout(x, p: 0, training: true, generator: g) === x)
        // Gradient: the same mask, with a fixed generator recreated on every call.
        gradCheck("dropout", [randn([4, 6], seed: 66)]) { dropout($0[0], p: 0.4, training: true, generator: RandomGenerator(seed: 9)) }
    }
}
