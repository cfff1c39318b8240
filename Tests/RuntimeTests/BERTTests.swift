// BERT against transformers and sentence-transformers (data/fixtures/bert, made by
// scripts/fixtures/bert.py): tiny random configs, and all-MiniLM-L6-v2 sentence embeddings.
import Foundation
import XCTest
@testable import Runtime

final class BERTTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../data/fixtures/bert").standardized
    static let minilm = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../data/models/all-MiniLM-L6-v2").standardized.path

    private struct IO: Decodable { let ids: [[Int]]; let mask: [[Int]]; let types: [[Int]]; let hidden: [Float]; let pooled: [Float] }

    func testTinyRandomConfigsMatchTransformers() throws {
        for name in ["tiny-gelu", "tiny-relu"] {
            let dir = Self.fixtures.appendingPathComponent(name)
            let io = try JSONDecoder().decode(IO.self, from: Data(contentsOf: dir.appendingPathComponent("io.json")))
            let model = try BERTModel.load(directory: dir.path)
            let seqs = zip(io.ids, io.mask).map { ids, m in Array(ids.prefix(m.reduce(0, +))) }
            let types = zip(io.types, io.mask).map { t, m in Array(t.prefix(m.reduce(0, +))) }
            let batch = TokenBatch(seqs, typeIds: types, padId: 0)
            let hidden = withoutGrad { model(batch) }
            // Compare only unpadded positions (transformers computes padded rows too; they are unused). Our
            // batch is padded to whole row panels (TokenBatch), transformers' to the longest sequence.
            let t = batch.length, ht = io.mask[0].count, h = hidden.shape[2]
            var worst: Float = 0
            for (b, m) in io.mask.enumerated() {
                for i in 0..<ht where m[i] == 1 {
                    for j in 0..<h { worst = max(worst, Swift.abs(hidden.data[(b * t + i) * h + j] - io.hidden[(b * ht + i) * h + j])) }
                }
            }
            XCTAssertLessThan(worst, 1e-5, "\(name): last_hidden_state max |diff| \(worst)")
            let pooled = withoutGrad { model.pooled(hidden)! }
            let pd = zip(pooled.scalars, io.pooled).map { Swift.abs($0 - $1) }.max()!
            XCTAssertLessThan(pd, 1e-5, "\(name): pooler_output max |diff| \(pd)")
        }
    }

    func testMiniLMSentenceEmbeddingsMatchSentenceTransformers() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.minilm + "/model.safetensors"),
                          "run `make models` first (make test does)")
        let model = try BERTModel.load(directory: Self.minilm)
        struct Line: Decodable { let text: String; let ids: [Int] }
        let lines = try String(contentsOf: Self.fixtures.appendingPathComponent("sentences.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        let want = try Data(contentsOf: Self.fixtures.appendingPathComponent("minilm.f32"))
            .withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(want.count, lines.count * 384)
        var worst: Float = 0, worstLine = -1
        for start in stride(from: 0, to: lines.count, by: 16) {
            let chunk = Array(lines[start..<min(start + 16, lines.count)])
            let batch = TokenBatch(chunk.map(\.ids))
            let emb = withoutGrad { l2Normalize(pool(model(batch), mask: batch.mask, mode: .mean)) }  // modules: Pooling(mean), Normalize
            for (i, _) in chunk.enumerated() {
                for j in 0..<384 {
                    let d = Swift.abs(emb.data[i * 384 + j] - want[(start + i) * 384 + j])
                    if d > worst { worst = d; worstLine = start + i }
                }
            }
        }
        XCTAssertLessThan(worst, 1e-4, "max |diff| \(worst) at line \(worstLine)")
        print("BERTTests: MiniLM embeddings of \(lines.count) sentences, max |diff| vs sentence-transformers \(worst)")
    }

    func testStrictLoadingNamesProblems() throws {
        let dir = Self.fixtures.appendingPathComponent("tiny-gelu")
        var config: BERTConfig = try loadConfig(directory: dir.path)
        config.numHiddenLayers = 1
        let source = try SafeTensorsCheckpoint(path: dir.path)
        XCTAssertThrowsError(try BERTModel(config: config, weights: CheckpointLoader(source))) { error in
            XCTAssertTrue("\(error)".contains("unexpected weight"), "\(error)")
            XCTAssertTrue("\(error)".contains("encoder.layer.1."), "\(error)")
        }
        config.numHiddenLayers = 3
        XCTAssertThrowsError(try BERTModel(config: config, weights: CheckpointLoader(source))) { error in
            XCTAssertTrue("\(error)".contains("missing weight 'encoder.layer.2."), "\(error)")
        }
        XCTAssertThrowsError(try BERTModel.load(directory: "/nonexistent")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent: no such file or directory"), "\(error)")
        }
    }

    func testPoolingModes() {
        let h = Tensor(shape: [2, 3, 2], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        let mask = [[true, true, false], [true, true, true]]
        XCTAssertEqual(pool(h, mask: mask, mode: .mean).scalars, [2, 3, 9, 10])
        XCTAssertEqual(pool(h, mask: mask, mode: .max).scalars, [3, 4, 11, 12])
        XCTAssertEqual(pool(h, mask: mask, mode: .cls).scalars, [1, 2, 7, 8])
        XCTAssertEqual(pool(h, mask: mask, mode: .last).scalars, [3, 4, 11, 12])
        let s = pool(h, mask: mask, mode: .meanSqrtLen).scalars
        XCTAssertEqual(s[0], 4 / Float(2).squareRoot(), accuracy: 1e-6)
        let n = l2Normalize(Tensor(shape: [1, 2], scalars: [3, 4])).scalars
        XCTAssertEqual(n, [0.6, 0.8])
    }
}
