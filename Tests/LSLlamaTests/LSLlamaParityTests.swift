// ls-llama against PyTorch + PEFT (data/fixtures/ls-llama from scripts/fixtures/ls_llama.py, on the tiny
// LLaMA of data/fixtures/llama/tiny-gqa-tied): the sequence head's loss, pooled logits and the gradients
// of every LoRA matrix and the head; the token head's; the unmasked model with its padding mask. The
// adapter and head are read from PEFT's own save_pretrained files.
import Foundation
import XCTest
import ToolTestSupport
@testable import LSLlamaCore
@testable import Runtime

struct PartFixture: Decodable {
    let loss: Float
    let logits: [Float]
    let grads: [String: [Float]]?
    let tags: [[Int]]?
    let classifier_weight: [Float]?
    let classifier_bias: [Float]?
}

struct LSFixture: Decodable {
    let ids: [[Int]]
    let mask: [[Int]]
    let labels: [Int]
    let seq: PartFixture
    let token: PartFixture
    let unmasked: PartFixture
}

func assertClose(_ a: [Float], _ b: [Float], rel: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    let scale = max(b.map(abs).max() ?? 0, 1e-6)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst / scale, rel, "\(what): worst difference \(worst) at scale \(scale)", file: file, line: line)
}

final class LSLlamaParityTests: XCTestCase {
    static let dir = Repo.path("data/fixtures/ls-llama")
    let fixture = try! JSONDecoder().decode(LSFixture.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/io.json")))

    /// The tiny model with a new head and no adapters.
    func bare(_ task: LSTask, labels: Int, unmasked: Bool = false) throws -> LabelSupervisedModel {
        let backbone = try ModelRegistry.loadBackbone(path: Repo.path("data/fixtures/llama/tiny-gqa-tied"))
        var config = LSConfig(task: task, labels: (0..<labels).map { "L\($0)" }, baseModel: "tiny", maxLength: 64)
        config.unmasked = unmasked
        return LabelSupervisedModel(backbone: backbone, config: config, generator: RandomGenerator(seed: 1, stream: 1))
    }

    func model(_ task: LSTask, labels: Int, unmasked: Bool = false) throws -> LabelSupervisedModel {
        let m = try bare(task, labels: labels, unmasked: unmasked)
        if task == .seq {
            try LSModelFiles.attach(Self.dir, to: m)
        } else {
            m.backbone.addLoRA(LoRAConfig(rank: 4, alpha: 8))
            try m.backbone.loadLoRAValues(Self.dir)
            m.head.weight.assign(Tensor(shape: [labels, 48], scalars: fixture.token.classifier_weight!))
            m.head.bias!.assign(Tensor(shape: [labels], scalars: fixture.token.classifier_bias!))
        }
        m.head.unfreeze()
        m.eval()   // no dropout: PyTorch's side ran in eval mode
        return m
    }

    /// The fixture's rows without their padding (TokenBatch pads them again).
    var batch: TokenBatch {
        TokenBatch(zip(fixture.ids, fixture.mask).map { ids, m in Array(ids.prefix(m.reduce(0, +))) }, padId: 0)
    }

    func grads(_ m: LabelSupervisedModel) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: m.trainedTensors().map { ($0.0, $0.1.grad?.scalars ?? []) })
    }

    func testSequenceLossLogitsAndGradientsEqualPEFT() throws {
        let m = try model(.seq, labels: 3)
        XCTAssertEqual(m.trainedTensors().count, 9, "8 LoRA matrices and the head")
        let logits = withoutGrad { m.sequenceLogits(batch) }
        assertClose(logits.scalars, fixture.seq.logits, rel: 1e-5, "pooled logits")
        let loss = m.loss(batch, targets: fixture.labels)
        XCTAssertEqual(loss.item(), fixture.seq.loss, accuracy: 1e-5 * fixture.seq.loss)
        loss.backward()
        let ours = grads(m)
        for (name, theirs) in fixture.seq.grads! {
            assertClose(try XCTUnwrap(ours[name], name), theirs, rel: 1e-4, name)
        }
    }

    func testTokenLossLogitsAndGradientsEqualReference() throws {
        let m = try model(.token, labels: 5)
        let b = batch
        var targets = [Int](repeating: -100, count: b.batch * b.length)
        for (r, row) in fixture.token.tags!.enumerated() { for (t, v) in row.enumerated() where t < b.length { targets[r * b.length + t] = v } }
        let logits = withoutGrad { m.tokenLogits(b) }
        // Compare the real positions only (PyTorch's rows are padded to 7, ours to the panel size).
        var ours: [Float] = [], theirs: [Float] = []
        for (r, mask) in fixture.mask.enumerated() {
            for t in 0..<7 where mask[t] == 1 {
                ours += logits.scalars[((r * b.length + t) * 5)..<((r * b.length + t + 1) * 5)]
                theirs += fixture.token.logits[((r * 7 + t) * 5)..<((r * 7 + t + 1) * 5)]
            }
        }
        assertClose(ours, theirs, rel: 1e-5, "token logits")
        let loss = m.loss(b, targets: targets)
        XCTAssertEqual(loss.item(), fixture.token.loss, accuracy: 1e-5 * fixture.token.loss)
        loss.backward()
        let g = grads(m)
        for (name, theirs) in fixture.token.grads! {
            assertClose(try XCTUnwrap(g[name], name), theirs, rel: 1e-4, name)
        }
    }

    func testUnmaskedWithPaddingMaskEqualsTorch() throws {
        let m = try model(.seq, labels: 3, unmasked: true)
        let logits = withoutGrad { m.sequenceLogits(batch) }
        assertClose(logits.scalars, fixture.unmasked.logits, rel: 1e-5, "unmasked pooled logits")
        XCTAssertEqual(withoutGrad { m.loss(batch, targets: fixture.labels) }.item(), fixture.unmasked.loss, accuracy: 1e-5 * fixture.unmasked.loss)
        // and it differs from the causal model's
        XCTAssertGreaterThan(abs(fixture.unmasked.loss - fixture.seq.loss), 1e-3)
    }

    func testSavedModelRoundTripsThroughPEFTFormat() throws {
        let m = try model(.seq, labels: 3)
        let dir = try temporaryDirectory("ls-peft")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try m.backbone.saveLoRA(LoRAConfig(rank: 4, alpha: 8), to: dir, taskType: "SEQ_CLS", modulesToSave: m.headTensors)
        let cfg = try JSONValue(parsing: [UInt8](FileManager.default.contents(atPath: dir + "/adapter_config.json")!))
        XCTAssertEqual(cfg["task_type"]?.stringValue, "SEQ_CLS")
        XCTAssertEqual(cfg["modules_to_save"]?.arrayValue?.compactMap(\.stringValue), ["score"])
        let names = try SafeTensorsFile(path: dir + "/adapter_model.safetensors").names
        XCTAssertTrue(names.contains("base_model.model.score.weight"))
        XCTAssertTrue(names.contains("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"))
        let back = try bare(.seq, labels: 3)
        try LSModelFiles.attach(dir, to: back)
        back.eval()
        XCTAssertEqual(withoutGrad { back.sequenceLogits(batch) }.scalars, withoutGrad { m.sequenceLogits(batch) }.scalars)
    }
}

extension Module {
    /// The fixture's LoRA values onto adapters already added (its head is left out).
    func loadLoRAValues(_ directory: String) throws {
        let file = try SafeTensorsFile(path: directory + "/adapter_model.safetensors")
        let own = Dictionary(uniqueKeysWithValues: loraState())
        for name in file.names where name.contains("lora_") {
            let n = String(name.dropFirst("base_model.model.".count))
            try XCTUnwrap(own[n], n).assign(try file.tensor(name))
        }
    }
}
