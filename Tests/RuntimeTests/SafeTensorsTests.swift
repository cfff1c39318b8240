// safetensors: files written by the reference library (data/fixtures/safetensors, made by
// scripts/fixtures/safetensors_files.py), sharded checkpoints, our atomic writer, hostile files.
import Foundation
import XCTest
@testable import Runtime

final class SafeTensorsTests: XCTestCase {
    private let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../data/fixtures/safetensors").standardized
    private struct Expected: Decodable { let shape: [Int]; let values: [Double] }

    private func tmpDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testEveryDTypeFromTheReferenceWriter() throws {
        let f = try SafeTensorsFile(path: dir.appendingPathComponent("mixed.safetensors").path)
        XCTAssertEqual(f.metadata, ["format": "pt", "note": "fixture"])
        let expected = try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: dir.appendingPathComponent("expected.json")))
        XCTAssertEqual(Set(f.names), Set(expected.keys))
        for (name, want) in expected {
            let t = try f.tensor(name)
            XCTAssertEqual(t.shape, want.shape, name)
            for (a, b) in zip(t.scalars, want.values) { XCTAssertEqual(Double(a), Float(b).isFinite ? Double(Float(b)) : b, name) }
        }
        XCTAssertEqual(try f.integers("e.i64"), [0, -1, 1 << 40, 7])
        XCTAssertEqual(try f.integers("h.bool"), [1, 0, 1])
        XCTAssertThrowsError(try f.integers("a.f32"))
        XCTAssertThrowsError(try f.tensor("nope")) { XCTAssertTrue("\($0)".contains("no tensor named 'nope'")) }
    }

    func testF32IsAViewIntoTheMapping() throws {
        let f = try SafeTensorsFile(path: dir.appendingPathComponent("mixed.safetensors").path)
        let a = try f.tensor("a.f32"), b = try f.tensor("a.f32")
        XCTAssertTrue(a.storage.base == b.storage.base, "two reads of an aligned F32 tensor should share the mapped bytes")
    }

    func testShardedCheckpoint() throws {
        let ck = try SafeTensorsCheckpoint(path: dir.appendingPathComponent("sharded").path)
        let expected = try JSONDecoder().decode([String: Expected].self,
                                                from: Data(contentsOf: dir.appendingPathComponent("sharded/expected.json")))
        XCTAssertEqual(Set(ck.tensorNames), Set(expected.keys))
        for (name, want) in expected {
            let t = try ck.tensor(name, shape: want.shape)
            XCTAssertEqual(t.scalars, want.values.map { Float($0) }, name)
        }
        XCTAssertThrowsError(try ck.tensor("layer.0.weight", shape: [3, 3])) {
            XCTAssertTrue("\($0)".contains("weight 'layer.0.weight' has shape [2, 2], expected [3, 3]"), "\($0)")
        }
        XCTAssertThrowsError(try ck.tensor("layer.9.weight", shape: [2])) { XCTAssertTrue("\($0)".contains("missing weight 'layer.9.weight'")) }
    }

    func testWriteThenReadRoundTrip() throws {
        let d = try tmpDir()
        let path = d.appendingPathComponent("ours.safetensors").path
        let rng = RandomGenerator(seed: 3)
        let tensors: [(String, Tensor)] = [("w", rng.normal([4, 5])), ("b", rng.normal([5])), ("s", Tensor(scalar: 3)),
                                           ("z", Tensor.zeros([0, 2])), ("name with \"quotes\" ✓", Tensor([1, 2]))]
        try writeSafeTensors(tensors, metadata: ["format": "pt"], to: path)
        let f = try SafeTensorsFile(path: path)
        XCTAssertEqual(f.metadata, ["format": "pt"])
        for (name, t) in tensors {
            let back = try f.tensor(name)
            XCTAssertEqual(back.shape, t.shape)
            XCTAssertEqual(back.scalars, t.scalars)
        }
        // Header padded so the data is 8-byte aligned.
        let n = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readData(ofLength: 8)
        XCTAssertEqual(n.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } % 8, 0)
        // No temporary file left behind; a second write replaces the file.
        try writeSafeTensors([("w", Tensor([9]))], to: path)
        XCTAssertEqual(try SafeTensorsFile(path: path).tensor("w").scalars, [9])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: d.path), ["ours.safetensors"])
        XCTAssertThrowsError(try writeSafeTensors([("a", Tensor([1])), ("a", Tensor([2]))], to: path))
        XCTAssertThrowsError(try writeSafeTensors([("a", Tensor([1]))], to: "/nonexistent-dir/x.safetensors"))
    }

    func testHostileFiles() throws {
        let d = try tmpDir()
        let good = try Data(contentsOf: dir.appendingPathComponent("mixed.safetensors"))
        func load(_ bytes: Data) -> String? {
            let p = d.appendingPathComponent("bad.safetensors")
            try? bytes.write(to: p)
            do { _ = try SafeTensorsFile(path: p.path); return nil } catch { return "\(error)" }
        }
        func header(_ json: String, data: Int) -> Data {
            var out = Data()
            var n = UInt64(json.utf8.count).littleEndian
            out.append(Data(bytes: &n, count: 8))
            out.append(json.data(using: .utf8)!)
            out.append(Data(count: data))
            return out
        }
        for cut in [0, 4, 8, 9, 100, good.count - 1] {
            let msg = load(good.prefix(cut))
            XCTAssertNotNil(msg, "cut \(cut) loaded")
            XCTAssertTrue(msg?.contains("bad.safetensors") ?? false)
        }
        var huge = good
        huge.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(200_000_000).littleEndian) { Data($0) })
        XCTAssertTrue(load(huge)?.contains("100 MB limit") ?? false)
        var past = good
        past.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(good.count).littleEndian) { Data($0) })
        XCTAssertTrue(load(past)?.contains("truncated") ?? false)
        let cases: [(String, Int, String)] = [
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 4, "file holds 4"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, 4, "expected 8"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "do not follow"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 4, "do not follow"),
            (#"{"a":{"dtype":"Q9","shape":[1],"data_offsets":[0,4]}}"#, 4, "unknown dtype Q9"),
            (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, 4, "invalid dimension"),
            (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, 4, "overflows"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, 4, "invalid data_offsets"),
            (#"{"__metadata__":{"k":1}}"#, 0, "not a string"),
            (#"[1,2]"#, 0, "does not start with '{'"),
            (#"{"a":"#, 0, "not valid JSON"),
        ]
        for (json, n, want) in cases {
            let msg = load(header(json, data: n)) ?? "loaded"
            XCTAssertTrue(msg.contains(want), "\(json): \(msg)")
        }
        // Random corruption never crashes.
        let rng = RandomGenerator(seed: 11)
        for _ in 0..<200 {
            var b = good
            for _ in 0..<2 { b[rng.nextInt(below: 300)] = UInt8(rng.nextInt(below: 256)) }
            _ = load(b)
        }
    }
}
