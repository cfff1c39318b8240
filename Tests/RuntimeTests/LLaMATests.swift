// LLaMA against transformers (data/fixtures/llama, made by scripts/fixtures/llama.py): tiny random
// configs (GQA, tied/untied, biases, Qwen2, every rope scaling), gradients of a tiny config, and
// SmolLM2-135M-Instruct from its GGUF file (logits and greedy tokens).
import Foundation
import XCTest
@testable import Runtime

final class LLaMATests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../data/fixtures/llama").standardized
    static let smol = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf").standardized.path

    private struct IO: Decodable {
        let ids: [[Int]]; let logits: [Float]; let mask: [[Int]]; let logits_padded: [Float]
        let labels: [[Int]]?; let loss: Float?; let grads: [String: [Float]]?
    }

    private func io(_ name: String) throws -> IO {
        try JSONDecoder().decode(IO.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent(name + "/io.json")))
    }

    private func maxRelative(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(b.map { Swift.abs($0) }.max() ?? 1, 1e-6)
        return zip(a, b).map { Swift.abs($0 - $1) }.max()! / scale
    }

    /// A config.json with 0 attention heads and no head_dim (found by `make fuzz`, Fuzz/corpus/config/
    /// llama-zero-heads.json) is an error, not a division by zero.
    func testZeroAttentionHeadsIsAnError() throws {
        let text = #"{"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 0}"#
        XCTAssertThrowsError(try LLaMAConfig.load(ConfigFile(path: "config.json", bytes: Array(text.utf8))))
    }

    func testTinyConfigsMatchTransformers() throws {
        for name in ["tiny-gqa-tied", "tiny-untied-bias", "tiny-rope-linear", "tiny-rope-llama3", "tiny-rope-dynamic",
                     "tiny-rope-yarn", "tiny-qwen2"] {
            let io = try io(name)
            let model = try LLaMAModel.load(path: Self.fixtures.appendingPathComponent(name).path)
            let logits = withoutGrad { model(ids: io.ids.flatMap { $0 }, batch: 2) }
            XCTAssertEqual(logits.shape, [2, 9, model.config.vocabSize])
            let r = maxRelative(logits.scalars, io.logits)
            XCTAssertLessThan(r, 1e-5, "\(name): logits max relative diff \(r)")
            // Right padding: only real positions are compared.
            let pad = io.mask.map { $0.map { $0 == 1 } }
            let padded = withoutGrad { model(ids: io.ids.flatMap { $0 }, batch: 2, keyPadding: pad) }
            let v = model.config.vocabSize
            var worst: Float = 0
            for b in 0..<2 { for t in 0..<9 where pad[b][t] { for j in 0..<v {
                worst = max(worst, Swift.abs(padded.data[(b * 9 + t) * v + j] - io.logits_padded[(b * 9 + t) * v + j]))
            } } }
            XCTAssertLessThan(worst, 1e-4, "\(name): padded logits max |diff| \(worst)")
        }
    }

    func testGradientsOfATinyConfigMatchPyTorch() throws {
        let io = try io("tiny-gqa-tied")
        let model = try LLaMAModel.load(path: Self.fixtures.appendingPathComponent("tiny-gqa-tied").path)
        model.unfreeze()
        let v = model.config.vocabSize
        let logits = model(ids: io.ids.flatMap { $0 }, batch: 2)
        let loss = crossEntropy(logits.reshaped([-1, v]), targets: io.labels!.flatMap { $0 })
        XCTAssertEqual(loss.item(), io.loss!, accuracy: 1e-5)
        loss.backward()
        let params = Dictionary(uniqueKeysWithValues: model.namedParameters())
        XCTAssertEqual(Set(params.keys), Set(io.grads!.keys))
        for (name, want) in io.grads! {
            guard let g = params[name]?.grad else { XCTFail("no gradient for \(name)"); continue }
            let r = maxRelative(g.scalars, want)
            XCTAssertLessThan(r, 1e-4, "\(name): gradient max relative diff \(r)")
        }
    }

    func testCachedDecodingEqualsOneLongPass() throws {
        let io = try io("tiny-untied-bias")
        let model = try LLaMAModel.load(path: Self.fixtures.appendingPathComponent("tiny-untied-bias").path)
        let ids = io.ids[0]
        let full = withoutGrad { model(ids: ids) }
        let cache = model.makeCache(capacity: 2)  // forces the cache to grow
        var rows: [Float] = []
        withoutGrad {
            rows += model(ids: Array(ids.prefix(4)), cache: cache).scalars
            for id in ids.dropFirst(4) { rows += model(ids: [id], cache: cache).scalars }
        }
        XCTAssertEqual(cache.length, ids.count)
        XCTAssertLessThan(maxRelative(rows, full.scalars), 1e-5)
        let last = withoutGrad { model(ids: ids, logits: .last) }
        XCTAssertEqual(last.shape, [1, 1, model.config.vocabSize])
        XCTAssertLessThan(maxRelative(last.scalars, Array(full.scalars.suffix(model.config.vocabSize))), 1e-5)
        // inputs_embeds gives the same as ids.
        let embeds = model.model.embedTokens(ids, shape: [1, ids.count])
        XCTAssertLessThan(maxRelative(withoutGrad { model(inputsEmbeds: embeds) }.scalars, full.scalars), 1e-6)
    }

    /// Mistral's sliding window (4 tokens, inputs of 11) and every hidden state, against transformers.
    func testMistralSlidingWindowAndHiddenStates() throws {
        struct IO: Decodable { let ids: [[Int]]; let mask: [[Int]]; let logits: [Float]; let hidden_states: [[Float]]; let logits_padded: [Float] }
        let dir = Self.fixtures.appendingPathComponent("tiny-mistral-window")
        let io = try JSONDecoder().decode(IO.self, from: Data(contentsOf: dir.appendingPathComponent("io.json")))
        let model = try XCTUnwrap(try ModelRegistry.loadBackbone(path: dir.path) as? LLaMAModel)
        XCTAssertEqual(model.config.slidingWindow, 4)
        var input = BackboneInput(ids: io.ids.flatMap { $0 }, batch: 2, length: 11)
        input.outputHiddenStates = true
        let out = withoutGrad { model(input) }
        XCTAssertEqual(out.hiddenStates.count, io.hidden_states.count)
        for (l, (ours, want)) in zip(out.hiddenStates, io.hidden_states).enumerated() {
            XCTAssertLessThan(maxRelative(ours.scalars, want), 1e-5, "hidden state \(l)")
        }
        XCTAssertLessThan(maxRelative(withoutGrad { model.lmLogits(out.lastHidden) }.scalars, io.logits), 1e-5, "logits")
        // Without the window the logits differ (the window matters for these inputs).
        var plain = model.config
        plain.slidingWindow = nil
        let unwindowed = try LLaMAModel(config: plain, weights: CheckpointLoader(SafeTensorsCheckpoint(path: dir.path)))
        XCTAssertGreaterThan(maxRelative(withoutGrad { unwindowed(ids: io.ids.flatMap { $0 }, batch: 2) }.scalars, io.logits), 1e-3)
        let pad = io.mask.map { $0.map { $0 == 1 } }
        let padded = withoutGrad { model(ids: io.ids.flatMap { $0 }, batch: 2, keyPadding: pad) }
        let v = model.config.vocabSize
        var worst: Float = 0
        for b in 0..<2 { for t in 0..<11 where pad[b][t] { for j in 0..<v {
            worst = max(worst, Swift.abs(padded.data[(b * 11 + t) * v + j] - io.logits_padded[(b * 11 + t) * v + j]))
        } } }
        XCTAssertLessThan(worst, 1e-4, "padded logits")
    }

    /// A prefix of keys/values is P earlier tokens: capturing them from a run over P tokens and running the
    /// rest with them gives the full run's outputs.
    func testPrefixKeyValuesAreEarlierTokens() throws {
        let model = try LLaMAModel.load(path: Self.fixtures.appendingPathComponent("tiny-untied-bias").path)
        let ids = [3, 1, 4, 1, 5, 9, 2, 6, 5]
        let full = withoutGrad { model(ids: ids, logits: .none) }
        var head = BackboneInput(ids: Array(ids.prefix(4)), batch: 1, length: 4)
        head.outputKeyValues = true
        let kv = withoutGrad { model(head).keyValues }
        var tail = BackboneInput(ids: Array(ids.dropFirst(4)), batch: 1, length: 5)
        tail.prefix = kv.map { LayerKeyValues(keys: $0.keys[0], values: $0.values[0]) }
        let rest = withoutGrad { model(tail).lastHidden }
        XCTAssertLessThan(maxRelative(rest.scalars, Array(full.scalars.suffix(5 * model.config.hiddenSize))), 1e-5)
    }

    private struct Smol: Decodable {
        struct Prompt: Decodable { let prompt: String; let ids: [Int]; let top_ids: [[Int]] }
        struct Greedy: Decodable { let ids: [Int]; let generated: [Int] }
        let vocab_ids: [Int]; let prompts: [Prompt]; let greedy: [Greedy]
    }

    func testSmolLM2FromGGUFMatchesTransformers() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.smol), "run `make models` first (make test does)")
        let model = try LLaMAModel.load(path: Self.smol)
        XCTAssertEqual(model.config.numHiddenLayers, 30)
        XCTAssertTrue(model.config.tieWordEmbeddings)
        let fx = try JSONDecoder().decode(Smol.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("smollm2.json")))
        let blob = try Data(contentsOf: Self.fixtures.appendingPathComponent("smollm2_logits.f32"))
            .withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var cursor = 0, worst: Float = 0, topAgree = 0, topTotal = 0
        let v = model.config.vocabSize
        for p in fx.prompts {
            let logits = withoutGrad { model(ids: p.ids) }
            let t = p.ids.count
            let sampled = Array(blob[cursor..<(cursor + t * 256)]); cursor += t * 256
            let topVals = Array(blob[cursor..<(cursor + t * 8)]); cursor += t * 8
            var ours: [Float] = [], oursTop: [Float] = []
            for i in 0..<t {
                for id in fx.vocab_ids { ours.append(logits.data[i * v + id]) }
                for id in p.top_ids[i] { oursTop.append(logits.data[i * v + id]) }
                let argmax = (0..<v).max { logits.data[i * v + $0] < logits.data[i * v + $1] }!
                topTotal += 1
                if argmax == p.top_ids[i][0] { topAgree += 1 }
            }
            worst = max(worst, maxRelative(ours + oursTop, sampled + topVals))
        }
        XCTAssertLessThan(worst, 1e-3, "SmolLM2 logits max relative diff \(worst)")
        XCTAssertEqual(topAgree, topTotal, "argmax differs at \(topTotal - topAgree) of \(topTotal) positions")
        print("LLaMATests: SmolLM2 \(fx.prompts.count) prompts, logits max relative diff \(worst)")

        // transformers generated with min_new_tokens=32, which masks EOS (id 2) until then: so do we.
        let eos = model.config.eosTokenIds
        for g in fx.greedy {
            let cache = model.makeCache()
            var out: [Int] = []
            withoutGrad {
                var logits = model(ids: g.ids, cache: cache, logits: .last)
                for _ in 0..<g.generated.count {
                    let next = logits.maskedFill(Tensor(shape: [1, 1, v], scalars: (0..<v).map { eos.contains($0) ? 1 : 0 }),
                                                 -.infinity).argmax(axis: -1)[0]
                    out.append(next)
                    logits = model(ids: [next], cache: cache, logits: .last)
                }
            }
            XCTAssertEqual(out, g.generated, "greedy tokens differ for prompt ids \(g.ids)")
        }
    }

    func testGGUFNameMapAndRowOrder() {
        XCTAssertEqual(LLaMAModel.ggufName("model.layers.12.self_attn.q_proj.weight"), "blk.12.attn_q.weight")
        XCTAssertEqual(LLaMAModel.ggufName("model.layers.0.mlp.down_proj.weight"), "blk.0.ffn_down.weight")
        XCTAssertEqual(LLaMAModel.ggufName("model.layers.3.post_attention_layernorm.weight"), "blk.3.ffn_norm.weight")
        XCTAssertEqual(LLaMAModel.ggufName("lm_head.weight"), "output.weight")
        XCTAssertNil(LLaMAModel.ggufName("model.layers.x.y"))
        // One head of 4 rows (D/2 = 2): llama.cpp order [r0, r2, r1, r3] → ours [r0, r1, r2, r3].
        let w = Tensor(shape: [4, 1], scalars: [0, 2, 1, 3])
        XCTAssertEqual(unpermuteRoPERows(w, heads: 1).scalars, [0, 1, 2, 3])
    }
}
