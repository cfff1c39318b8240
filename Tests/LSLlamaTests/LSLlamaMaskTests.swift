// Attention and pooling semantics on SmolLM2 (what LS-unLLaMA changes): causal — a later token never
// changes an earlier state; unmasked — it does; unmasked with the padding mask — appended pads change
// nothing (≤ 1e-5), and with the reference's mask they do; the first layers stay causal with
// --bidirectional-from; `last` pooling finds the last real token with left and right padding; fresh
// LoRA adapters (B = 0) leave the model's output bit for bit, and merged adapters agree with unmerged.
import Foundation
import XCTest
import ToolTestSupport
@testable import LSLlamaCore
@testable import Runtime

final class LSLlamaMaskTests: XCTestCase {
    nonisolated(unsafe) static var loaded: ModelRegistry.Loaded?
    var smol: Backbone { get throws {
        if Self.loaded == nil { Self.loaded = try ModelRegistry.load(path: Repo.smollm2) }
        return Self.loaded!.backbone
    } }

    func hidden(_ ids: [[Int]], causal: Bool?, padding: Bool = true, from: Int? = nil) throws -> (Tensor, TokenBatch) {
        let batch = TokenBatch(ids, padId: 0)
        var input = BackboneInput(batch)
        input.causal = causal
        input.bidirectionalFrom = from
        if !padding { input.padding = nil }
        return (withoutGrad { try! smol(input).lastHidden }, batch)
    }

    /// Row r, position t of hidden [B, T, C].
    func state(_ h: Tensor, _ r: Int, _ t: Int) -> [Float] {
        let (len, c) = (h.shape[1], h.shape[2])
        return Array(h.scalars[((r * len + t) * c)..<((r * len + t + 1) * c)])
    }

    func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max()! }

    func testCausalVersusUnmasked() throws {
        let a = [504, 2113, 314, 253, 1345, 30, 9781, 28], b = a.enumerated().map { $0 == 5 ? 4021 : $1 }
        let (ca, _) = try hidden([a], causal: nil), (cb, _) = try hidden([b], causal: nil)
        for t in 0..<5 { XCTAssertEqual(state(ca, 0, t), state(cb, 0, t), "causal: token 5 must not reach position \(t)") }
        XCTAssertGreaterThan(maxDiff(state(ca, 0, 6), state(cb, 0, 6)), 1e-3)
        let (ua, _) = try hidden([a], causal: false), (ub, _) = try hidden([b], causal: false)
        XCTAssertGreaterThan(maxDiff(state(ua, 0, 0), state(ub, 0, 0)), 1e-3, "unmasked: token 5 reaches position 0")
        // BiLLM's start layer: with every layer causal (from = layers) it is the causal model.
        let layers = try smol.descriptor.layers
        let (fa, _) = try hidden([a], causal: false, from: layers)
        XCTAssertEqual(fa.scalars, ca.scalars)
        let (ma, _) = try hidden([a], causal: false, from: layers / 2), (mb, _) = try hidden([b], causal: false, from: layers / 2)
        XCTAssertGreaterThan(maxDiff(state(ma, 0, 0), state(mb, 0, 0)), 1e-3, "bidirectional from the middle still reaches position 0")
        XCTAssertGreaterThan(maxDiff(state(ma, 0, 0), state(ua, 0, 0)), 1e-4, "and differs from all-bidirectional")
    }

    func testPaddingMaskMakesPadsInvisible() throws {
        let a = [504, 2113, 314, 253, 1345]
        let long = a + [Int](repeating: 7, count: 14)   // a neighbour that forces padding on row 0
        let (alone, _) = try hidden([a], causal: false)
        let (padded, _) = try hidden([a, long], causal: false)
        for t in a.indices { XCTAssertLessThanOrEqual(maxDiff(state(alone, 0, t), state(padded, 0, t)), 1e-5) }
        // The reference's unmasked model attends to the pads: the same row then changes.
        let (refAlone, _) = try hidden([a], causal: false, padding: false)
        let (refPadded, _) = try hidden([a, long], causal: false, padding: false)
        XCTAssertGreaterThan(maxDiff(state(refAlone, 0, 0), state(refPadded, 0, 0)), 1e-3)
    }

    func testLastPoolingWithLeftAndRightPadding() {
        let h = Tensor(shape: [2, 4, 1], scalars: [1, 2, 3, 4, 5, 6, 7, 8])
        let right = pool(h, mask: [[true, true, false, false], [true, true, true, true]], mode: .last)
        XCTAssertEqual(right.scalars, [2, 8])
        let left = pool(h, mask: [[false, false, true, true], [false, true, true, true]], mode: .last)
        XCTAssertEqual(left.scalars, [4, 8])
        let mean = pool(h, mask: [[true, true, false, false], [true, true, true, true]], mode: .mean)
        XCTAssertEqual(mean.scalars, [1.5, 6.5])
    }

    func testFreshLoRAIsTheBaseModelBitForBitAndMergesWithin1e5() throws {
        let ids = [[504, 2113, 314, 253, 1345, 30], [9781, 28, 11]]
        let base = try ModelRegistry.loadBackbone(path: Repo.smollm2)
        let before = withoutGrad { base(BackboneInput(TokenBatch(ids, padId: 0))).lastHidden }.scalars
        base.addLoRA(LoRAConfig(rank: 12, alpha: 32, dropout: 0.1))
        base.eval()
        XCTAssertEqual(withoutGrad { base(BackboneInput(TokenBatch(ids, padId: 0))).lastHidden }.scalars, before)
        for (name, t) in base.loraState() where name.hasSuffix("lora_B.weight") { t.assign(Tensor.randn(t.shape, seed: 3) * 0.02) }
        let adapted = withoutGrad { base(BackboneInput(TokenBatch(ids, padId: 0))).lastHidden }.scalars
        XCTAssertGreaterThan(maxDiff(adapted, before), 1e-3)
        base.mergeLoRA()
        let merged = withoutGrad { base(BackboneInput(TokenBatch(ids, padId: 0))).lastHidden }.scalars
        let scale = adapted.map(abs).max()!
        XCTAssertLessThanOrEqual(maxDiff(merged, adapted) / scale, 1e-5)
    }
}
