// LoRA: PEFT parity (adapters saved by PEFT on a tiny LLaMA, data/fixtures/lora from
// scripts/fixtures/lora.py), fresh adapters change nothing, gradients, merge, save/load round trip.
import Foundation
import XCTest
@testable import Runtime

final class LoRATests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data/fixtures").standardized
    private struct IO: Decodable { let ids: [[Int]]; let logits: [Float]; let merged_logits: [Float] }

    private func tiny() throws -> LLaMAModel { try LLaMAModel.load(path: Self.fixtures.appendingPathComponent("llama/tiny-untied-bias").path) }

    private func maxDiff(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { Swift.abs($0 - $1) }.max()! }

    func testPEFTAdaptersGiveTheSameLogits() throws {
        let io = try JSONDecoder().decode(IO.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("lora/io.json")))
        let model = try tiny()
        let cfg = try model.loadLoRA(from: Self.fixtures.appendingPathComponent("lora").path)
        XCTAssertEqual(cfg.rank, 4)
        XCTAssertEqual(model.loraState().count, 2 * 3 * 2)  // A and B, 3 modules, 2 layers
        let ids = io.ids.flatMap { $0 }
        XCTAssertLessThan(maxDiff(withoutGrad { model(ids: ids, batch: 2) }.scalars, io.logits), 1e-4)
        model.mergeLoRA()
        XCTAssertTrue(model.loraState().isEmpty)
        XCTAssertLessThan(maxDiff(withoutGrad { model(ids: ids, batch: 2) }.scalars, io.merged_logits), 1e-4)
    }

    func testFreshAdapterChangesNothingAndOnlyAdaptersTrain() throws {
        let model = try tiny()
        let ids = [1, 5, 9, 2]
        let before = withoutGrad { model(ids: ids) }.scalars
        let adapted = model.addLoRA(LoRAConfig(rank: 2, alpha: 4, targets: ["q_proj", "o_proj"]))
        XCTAssertEqual(adapted, ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.o_proj",
                                 "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.o_proj"])
        XCTAssertEqual(withoutGrad { model(ids: ids) }.scalars, before)
        XCTAssertEqual(Set(model.trainableParameters().map { ObjectIdentifier($0) }),
                       Set(model.loraState().map { ObjectIdentifier($0.1) }))
        XCTAssertTrue(model.loraState().map(\.0).contains("model.layers.1.self_attn.o_proj.lora_B.weight"))
        // A few Adam steps on a toy loss move only the adapters, and the loss goes down.
        let frozen = model.layers[0].selfAttn.qProj.weight.scalars
        let opt = Adam(model.trainableParameters(), lr: 0.05)
        var losses: [Float] = []
        for _ in 0..<5 {
            let loss = crossEntropy(model(ids: ids).reshaped([4, -1]), targets: [5, 9, 2, 1])
            losses.append(loss.item())
            opt.zeroGrad(); loss.backward(); opt.step()
        }
        XCTAssertLessThan(losses.last!, losses.first!)
        XCTAssertEqual(model.layers[0].selfAttn.qProj.weight.scalars, frozen)
    }

    func testGradientAndRegexTargets() {
        Initializer.seed(3)
        let lin = Linear(5, 4)
        let lora = LoRA(inFeatures: 5, outFeatures: 4, rank: 2, alpha: 3)
        lora.b = Tensor.randn([4, 2], seed: 2).requiringGrad()
        lin.lora = lora
        gradCheck("lora", [Tensor.randn([3, 5], seed: 1), lora.a, lora.b], eps: 1e-3) { xs in lin(xs[0]) }
        let mlp = MLP([4, 8, 4])
        let adapted = mlp.addLoRA(LoRAConfig(targetPattern: "layers\\.(0|2)"))
        XCTAssertEqual(adapted, ["layers.0", "layers.2"])
    }

    func testSaveAndLoadRoundTrip() throws {
        let model = try tiny()
        let cfg = LoRAConfig(rank: 3, alpha: 6, targets: ["k_proj", "up_proj"])
        model.addLoRA(cfg)
        for (_, t) in model.loraState() { t.assign(Tensor.randn(t.shape, seed: 9)) }
        let ids = [3, 1, 4, 1, 5]
        let want = withoutGrad { model(ids: ids) }.scalars
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lora-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try model.saveLoRA(cfg, to: dir, baseModel: "tiny")
        let fresh = try tiny()
        let back = try fresh.loadLoRA(from: dir)
        XCTAssertEqual(back.rank, 3)
        XCTAssertEqual(withoutGrad { fresh(ids: ids) }.scalars, want)
        XCTAssertThrowsError(try Linear(2, 2).saveLoRA(cfg, to: dir + "/none"))
    }
}
