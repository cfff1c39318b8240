// The tape itself: accumulation, shared inputs, deep chains, no-grad mode, detach, retainGraph.
import XCTest
@testable import Runtime

final class AutogradTests: XCTestCase {
    func testTwoBackwardPassesAccumulate() {
        let x = T([3], [1, 2, 3]).requiringGrad()
        (x * x).sum().backward()
        assertClose(x.grad!, shape: [3], [2, 4, 6])
        (x * 3).sum().backward()
        assertClose(x.grad!, shape: [3], [5, 7, 9])
        zeroGrad([x])
        XCTAssertNil(x.grad)
    }

    func testAccumulationDoesNotAliasAnotherGradient() {
        // add's backward hands the same tensor to both inputs; accumulating into one must not change the other.
        let a = T([2], [1, 2]).requiringGrad(), b = T([2], [3, 4]).requiringGrad()
        add(a, b).backward(T([2], [1, 1]))
        (a * 5).sum().backward()
        assertClose(a.grad!, shape: [2], [6, 6]); assertClose(b.grad!, shape: [2], [1, 1])
        // Nor the seed the caller passed in.
        let seed = T([2], [1, 1])
        let c = T([2], [1, 2]).requiringGrad()
        shift(c, 1).backward(seed)
        (c * 2).sum().backward()
        XCTAssertEqual(seed.scalars, [1, 1])
    }

    func testSharedInputUsedTwice() {
        let x = T([3], [1, 2, 3]).requiringGrad()
        let y = x * x + x                   // dy/dx = 2x + 1
        y.sum().backward()
        assertClose(x.grad!, shape: [3], [3, 5, 7])
        // A diamond: h = exp(x); out = h·h + sin(h).
        let z = T([2], [0.1, -0.4])
        gradCheck("diamond", [z]) { t in let h = exp(t[0]); return h * h + sin(h) }
        gradCheck("same tensor as both operands", [z]) { mul($0[0], $0[0]) + div($0[0], shift($0[0], 3)) }
    }

    func testDeepChainNoStackOverflow() {
        let depth = 10_000
        let x = T([2], [0.5, -1]).requiringGrad()
        var y = x
        for i in 0..<depth { y = i % 2 == 0 ? shift(y, 0.001) : scale(y, 1.0001) }
        y.sum().backward()
        let expected = Float(Foundation.pow(1.0001, Double(depth / 2)))
        assertClose(x.grad!, shape: [2], [expected, expected], atol: 1e-4)
    }

    func testDeepGraphIsReleasedWithoutRecursion() {
        // A graph dropped without a backward pass (or kept by retainGraph) is freed when its last tensor
        // goes; freeing it recursively (one stack frame per op) overflowed the stack near 100k ops.
        let depth = 300_000
        let x = T([2], [0.5, -1]).requiringGrad()
        weak var firstNode: Tensor?
        do {
            var z = shift(x, 1)
            firstNode = z
            for i in 0..<depth { z = i % 3 == 0 ? mul(z, z) : shift(z, 1) }  // mul: the same input twice
            XCTAssertNotNil(z.gradFn)
        }
        XCTAssertNil(firstNode, "the whole chain was freed")
        do {
            var z = x
            for _ in 0..<depth { z = scale(z, 1) }
            z.sum().backward(retainGraph: true)
            assertClose(x.grad!, shape: [2], [1, 1])
        }
        // A tensor still held from the middle of a dropped chain keeps its own part of the graph.
        var kept: Tensor?
        do {
            var z = x
            for i in 0..<1000 { z = scale(z, 2); if i == 9 { kept = z } }
        }
        zeroGrad([x])
        kept!.sum().backward()
        assertClose(x.grad!, shape: [2], [1024, 1024])
    }

    func testLeafGradientsOwnTheirMemory() {
        // add's backward passes the same tensor to both operands, and a reshape passes the seed through;
        // the leaves' .grad must still be separate buffers, so in-place updates (clipping) stay local.
        let a = T([2], [1, 2]).requiringGrad(), b = T([2], [3, 4]).requiringGrad()
        let seed = T([2], [1, 1])
        add(a, b).backward(seed)
        XCTAssertFalse(a.grad!.storage === b.grad!.storage)
        XCTAssertFalse(a.grad!.storage === seed.storage)
        a.grad!.data[0] = 100
        XCTAssertEqual(b.grad!.scalars, [1, 1]); XCTAssertEqual(seed.scalars, [1, 1])
        let c = T([2, 2], [1, 2, 3, 4]).requiringGrad()
        let seed2 = T([4], [1, 2, 3, 4])
        c.reshaped(4).backward(seed2)
        XCTAssertFalse(c.grad!.storage === seed2.storage)
        XCTAssertEqual(c.grad!.shape, [2, 2])
        let leaf = T([3], [1, 2, 3]).requiringGrad(), seed3 = T([3], [1, 1, 1])
        leaf.backward(seed3)
        XCTAssertFalse(leaf.grad!.storage === seed3.storage)
    }

    func testWithoutGradRecordsNothing() {
        let x = T([2], [1, 2]).requiringGrad()
        let y = withoutGrad { exp(x) * x + matmul(x.reshaped(1, 2), x.reshaped(2, 1)).reshaped(1) }
        XCTAssertNil(y.gradFn); XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(Autograd.isRecording, "recording is restored after withoutGrad")
        // withGrad inside withoutGrad records again.
        let z = withoutGrad { withGrad { x * 2 } }
        XCTAssertNotNil(z.gradFn)
        // Inputs that do not require grad record nothing either.
        let c = T([2], [1, 2])
        XCTAssertNil((c * c).gradFn)
    }

    func testDetachStopsGradients() {
        let x = T([2], [1, 2]).requiringGrad()
        let y = x * x.detach()               // d/dx = x (the detached factor is a constant)
        y.sum().backward()
        assertClose(x.grad!, shape: [2], [1, 2])
        XCTAssertFalse(x.detach().requiresGrad)
        XCTAssertTrue(x.detach().storage === x.storage, "detach shares the values")
        // A leaf that does not require grad gets nothing; neither do intermediates.
        let a = T([2], [1, 2]), b = T([2], [3, 4]).requiringGrad()
        let h = a * b
        (h * 2).sum().backward()
        XCTAssertNil(a.grad); XCTAssertNil(h.grad)
        assertClose(b.grad!, shape: [2], [2, 4])
    }

    func testRetainGraph() {
        let x = T([2], [1, 3]).requiringGrad()
        let loss = (x * x).sum()
        loss.backward(retainGraph: true)
        loss.backward(retainGraph: true)
        assertClose(x.grad!, shape: [2], [4, 12])
        loss.backward()                          // last pass frees the graph
        assertClose(x.grad!, shape: [2], [6, 18])
        XCTAssertNil(loss.gradFn)
        loss.backward()                          // nothing left to walk: no change
        assertClose(x.grad!, shape: [2], [6, 18])
    }

    func testBackwardSeeds() {
        let x = T([2, 2], [1, 2, 3, 4]).requiringGrad()
        (x * 2).backward(T([2, 2], [1, 0, 0, -1]))
        assertClose(x.grad!, shape: [2, 2], [2, 0, 0, -2])
        // Backward from a leaf.
        let l = T([], [5]).requiringGrad()
        l.backward()
        assertClose(l.grad!, shape: [], [1])
        // A one-element non-scalar result takes the implicit seed 1.
        let m = T([1, 1], [2]).requiringGrad()
        square(m).backward()
        assertClose(m.grad!, shape: [1, 1], [4])
    }

    func testGradientThroughViews() {
        // Slices and reshapes share storage with their source; gradients still land per element.
        let x = randn([4, 3], seed: 180)
        gradCheck("views", [x]) { t in
            let a = t[0][1].reshaped(3, 1), b = t[0].slice(axis: 0, 2, 4).reshaped(2, 3)
            return a.transposed() * b + t[0][0]
        }
    }
}

final class GradCheckSelfTests: XCTestCase {
    /// The checker must catch a wrong backward (here: d/dx x² claimed to be x) and pass a right one.
    func testGradCheckCatchesAWrongBackward() {
        func wrongSquare(_ x: Tensor) -> Tensor {
            record(mapKernel(x) { $0 * $0 }, "wrongSquare", [x]) { g in [mul(g, x)] }
        }
        let x = randn([5], seed: 190)
        let bad = gradCheckResult("wrong", [x]) { wrongSquare($0[0]) }
        XCTAssertNotNil(bad.failure); XCTAssertGreaterThan(bad.maxDiff, 0.1)
        let good = gradCheckResult("right", [x]) { square($0[0]) }
        XCTAssertNil(good.failure); XCTAssertLessThan(good.maxDiff, 1e-3)
        // A function of inputs that records nothing is reported too.
        XCTAssertNotNil(gradCheckResult("detached", [x]) { $0[0].detach() }.failure)
    }
}
