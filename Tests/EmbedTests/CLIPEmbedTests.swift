// `embed` with a CLIP directory (data/fixtures/clip/tiny: a tiny random CLIPModel with a WordPiece
// tokenizer and CLIPImageProcessor's config, from scripts/fixtures/clip.py): image records (a path, and
// the same image as base64) and text records give transformers' features through its own
// preprocessing and tokenizer; a file that is not an image, and a missing one, are bad records.
import Foundation
import XCTest
import ToolTestSupport
import Runtime

final class CLIPEmbedTests: XCTestCase {
    struct Expected: Decodable {
        let images: [String]
        let texts: [String]
        let image_embeds: [[Float]]
        let text_embeds: [[Float]]
    }

    func testImagesAndTextsEqualTransformers() throws {
        let fx = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: Repo.path("data/fixtures/clip/embed.json"))))
        let photo = Repo.path("data/images/" + fx.images[0])
        let b64 = try Data(contentsOf: URL(fileURLWithPath: photo)).base64EncodedString()
        var lines = fx.images.map { "{\"image\": \"\(Repo.path("data/images/" + $0))\"}" }
        lines += fx.texts.map { "{\"text\": \"\($0)\"}" }
        lines += ["{\"image\": \"data:image/png;base64,\(b64)\"}", "{\"image\": \"\(Repo.path("data/README.md"))\"}", "{\"image\": \"nowhere.png\"}",
                  "{\"image\": \"\(photo)\", \"text\": \"w5\"}"]
        let r = try runTool("embed", ["--model", Repo.path("data/fixtures/clip/tiny"), "--on-error", "pass", "--quiet"], stdin: lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = r.stdout.split(separator: "\n").map { try! JSONValue(parsing: Array($0.utf8)) }
        XCTAssertEqual(out.count, 8)
        func vector(_ i: Int) -> [Float] { out[i]["embedding"]?.arrayValue?.compactMap { try? $0.numberValue?.float() } ?? [] }
        let expected = fx.image_embeds + fx.text_embeds + [fx.image_embeds[0]]
        for (i, e) in expected.enumerated() {
            let v = vector(i)
            XCTAssertEqual(v.count, e.count, "record \(i)")
            let scale = max(e.map(abs).max() ?? 1, 1e-6)
            let worst = zip(v, e).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst / scale, 1e-4, "record \(i): worst \(worst)")
        }
        XCTAssertNotNil(out[5]["error"], "\(out[5])")
        XCTAssertNotNil(out[6]["error"], "\(out[6])")
        XCTAssertTrue(out[7]["error"]?["message"]?.stringValue?.contains("both") ?? false, "\(out[7])")
        let normalized = try runTool("embed", ["--model", Repo.path("data/fixtures/clip/tiny"), "--normalize", "--quiet"], stdin: lines[2] + "\n")
        let n = try JSONValue(parsing: Array(normalized.stdout.utf8))["embedding"]?.arrayValue?.compactMap { try? $0.numberValue?.double() } ?? []
        XCTAssertEqual(n.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
    }
}
