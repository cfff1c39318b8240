// MPNet, XLM-RoBERTa and DeBERTa-v2/v3 against transformers (data/fixtures/encoders, made by
// scripts/fixtures/encoders.py): tiny random configs loaded through the registry; every layer's
// hidden states, pooler, MLM logits, inputs_embeds, a long batch (log buckets and clamps), gradients
// of every parameter; the relative-position bucket tables entry for entry.
import Foundation
import XCTest
@testable import Runtime

final class EncoderParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../data/fixtures/encoders").standardized

    private struct Batch: Decodable { let ids: [[Int]]; let mask: [[Int]]; let types: [[Int]]; let last_hidden_state: [Float] }
    private struct IO: Decodable {
        let ids: [[Int]]; let mask: [[Int]]; let types: [[Int]]
        let hidden_states: [[Float]]; let last_hidden_state: [Float]
        let pooled: [Float]?; let mlm_logits: [Float]?
        let embeds: [Float]; let hidden_from_embeds: [Float]
        let long: Batch?
        let grad_weights: [Float]?; let labels: [[Int]]?; let loss: Float?; let grads: [String: [Float]]?
    }

    static let names = ["mpnet-tiny", "mpnet-mlm", "xlmr-tiny", "xlmr-mlm", "deberta-v3-tiny", "deberta-v2-tiny",
                        "deberta-c2p-tiny", "deberta-mlm"]

    private func load(_ name: String) throws -> (any Backbone, IO) {
        let dir = Self.fixtures.appendingPathComponent(name)
        let io = try JSONDecoder().decode(IO.self, from: Data(contentsOf: dir.appendingPathComponent("io.json")))
        return (try ModelRegistry.loadBackbone(path: dir.path), io)
    }

    private func input(_ ids: [[Int]], _ mask: [[Int]], _ types: [[Int]]) -> BackboneInput {
        BackboneInput(ids: ids.flatMap { $0 }, batch: ids.count, length: ids[0].count, padding: mask.map { $0.map { $0 == 1 } },
                      typeIds: types.flatMap { $0 })
    }

    /// Max |a − b| over the rows [B, T, width] where mask is 1 (padded rows are not compared: DeBERTa's
    /// differ by design, see DeBERTaV2.swift).
    private func maxDiff(_ a: [Float], _ b: [Float], mask: [[Int]]) -> Float {
        let t = mask[0].count, width = b.count / (mask.count * t)
        var worst: Float = 0
        for (r, m) in mask.enumerated() {
            for i in 0..<t where m[i] == 1 {
                for j in 0..<width { worst = max(worst, Swift.abs(a[(r * t + i) * width + j] - b[(r * t + i) * width + j])) }
            }
        }
        return worst
    }

    func testForwardMatchesTransformers() throws {
        for name in Self.names {
            let (model, io) = try load(name)
            var inp = input(io.ids, io.mask, io.types)
            inp.outputHiddenStates = true
            let out = withoutGrad { model(inp) }
            XCTAssertEqual(out.hiddenStates.count, io.hidden_states.count, "\(name): number of hidden states")
            for (l, (ours, want)) in zip(out.hiddenStates, io.hidden_states).enumerated() {
                let d = maxDiff(ours.scalars, want, mask: io.mask)
                XCTAssertLessThan(d, 1e-5, "\(name): hidden state \(l) max |diff| \(d)")
            }
            let d = maxDiff(out.lastHidden.scalars, io.last_hidden_state, mask: io.mask)
            XCTAssertLessThan(d, 1e-5, "\(name): last_hidden_state max |diff| \(d)")
            if let want = io.pooled {
                let pooled: Tensor? = withoutGrad { (model as? BERTModel)?.pooled(out.lastHidden) ?? (model as? MPNetModel)?.pooled(out.lastHidden) }
                let p = try XCTUnwrap(pooled, "\(name): a pooler")
                XCTAssertLessThan(zip(p.scalars, want).map { Swift.abs($0 - $1) }.max()!, 1e-5, "\(name): pooler")
            }
            XCTAssertEqual(model.hasLMHead, io.mlm_logits != nil, "\(name): MLM head present")
            if let want = io.mlm_logits {
                let logits = withoutGrad { model.lmLogits(out.lastHidden) }
                let d = maxDiff(logits.scalars, want, mask: io.mask)
                XCTAssertLessThan(d, 2e-5, "\(name): MLM logits max |diff| \(d)")
                // A few rows only give the same numbers.
                let rows = [3, 17, 42]
                let few = withoutGrad { model.lmLogits(out.lastHidden, rows: rows) }.scalars
                let v = model.descriptor.vocabSize
                let picked = (0..<(few.count / 3)).flatMap { i in rows.map { logits.scalars[i * v + $0] } }
                XCTAssertLessThan(zip(few, picked).map { Swift.abs($0 - $1) }.max()!, 1e-5, "\(name): logits of chosen rows")
            }
            // inputs_embeds with the same mask and types.
            let e = model.descriptor.embeddingSize, t = io.ids[0].count
            var ei = BackboneInput(inputsEmbeds: Tensor(shape: [3, t, e], scalars: io.embeds),
                                   padding: io.mask.map { $0.map { $0 == 1 } }, typeIds: io.types.flatMap { $0 })
            ei.outputHiddenStates = false
            let fromEmbeds = withoutGrad { model(ei).lastHidden }
            let de = maxDiff(fromEmbeds.scalars, io.hidden_from_embeds, mask: io.mask)
            XCTAssertLessThan(de, 1e-5, "\(name): inputs_embeds max |diff| \(de)")
            if let long = io.long {
                let lo = withoutGrad { model(input(long.ids, long.mask, long.types)).lastHidden }
                let dl = maxDiff(lo.scalars, long.last_hidden_state, mask: long.mask)
                XCTAssertLessThan(dl, 2e-5, "\(name): long batch (T \(long.ids[0].count)) max |diff| \(dl)")
            }
        }
    }

    func testGradientsMatchPyTorch() throws {
        for name in Self.names {
            let (model, io) = try load(name)
            guard let grads = io.grads, let want = io.loss else { continue }
            model.unfreeze()
            model.train()
            let out = model(input(io.ids, io.mask, io.types)).lastHidden
            let loss: Tensor
            if let labels = io.labels {
                let logits = model.lmLogits(out)
                loss = crossEntropy(logits.reshaped([-1, model.descriptor.vocabSize]), targets: labels.flatMap { $0 })
            } else {
                let r = Tensor(shape: out.shape, scalars: io.grad_weights!)
                let m = Tensor(shape: [3, io.ids[0].count, 1], scalars: io.mask.flatMap { $0.map(Float.init) })
                loss = (out * r * m).sum()
            }
            XCTAssertEqual(loss.item(), want, accuracy: 1e-4 * max(1, Swift.abs(want)), "\(name): loss")
            loss.backward()
            let params = Dictionary(uniqueKeysWithValues: model.namedParameters())
            var compared = 0
            // Differences are measured against each tensor's largest gradient, floored at 1e-3 of the
            // model's largest: several gradients are zero in exact arithmetic (key biases, and in DeBERTa the
            // position-key biases, shift a query's scores uniformly) and both sides hold only rounding noise.
            let floor = 1e-3 * grads.values.flatMap { $0 }.map { Swift.abs($0) }.max()!
            for (key, g) in grads {
                // Checkpoint keys carry the task model's prefix ("roberta.") where the file has one.
                let ours = params[key] ?? params[String(key.drop { $0 != "." }.dropFirst())]
                guard let p = ours else { XCTFail("\(name): no parameter for \(key)"); continue }
                guard let pg = p.grad else { XCTFail("\(name): no gradient for \(key)"); continue }
                let scale = max(g.map { Swift.abs($0) }.max() ?? 1, floor)
                let r = zip(pg.scalars, g).map { Swift.abs($0 - $1) }.max()! / scale
                XCTAssertLessThan(r, 1e-4, "\(name): gradient of \(key) max relative diff \(r)")
                compared += 1
            }
            XCTAssertGreaterThan(compared, 20, name)
        }
    }

    func testBucketTablesMatchTransformers() throws {
        let j = try JSONValue(parsing: [UInt8](Data(contentsOf: Self.fixtures.appendingPathComponent("buckets.json"))))
        func ints(_ v: JSONValue?) -> [Int] { (v?.arrayValue ?? []).compactMap { try? $0.numberValue?.int() } }
        let mp = j["mpnet"]!
        let range = ints(mp["relative_position"]), want = ints(mp["bucket"])
        XCTAssertEqual(want.count, range[1] - range[0] + 1)
        var bad = 0
        for (i, rel) in (range[0]...range[1]).enumerated() where mpnetBucket(rel) != want[i] { bad += 1 }
        XCTAssertEqual(bad, 0, "MPNet buckets: \(bad) of \(want.count) differ")
        for table in j["deberta"]!.arrayValue! {
            let size = try table["bucket_size"]!.numberValue!.int(), maxPos = try table["max_position"]!.numberValue!.int()
            let range = ints(table["relative_position"]), want = ints(table["bucket"])
            var bad = 0
            for (i, rel) in (range[0]...range[1]).enumerated() where debertaLogBucket(rel, bucketSize: size, maxPosition: maxPos) != want[i] {
                bad += 1
            }
            XCTAssertEqual(bad, 0, "DeBERTa buckets (\(size), \(maxPos)): \(bad) of \(want.count) differ")
        }
    }
}
