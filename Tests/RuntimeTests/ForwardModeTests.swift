// Forward mode: every tangent rule against reverse mode. For f and a direction v, the tangent of
// r·f(x) must equal Σᵢ ∇ᵢ(r·f)·vᵢ, whose gradients the backward passes (checked against finite
// differences elsewhere) give. Whole models too: tiny LLaMA and BERT losses with tangents handed to
// every parameter through a ParameterResolver, as forward-gradient training does it.
import Foundation
import XCTest
@testable import Runtime

final class ForwardModeTests: XCTestCase {
    /// Compares forward-mode and reverse-mode directional derivatives of Σ r ⊙ f(xs).
    private func jvpCheck(_ name: String, _ xs: [Tensor], seed: UInt64 = 1, _ f: ([Tensor]) -> Tensor,
                          file: StaticString = #filePath, line: UInt = #line) {
        let vs = xs.enumerated().map { Tensor.randn($0.element.shape, seed: seed, stream: UInt64(100 + $0.offset)) }
        // Forward mode.
        for (x, v) in zip(xs, vs) { x.tangent = v; x.requiresGrad = false; x.grad = nil }
        let y = withoutGrad { f(xs) }
        let r = Tensor.randn(y.shape, seed: seed, stream: 7)
        guard let ty = y.tangent else { return XCTFail("\(name): no tangent on the output", file: file, line: line) }
        let forward = zip(ty.scalars, r.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        // Reverse mode.
        for x in xs { x.tangent = nil; x.requiresGrad = true }
        let y2 = f(xs)
        y2.backward(r)
        var reverse = 0.0
        for (x, v) in zip(xs, vs) {
            guard let g = x.grad else { continue }
            reverse += zip(g.scalars, v.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            x.requiresGrad = false
        }
        XCTAssertEqual(forward, reverse, accuracy: 1e-3 * max(1, abs(reverse)), "\(name): forward \(forward) vs reverse \(reverse)",
                       file: file, line: line)
    }

    func testOpRules() {
        let rng = RandomGenerator(seed: 3)
        func r(_ s: [Int]) -> Tensor { rng.normal(s) }
        func pos(_ s: [Int]) -> Tensor { rng.uniform(s, low: 0.5, high: 2) }
        jvpCheck("add broadcast", [r([3, 4]), r([4])]) { add($0[0], $0[1]) }
        jvpCheck("sub/mul/div", [r([3, 4]), pos([3, 4])]) { div(mul(sub($0[0], $0[1]), $0[0]), $0[1]) }
        jvpCheck("scalar ops", [r([5])]) { neg(shift(scale($0[0], 3), 1)) }
        jvpCheck("math", [pos([6])]) { add(add(exp($0[0]), log($0[0])), add(sqrt($0[0]), add(rsqrt($0[0]), add(square($0[0]), add(pow($0[0], 1.5), reciprocal($0[0])))))) }
        jvpCheck("trig clamp abs", [r([6])]) { add(add(sin($0[0]), cos($0[0])), add(clamp($0[0], min: -0.5, max: 0.5), abs($0[0]))) }
        jvpCheck("reductions", [r([3, 5])]) { concat([$0[0].sum(axis: 1), $0[0].mean(axis: 1), $0[0].max(axis: 1), $0[0].logsumexp(axis: 1), $0[0].sum().reshaped([1])], axis: 0) }
        jvpCheck("shape ops", [r([2, 3, 4])]) { concat([$0[0].permuted(2, 0, 1).reshaped([4, 6]), $0[0].slice(axis: 2, 1, 4, step: 2).reshaped([6, 2]).transposed().broadcasted(to: [2, 6])], axis: 0) }
        jvpCheck("indexing", [r([5, 3]), r([2, 3])]) { xs in
            let sel = xs[0].indexSelect(axis: 0, [4, 0, 4])
            let g = xs[0].gather(axis: 1, indices: [0, 2, 1, 1, 0, 0, 2, 2, 1, 0, 1, 2, 0, 1, 2], indexShape: [5, 3])
            let sc = scatterAdd(xs[0], axis: 0, indices: [1, 3, 0, 4, 4, 2], source: xs[1])
            let m = xs[0].maskedFill(Tensor(shape: [5, 1], scalars: [1, 0, 0, 1, 0]), -2)
            let w = `where`(Tensor(shape: [1, 3], scalars: [1, 0, 1]), xs[0], m)
            return concat([sel.reshaped([-1]), g.reshaped([-1]), sc.reshaped([-1]), w.reshaped([-1])], axis: 0)
        }
        jvpCheck("matmul", [r([2, 3, 4]), r([5, 4])]) { matmul($0[0], $0[1], transposeB: true) }
        jvpCheck("matmul tA", [r([4, 3]), r([4, 5])]) { matmul($0[0], $0[1], transposeA: true) }
        jvpCheck("activations", [r([12])]) { xs in concat([relu(xs[0]), leakyRelu(xs[0]), gelu(xs[0]), gelu(xs[0], approximation: .tanh), sigmoid(xs[0]), tanh(xs[0]), silu(xs[0]), softplus(xs[0])], axis: 0) }
        jvpCheck("softmax", [r([3, 6])]) { concat([softmax($0[0], axis: 1), logSoftmax($0[0], axis: 0)], axis: 0) }
        jvpCheck("norms", [r([4, 6]), pos([6]), r([6])]) { add(layerNorm($0[0], weight: $0[1], bias: $0[2]), rmsNorm($0[0], weight: $0[1])) }
        jvpCheck("losses", [r([4, 5]), pos([4, 5])]) { xs in
            add(crossEntropy(xs[0], targets: [1, 0, 4, 2], labelSmoothing: 0.1), add(mseLoss(xs[0], xs[1]), klDivergence(input: logSoftmax(xs[0], axis: 1), target: softmax(xs[1], axis: 1))))
        }
        let rope = RoPE(headDim: 4, theta: 100)
        let (c, s) = rope.tables(positions: [0, 1, 5])
        jvpCheck("rope", [r([1, 3, 2, 4])]) { applyRoPE($0[0], cos: c, sin: s) }
        jvpCheck("attention", [r([2, 3, 4, 4]), r([2, 5, 2, 4]), r([2, 5, 2, 4])]) {
            attention($0[0], $0[1], $0[2], mask: AttentionMask(causal: true, queryOffset: 2, keyPadding: [[true, true, false, true, true], [true, true, true, true, true]]))
        }
        jvpCheck("attention with bias", [r([2, 3, 4, 4]), r([2, 5, 4, 4]), r([2, 5, 4, 4]), r([1, 4, 3, 5])]) {
            attention($0[0], $0[1], $0[2], mask: AttentionMask(keyPadding: [[true, true, false, true, true], [true, true, true, true, true]]), bias: $0[3])
        }
        jvpCheck("attention, bias tangent only", [r([1, 3, 2, 4]), r([1, 3, 2, 4]), r([1, 3, 2, 4]), r([1, 2, 3, 3])]) {
            attention($0[0].detach(), $0[1].detach(), $0[2].detach(), mask: AttentionMask(causal: true), bias: $0[3])
        }
        jvpCheck("relativeGather", [r([2, 2, 3, 5])]) { relativeGather($0[0], index: [0, 4, 2, 3, 1, 1, 4, 0, 2], tq: 3, tk: 3, byKeys: true) }
    }

    /// Hands every parameter a tangent (its own random direction) when a layer reads it.
    final class TangentResolver: ParameterResolver {
        var directions: [ObjectIdentifier: Tensor] = [:]
        func resolve(_ t: Tensor) -> Tensor {
            guard let v = directions[ObjectIdentifier(t)] else { return t }
            let view = t.detach()
            view.tangent = v
            return view
        }
    }

    func testWholeModelsThroughAResolver() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data/fixtures").standardized.path
        let llama = try LLaMAModel.load(path: fixtures + "/llama/tiny-untied-bias")
        let ids = [3, 1, 4, 1, 5, 9, 2, 6]
        func llamaLoss() -> Tensor { crossEntropy(llama(ids: ids).reshaped([8, -1]), targets: [1, 4, 1, 5, 9, 2, 6, 5]) }
        let bert = try BERTModel.load(directory: fixtures + "/bert/tiny-gelu")
        let batch = TokenBatch([[5, 6, 7, 8], [9, 10]])
        func bertLoss() -> Tensor { square(pool(bert(batch), mask: batch.mask, mode: .mean)).sum() }
        var models: [(String, Module, () -> Tensor)] = [("llama", llama as Module, llamaLoss), ("bert", bert as Module, bertLoss)]
        // The other encoders, with a prefix on one of them (prefix tuning's path through every layer).
        for name in ["mpnet-mlm", "xlmr-mlm", "deberta-v2-tiny", "deberta-v3-tiny", "deberta-c2p-tiny"] {
            let m = try ModelRegistry.loadBackbone(path: fixtures + "/encoders/" + name)
            let tb = TokenBatch([[5, 6, 7, 8, 9], [9, 10, 11]], padId: m.descriptor.padId ?? 0)
            var input = BackboneInput(tb)
            if name == "deberta-v3-tiny" {
                let d = m.descriptor
                input.prefix = (0..<d.layers).map { l in
                    LayerKeyValues(keys: Tensor.randn([2, d.heads, d.headDim], seed: 9, stream: UInt64(2 * l)),
                                   values: Tensor.randn([2, d.heads, d.headDim], seed: 9, stream: UInt64(2 * l + 1)))
                }
            }
            let lossInput = input
            models.append((name, m, { square(pool(m(lossInput).lastHidden, mask: tb.mask, mode: .mean)).sum() }))
        }
        for (name, model, loss) in models {
            let params = model.parameters()
            let resolver = TangentResolver()
            for (i, p) in params.enumerated() { resolver.directions[ObjectIdentifier(p)] = Tensor.randn(p.shape, seed: 4, stream: UInt64(i)) }
            let jvp = withoutGrad { Parameters.withResolver(resolver) { loss() } }.tangent!.item()
            model.unfreeze()
            model.zeroGrad()
            loss().backward()
            var reverse = 0.0
            for p in params {
                guard let g = p.grad else { continue }  // unused (BERT's pooler): zero
                let v = resolver.directions[ObjectIdentifier(p)]!
                reverse += zip(g.scalars, v.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            model.freeze()
            XCTAssertEqual(Double(jvp), reverse, accuracy: 1e-3 * max(1, abs(reverse)), "\(name): forward \(jvp) vs reverse \(reverse)")
        }
    }
}
