// CLIP against transformers (data/fixtures/clip from scripts/fixtures/clip.py): image and text
// features of two tiny random CLIPModels (pooling at the first EOS, and at the highest id for old
// configs; quick_gelu and gelu), the scaled cosine logits; and the image preprocessing against
// Pillow: resize bytes equal to Image.resize (bicubic, bilinear, up and down), CLIPImageProcessorPil's
// pixel values for RGB, gray and RGBA images and non-square crops.
import Foundation
import XCTest
@testable import Runtime

private struct CLIPIO: Decodable {
    let pixel_values: [Float]
    let input_ids: [[Int]]
    let attention_mask: [[Int]]
    let image_embeds: [Float]
    let text_embeds: [Float]
    let logits_per_image: [Float]
}

private struct PreprocessFixture: Decodable {
    struct Case: Decodable { let image: String; let shortest_edge: Int; let crop: [Int]; let shape: [Int]; let pixel_values: [Float] }
    struct Resize: Decodable { let width: Int; let height: Int; let filter: String; let bytes: [Int] }
    let processor: [Case]
    let resize: [Resize]
}

final class CLIPTests: XCTestCase {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data").standardized.path

    func close(_ a: [Float], _ b: [Float], _ rel: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let scale = max(b.map(abs).max() ?? 0, 1e-6)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst / scale, rel, "\(what): worst \(worst) at scale \(scale)", file: file, line: line)
    }

    func testFeaturesMatchTransformers() throws {
        for name in ["tiny", "tiny-legacy"] {
            let path = Self.dir + "/fixtures/clip/" + name
            let io = try JSONDecoder().decode(CLIPIO.self, from: Data(contentsOf: URL(fileURLWithPath: path + "/io.json")))
            let m = try CLIPModel.load(directory: path)
            let image = withoutGrad { m.imageFeatures(Tensor(shape: [2, 3, 30, 30], scalars: io.pixel_values)) }
            close(image.scalars, io.image_embeds, 1e-4, "\(name) image features")
            let t = io.input_ids[0].count
            let text = withoutGrad { m.textFeatures(ids: io.input_ids.flatMap { $0 }, batch: 2, length: t,
                                                    padding: io.attention_mask.map { $0.map { $0 == 1 } }) }
            close(text.scalars, io.text_embeds, 1e-4, "\(name) text features")
            close(m.logits(imageFeatures: image, textFeatures: text).scalars, io.logits_per_image, 1e-4, "\(name) logits")
        }
    }

    func testResizeBytesEqualPillow() throws {
        let fx = try JSONDecoder().decode(PreprocessFixture.self, from: Data(contentsOf: URL(fileURLWithPath: Self.dir + "/fixtures/clip/preprocess.json")))
        let rgb = try Image(contentsOf: Self.dir + "/images/rgb.png").rgb
        for r in fx.resize {
            let out = rgb.resized(width: r.width, height: r.height, filter: r.filter == "bicubic" ? .bicubic : .bilinear)
            XCTAssertEqual(out.pixels.map(Int.init), r.bytes, "\(r.filter) \(r.width)x\(r.height)")
        }
    }

    func testPreprocessingMatchesCLIPImageProcessorPil() throws {
        let fx = try JSONDecoder().decode(PreprocessFixture.self, from: Data(contentsOf: URL(fileURLWithPath: Self.dir + "/fixtures/clip/preprocess.json")))
        for c in fx.processor {
            var p = CLIPImagePreprocessing()
            p.shortestEdge = c.shortest_edge
            (p.cropHeight, p.cropWidth) = (c.crop[0], c.crop[1])
            let x = try p.pixels(try Image(contentsOf: Self.dir + (c.image.hasPrefix("fixtures") ? "/" : "/images/") + c.image))
            XCTAssertEqual(x.shape, c.shape, c.image)
            close(x.scalars, c.pixel_values, 1e-5, "\(c.image) at \(c.shortest_edge)/\(c.crop)")
        }
    }
}
