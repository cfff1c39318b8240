// LLMFew against the reference model in PyTorch + PEFT (data/fixtures/llmfew from
// scripts/fixtures/llmfew.py, on the tiny LLaMA of data/fixtures/llama/tiny-gqa-tied): logits and loss,
// the reference head's probabilities and double-softmax loss, the gradient of every trained tensor
// (PTCEnc's weight_g/weight_v/biases, residuals, projection, LayerNorm, head, LoRA A/B) and every tensor
// after one Adam step. The model is read from the fixture's own files (llmfew.json, model.safetensors
// under the reference's names, PEFT's adapter).
import Foundation
import XCTest
import ToolTestSupport
@testable import LLMFewCore
@testable import Runtime

struct LLMFewFixture: Decodable {
    let x: [[[Float]]]
    let lengths: [Int]
    let targets: [Int]
    let patches: Int
    let logits: [Float]
    let loss: Float
    let reference_probs: [Float]
    let reference_loss: Float
    let grads: [String: [Float]]
    let after_adam: [String: [Float]]
}

func assertClose(_ a: [Float], _ b: [Float], rel: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    let scale = max(b.map(abs).max() ?? 0, 1e-6)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst / scale, rel, "\(what): worst difference \(worst) at scale \(scale)", file: file, line: line)
}

final class LLMFewParityTests: XCTestCase {
    static let dir = Repo.path("data/fixtures/llmfew")
    let fixture = try! JSONDecoder().decode(LLMFewFixture.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/io.json")))

    func model(referenceHead: Bool = false) throws -> LLMFewModel {
        let m = try LLMFewFiles.load(directory: Self.dir + "/model", base: Repo.path("data/fixtures/llama/tiny-gqa-tied"))
        guard referenceHead else { return m }
        var c = m.config
        c.referenceHead = true
        let r = LLMFewModel(config: c, backbone: m.backbone, generator: RandomGenerator(seed: 0, stream: 0))
        try r.loadOwn(Dictionary(uniqueKeysWithValues: m.ownTensors()))
        return r
    }

    var batch: [Series] {
        zip(fixture.x, fixture.lengths).map { x, l in Series(channels: x.map { Array($0.prefix(l)) }, label: nil) }
    }

    func testForwardAndReferenceHead() throws {
        let m = try model()
        XCTAssertEqual(m.config.patches, fixture.patches)
        let out = try withoutGrad { try m.outputs(batch) }
        assertClose(out.scalars, fixture.logits, rel: 1e-4, "logits")
        XCTAssertEqual(crossEntropy(out, targets: fixture.targets).item(), fixture.loss, accuracy: 1e-4)
        let r = try model(referenceHead: true)
        r.eval()
        let probs = try withoutGrad { try r.outputs(batch) }
        assertClose(probs.scalars, fixture.reference_probs, rel: 1e-4, "reference-head probabilities")
        XCTAssertEqual(try withoutGrad { try r.loss(batch, targets: fixture.targets) }.item(), fixture.reference_loss, accuracy: 1e-4)
    }

    func testGradientsAndOneAdamStep() throws {
        let m = try model()
        m.train()  // dropout is 0 in the fixture: train mode changes nothing but must not break parity
        let trained = trainedTensors(m)
        XCTAssertEqual(Set(trained.map(\.0)), Set(fixture.grads.keys))
        let optimizer = Adam(trained.map(\.1), lr: 1e-3)
        let (value, _) = try optimizer.update(try m.loss(batch, targets: fixture.targets), maxGradNorm: .infinity)
        XCTAssertEqual(value, fixture.loss, accuracy: 1e-4)
        for (name, t) in trained {
            guard let g = t.grad else { XCTFail("\(name): no gradient"); continue }
            assertClose(g.scalars, fixture.grads[name]!, rel: 2e-4, "grad \(name)")
            assertClose(t.scalars, fixture.after_adam[name]!, rel: 1e-4, "after Adam \(name)")
        }
    }

    func testSaveAndLoadKeepTheModel() throws {
        let m = try model()
        let dir = try temporaryDirectory("llmfew-save")
        try LLMFewFiles.save(m, to: dir)
        let again = try LLMFewFiles.load(directory: dir, base: Repo.path("data/fixtures/llama/tiny-gqa-tied"))
        let a = try withoutGrad { try m.outputs(batch) }.scalars, b = try withoutGrad { try again.outputs(batch) }.scalars
        XCTAssertEqual(a, b)
    }
}
