// GGUF: metadata of every value type and every tensor type we read, against gguf-py's
// dequantization (data/fixtures/gguf, made by scripts/fixtures/gguf_quants.py); hostile files.
import Foundation
import XCTest
@testable import Runtime

final class GGUFTests: XCTestCase {
    private let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../data/fixtures/gguf").standardized

    private struct Expected: Decodable { let shape: [Int]; let values: [Double] }

    func testMetadataValueTypes() throws {
        let f = try GGUFFile(path: dir.appendingPathComponent("tiny.gguf").path)
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.metadata["general.architecture"]?.string, "llama")
        XCTAssertEqual(f.metadata["test.u8"]?.int, 200)
        XCTAssertEqual(f.metadata["test.i8"]?.int, -5)
        XCTAssertEqual(f.metadata["test.u16"]?.int, 60000)
        XCTAssertEqual(f.metadata["test.i16"]?.int, -300)
        XCTAssertEqual(f.metadata["test.u32"]?.int, 4_000_000_000)
        XCTAssertEqual(f.metadata["test.i32"]?.int, -7)
        XCTAssertEqual(f.metadata["test.f32"]?.double, 1.5)
        XCTAssertEqual(f.metadata["test.bool"]?.bool, true)
        XCTAssertEqual(f.metadata["test.str"]?.string, "héllo ✓")
        XCTAssertEqual(f.metadata["test.arr"]?.array?.compactMap(\.int), [1, 2, 3])
        XCTAssertEqual(f.metadata["test.strs"]?.array?.compactMap(\.string), ["a", "bc", ""])
        XCTAssertEqual(f.metadata["test.u64"]?.int, 1 << 40)
        XCTAssertEqual(f.metadata["test.i64"]?.int, -(1 << 40))
        XCTAssertEqual(f.metadata["test.f64"]?.double, 0.25)
    }

    func testEveryTensorTypeDequantizesAsGGML() throws {
        let f = try GGUFFile(path: dir.appendingPathComponent("tiny.gguf").path)
        let expected = try JSONDecoder().decode([String: Expected].self,
                                                from: Data(contentsOf: dir.appendingPathComponent("tiny.json")))
        XCTAssertEqual(Set(f.tensors.map(\.name)), Set(expected.keys))
        for (name, want) in expected.sorted(by: { $0.key < $1.key }) {
            let t = try f.tensor(name)
            XCTAssertEqual(t.shape, want.shape, name)
            var worst = 0.0, first: String?
            for (i, (a, b)) in zip(t.scalars, want.values).enumerated() {
                let d = Swift.abs(Double(a) - b)
                if d > worst { worst = d }
                if d > 0 && first == nil { first = "index \(i): ours \(a), gguf-py \(b)" }
            }
            // Exact: the same float operations in the same order as ggml.
            XCTAssertEqual(worst, 0, "\(name) (\(f.info(name)!.type)): max |diff| \(worst); first \(first ?? "")")
        }
    }

    func testHostileFilesAreErrorsNamingTheFile() throws {
        let good = try Data(contentsOf: dir.appendingPathComponent("tiny.gguf"))
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-\(getpid())")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        func attempt(_ bytes: Data, _ label: String) -> String? {
            let p = tmp.appendingPathComponent("\(label).gguf")
            try? bytes.write(to: p)
            do { _ = try GGUFFile(path: p.path); return nil } catch { return "\(error)" }
        }
        // Every truncation is an error that names the file.
        for cut in [0, 3, 4, 8, 20, 24, 100, good.count / 2, good.count - 1] {
            let msg = attempt(good.prefix(cut), "cut\(cut)")
            XCTAssertNotNil(msg, "cut at \(cut) loaded")
            XCTAssertTrue(msg?.contains("cut\(cut).gguf") ?? false, msg ?? "")
        }
        // Absurd counts and lengths.
        var huge = good
        huge.replaceSubrange(8..<16, with: withUnsafeBytes(of: UInt64.max.littleEndian) { Data($0) })
        XCTAssertNotNil(attempt(huge, "hugecount"))
        var badVersion = good
        badVersion[4] = 9
        XCTAssertTrue(attempt(badVersion, "version")?.contains("version 9") ?? false)
        XCTAssertTrue(attempt(Data("GGML....".utf8), "magic")?.contains("not a GGUF file") ?? false)
        // Random byte flips in the header never crash (errors or values, never out-of-bounds reads).
        let rng = RandomGenerator(seed: 5)
        for i in 0..<300 {
            var b = good
            for _ in 0..<3 { b[rng.nextInt(below: 1200)] = UInt8(rng.nextInt(below: 256)) }
            if let f = try? GGUFFile(path: { let p = tmp.appendingPathComponent("flip.gguf"); try? b.write(to: p); return p.path }()) {
                for t in f.tensors { _ = try? f.tensor(t.name) }
            }
            _ = i
        }
    }

    func testMissingFile() {
        XCTAssertThrowsError(try GGUFFile(path: "/nonexistent/model.gguf")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/model.gguf: cannot open"), "\(error)")
        }
    }
}
