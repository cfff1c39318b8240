// PTEC against PyTorch + transformers (data/fixtures/ptec/parity.json from scripts/fixtures/ptec.py, on
// the tiny LLaMA of data/fixtures/llama/tiny-gqa-tied): the PTEC logits (our right padding against the
// reference's left padding), its pos_weight BCE and the gradients of the soft prompt and the head; two
// steps of transformers' AdamW with two learning rates and clipping; the prompt-tuning loss
// (pt_tuner.py compute_loss) and its soft-prompt gradient; OneCycleLR and the exponential schedule.
// Also: the soft prompt is the only way in (sp_len 0 gives the plain backbone's last-token head), the
// backbone gets no gradient, and a text's scores do not depend on its batch neighbours.
import Foundation
import XCTest
import ToolTestSupport
@testable import PTECCore
@testable import Runtime

struct PTECParity: Decodable {
    struct Config: Decodable { let hidden_size: Int; let eos_id: Int; let sp_len: Int; let num_labels: Int; let pos_weight: [Float]; let prompt_init_ids: [Int] }
    struct CH: Decodable {
        let score_weight: [Float], soft_prompt: [Float], ids: [[Int]], y: [[Float]]
        let logits_left: [Float], logits_right: [Float], loss: Float, grad_soft_prompt: [Float], grad_score: [Float]
    }
    struct AdamW: Decodable {
        let lr: [Float], weight_decay: Float, eps: Float, max_norm: Float, grad_norm_step1: Float
        let after_step1_soft_prompt: [Float], after_step1_score: [Float], after_step2_soft_prompt: [Float], after_step2_score: [Float]
    }
    struct LH: Decodable { let query_ids: [[Int]], label_ids: [[Int]], eos_id: Int, class_weights: [Float], row_means: [Float], loss: Float, grad_soft_prompt: [Float] }
    struct Schedules: Decodable { let onecycle: [[Double]], exponential_gamma: Double, exponential: [[Double]] }
    let config: Config, ch: CH, hf_adamw: AdamW, lh: LH, onecycle: Schedules
}

func assertNear(_ a: [Float], _ b: [Float], rel: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, what, file: file, line: line)
    let scale = max(b.map(abs).max() ?? 0, 1e-6)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst / scale, rel, "\(what): worst difference \(worst) at scale \(scale)", file: file, line: line)
}

final class PTECParityTests: XCTestCase {
    let f = try! JSONDecoder().decode(PTECParity.self, from: Data(contentsOf: URL(fileURLWithPath: Repo.path("data/fixtures/ptec/parity.json"))))

    func model(_ head: HeadKind, spLen: Int? = nil) throws -> PTECModel {
        let backbone = try ModelRegistry.loadBackbone(path: Repo.path("data/fixtures/llama/tiny-gqa-tied"))
        let c = f.config, sp = spLen ?? c.sp_len
        let config = PTECConfig(head: head, labels: (0..<c.num_labels).map { "L\($0)" }, baseModel: "tiny", spLen: sp, posWeight: c.pos_weight, maxLength: 64)
        let prompt = Tensor(shape: [c.sp_len, c.hidden_size], scalars: f.ch.soft_prompt).slice(axis: 0, 0, sp).copy()
        let m = PTECModel(backbone: backbone, config: config, softPrompt: prompt, generator: RandomGenerator(seed: 1, stream: 1))
        if head == .ch { m.head.weight.assign(Tensor(shape: [c.num_labels, c.hidden_size], scalars: f.ch.score_weight)) }
        m.eval()
        return m
    }

    func testSoftPromptStartsAsTheEmbeddingRows() throws {
        let m = try model(.ch)
        assertNear(m.backbone.embed(f.config.prompt_init_ids, batch: 1).scalars, f.ch.soft_prompt, rel: 0, "prompt init")
    }

    func testLogitsLossAndGradientsMatchPyTorch() throws {
        let m = try model(.ch)
        let logits = m.logits(f.ch.ids, panelAligned: false)
        assertNear(logits.scalars, f.ch.logits_right, rel: 1e-5, "logits (right padding)")
        assertNear(logits.scalars, f.ch.logits_left, rel: 1e-5, "logits (the reference's left padding)")
        let loss = m.classificationLoss(f.ch.ids, targets: f.ch.y)
        XCTAssertEqual(loss.item(), f.ch.loss, accuracy: 1e-5)
        loss.backward()
        assertNear(m.softPrompt.grad!.scalars, f.ch.grad_soft_prompt, rel: 1e-4, "soft prompt gradient")
        assertNear(m.head.weight.grad!.scalars, f.ch.grad_score, rel: 1e-5, "head gradient")
        XCTAssertTrue(m.backbone.parameters().allSatisfy { $0.grad == nil }, "the frozen backbone collected a gradient")
    }

    func testTwoStepsOfTransformersAdamW() throws {
        let m = try model(.ch), a = f.hf_adamw
        let opt = Adam.huggingFaceAdamW([ParameterGroup([m.softPrompt], lr: a.lr[0], weightDecay: a.weight_decay),
                                         ParameterGroup([m.head.weight], lr: a.lr[1], weightDecay: a.weight_decay)], eps: a.eps)
        for step in 1...2 {
            opt.zeroGrad()
            m.classificationLoss(f.ch.ids, targets: f.ch.y).backward()
            let norm = clipGradNorm(opt.allParameters, maxNorm: a.max_norm)
            if step == 1 { XCTAssertEqual(norm, a.grad_norm_step1, accuracy: a.grad_norm_step1 * 1e-5) }
            opt.step()
            assertNear(m.softPrompt.scalars, step == 1 ? a.after_step1_soft_prompt : a.after_step2_soft_prompt, rel: 1e-5, "soft prompt after step \(step)")
            assertNear(m.head.weight.scalars, step == 1 ? a.after_step1_score : a.after_step2_score, rel: 1e-5, "head after step \(step)")
        }
    }

    func testPromptTuningLossMatchesPtTuner() throws {
        let m = try model(.lh), l = f.lh
        let targets = l.label_ids.map { $0 + [l.eos_id] }
        let loss = m.generationLoss(queries: l.query_ids, targets: targets, weights: l.class_weights)
        XCTAssertEqual(loss.item(), l.loss, accuracy: l.loss * 1e-5)
        loss.backward()
        assertNear(m.softPrompt.grad!.scalars, l.grad_soft_prompt, rel: 1e-4, "lh soft prompt gradient")
        // Row by row: each row's mean token loss.
        for r in 0..<2 {
            let one = m.generationLoss(queries: [l.query_ids[r]], targets: [targets[r]], weights: [1])
            XCTAssertEqual(one.item(), l.row_means[r], accuracy: 1e-5)
        }
    }

    func testSchedulesMatchTorch() {
        for (t, expected) in f.onecycle.onecycle[0].enumerated() {
            XCTAssertEqual(Double(LRSchedule.oneCycle(total: 10, pctStart: 0.3).factor(at: t)), expected, accuracy: 1e-6, "OneCycleLR at \(t)")
        }
        for (t, expected) in f.onecycle.exponential[0].enumerated() {
            XCTAssertEqual(Double(LRSchedule.exponential(gamma: pow(0.01, 1 / 9.0)).factor(at: t)), expected, accuracy: 1e-6, "exponential at \(t)")
        }
    }

    func testWithoutASoftPromptTheHeadReadsThePlainBackbone() throws {
        let m = try model(.ch, spLen: 0)
        let ids = [[5, 17, 33, 8]]
        let plain = m.backbone(BackboneInput(ids: ids[0], batch: 1, length: 4)).lastHidden.slice(axis: 1, 3, 4).reshaped([1, f.config.hidden_size])
        assertNear(m.logits(ids).scalars, m.head(plain).scalars, rel: 1e-6, "sp_len 0")
    }

    func testScoresDoNotDependOnBatchNeighbours() throws {
        let m = try model(.ch)
        let rows = [[5, 17, 33, 8, 41, 12, 9], [7, 22, 3, 50], [9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]]
        let together = m.logits(rows).scalars, k = f.config.num_labels
        for (i, r) in rows.enumerated() {
            XCTAssertEqual(m.logits([r]).scalars, Array(together[(i * k)..<((i + 1) * k)]), "row \(i)")
        }
    }
}
