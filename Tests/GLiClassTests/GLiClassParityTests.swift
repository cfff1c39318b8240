// GLiClass against the reference package (data/fixtures/gliclass, made by scripts/fixtures/gliclass.py
// with gliclass 0.1.21): ten tiny models saved by the reference's save_pretrained, over every pooler,
// scorer, class pooling, segment embeddings, layer_wise, encoder_layer_id and normalize_features; input ids
// token for token, logits per record, the training loss and every parameter's gradient on a padded batch.
// The reference pools over padding; with quirks on we do the same, so these compare like for like.
import Foundation
import XCTest
@testable import GLiClassCore
@testable import Runtime

final class GLiClassParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../data/fixtures/gliclass").standardized

    static let names = ["bert-first-simple", "bert-avg-mlp", "bert-max-wdot", "bert-pass-xattn", "bert-rms-hopfield",
                        "bert-sum-simple", "deberta-first-simple", "deberta-absavg-mlp", "deberta-last-hopfield",
                        "deberta-absmax-wdot"]

    struct Record { let input: ClassificationInput; let truth: [String] }

    static func records() throws -> [Record] {
        let text = try String(contentsOf: fixtures.appendingPathComponent("records.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let j = try JSONValue(parsing: Array(line.utf8))
            let examples = (j["examples"]?.arrayValue ?? []).map {
                FewShotExample(text: $0["text"]!.stringValue!, labels: $0["labels"]!.arrayValue!.map { $0.stringValue! })
            }
            let input = ClassificationInput(text: j["text"]!.stringValue!, labels: j["labels"]!.arrayValue!.map { $0.stringValue! },
                                            examples: examples, prompt: j["prompt"]?.stringValue ?? "")
            return Record(input: input, truth: j["true"]!.arrayValue!.map { $0.stringValue! })
        }
    }

    struct Expected { let ids: [Int]; let logits: [Float] }

    static func expected(_ name: String) throws -> [Expected] {
        let text = try String(contentsOf: fixtures.appendingPathComponent("\(name)/expected.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            let j = try JSONValue(parsing: Array(line.utf8))
            return Expected(ids: try j["ids"]!.arrayValue!.map { try $0.numberValue!.int() }, logits: try j["logits"]!.arrayValue!.map { try $0.numberValue!.float() })
        }
    }

    func load(_ name: String) throws -> GLiClassBundle {
        let bundle = try GLiClassCheckpoint.load(directory: Self.fixtures.appendingPathComponent(name).path)
        bundle.model.setQuirks(ReferenceQuirks(pooling: true, segments: true))
        return bundle
    }

    func testInputIdsMatchTheReference() throws {
        let records = try Self.records()
        for name in Self.names {
            let bundle = try load(name)
            let enc = InputEncoder(tokenizer: bundle.tokenizer, maxLength: 1024, promptFirst: bundle.model.config.promptFirst)
            for (i, (r, e)) in zip(records, try Self.expected(name)).enumerated() {
                XCTAssertEqual(try enc.encode(r.input), e.ids, "\(name) record \(i)")
            }
        }
    }

    func testLogitsMatchTheReference() throws {
        let records = try Self.records()
        for name in Self.names {
            let bundle = try load(name)
            var worst: Float = 0
            for (i, (r, e)) in zip(records, try Self.expected(name)).enumerated() {
                let out = withoutGrad { bundle.model(TokenBatch([e.ids]), slots: bundle.model.config.labelSlots([r.input.labels.count])) }
                let k = out.logits.shape[1]
                let ours = Array(out.logits.scalars.prefix(k).prefix(r.input.labels.count))
                XCTAssertEqual(ours.count, e.logits.count, "\(name) record \(i): label count")
                // Against the record's largest logit: sum pooling reaches logits of ±2,000 whose float
                // rounding (summation order) is ~1e-4 of that.
                let scale = max(1, e.logits.map { Swift.abs($0) }.max() ?? 1)
                for (a, b) in zip(ours, e.logits) { worst = max(worst, Swift.abs(a - b) / scale) }
            }
            XCTAssertLessThan(worst, 1e-4, "\(name): logits max relative diff \(worst)")
        }
    }

    func testLossAndGradientsMatchPyTorch() throws {
        for name in ["bert-first-simple", "deberta-first-simple"] {   // plain BCE with layer_wise; focal + contrastive
            let dir = Self.fixtures.appendingPathComponent(name)
            let fixture = try JSONValue(parsing: [UInt8](Data(contentsOf: dir.appendingPathComponent("loss.json"))))
            let want = try fixture["loss"]!.numberValue!.float()
            let targets = try fixture["targets"]!.arrayValue!.map { try $0.arrayValue!.map { try $0.numberValue!.float() } }
            let bundle = try load(name)
            let model = bundle.model
            model.unfreeze()
            model.train()
            let ids = try Self.expected(name).prefix(4).map(\.ids)
            let out = model(TokenBatch(ids), slots: targets[0].count, targets: Targets(targets))
            let loss = out.loss!
            XCTAssertEqual(loss.item(), want, accuracy: 1e-4 * max(1, Swift.abs(want)), "\(name): loss")
            loss.backward()
            let gradFile = try SafeTensorsFile(path: dir.appendingPathComponent("grads.safetensors").path)
            let params = Dictionary(uniqueKeysWithValues: model.namedParameters())
            var all: [String: [Float]] = [:]
            for info in gradFile.tensors { all[info.name] = try gradFile.tensor(info.name).scalars }
            let floor = 1e-3 * all.values.flatMap { $0 }.map { Swift.abs($0) }.max()!
            var compared = 0
            for (key, g) in all {
                guard let p = params[key] else { XCTFail("\(name): no parameter for \(key)"); continue }
                guard let pg = p.grad else { XCTFail("\(name): no gradient for \(key)"); continue }
                let scale = max(g.map { Swift.abs($0) }.max() ?? 1, floor)
                let r = zip(pg.scalars, g).map { Swift.abs($0 - $1) }.max()! / scale
                XCTAssertLessThan(r, 1e-3, "\(name): gradient of \(key) max relative diff \(r)")
                compared += 1
            }
            XCTAssertGreaterThan(compared, 30, name)
        }
    }
}
