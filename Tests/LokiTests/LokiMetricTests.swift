// Tier 1 for LokiCore's metrics: every file format, distances against hand-computed values, the
// GEMM rows against plain loops, metric checks and load errors, the distance cache.
import Foundation
import XCTest
import ToolTestSupport
import Runtime
import RuntimeCLI
@testable import LokiCore

func writeFile(_ dir: String, _ name: String, _ text: String) -> String {
    let path = dir + "/" + name
    try! text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

func loadError(_ body: () throws -> Any) -> LoadError? {
    do { _ = try body(); return nil } catch let e as LoadError { return e } catch { return LoadError(path: "?", problem: "\(error)") }
}

final class LokiMetricTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try temporaryDirectory("loki-metric") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func testTreeFromTSVLeavesAndDistances() throws {
        // root - animals - {cat, dog}; root - vehicles - {car, bus, truck}; names with spaces need tabs.
        let path = writeFile(dir, "tree.tsv", "# a comment\nroot\tanimals\nroot\tvehicles\nanimals\tcat\nanimals\tdog\nvehicles\tcar\nvehicles\tbig bus\nvehicles\ttruck\n")
        let m = try MetricFiles.load(MetricSpec(path: path))
        XCTAssertEqual(m.classes, ["cat", "dog", "car", "big bus", "truck"], "leaves in order of first appearance")
        XCTAssertEqual(m.distanceRow(0), [0, 2, 4, 4, 4])
        XCTAssertEqual(m.distance(2, 3), 2)
        XCTAssertEqual(m.squaredDistanceRows([1, 4]).scalars, [4, 0, 16, 16, 16, 16, 16, 4, 4, 0])
        XCTAssertTrue((m as! GraphMetric).isTree)
        var all = MetricSpec(path: path)
        all.classNodes = .all
        XCTAssertEqual(try MetricFiles.load(all).classes.count, 8)
        // --classes picks and orders classes, internal nodes included.
        var listed = MetricSpec(path: path)
        listed.classesPath = writeFile(dir, "classes.txt", "truck\nanimals\ncat\n")
        let l = try MetricFiles.load(listed)
        XCTAssertEqual(l.classes, ["truck", "animals", "cat"])
        XCTAssertEqual(l.distanceRow(0), [0, 3, 4], "truck→animals 3, truck→cat 4")
    }

    func testWeightedJSONLGraphUsesDijkstra() throws {
        let path = writeFile(dir, "g.jsonl", """
            {"source":"a","target":"b","weight":1}
            {"source":"b","target":"c","weight":1}
            {"source":"a","target":"c","weight":5}
            {"source":"c","target":3,"weight":0.5}
            """)
        var spec = MetricSpec(path: path)
        spec.classNodes = .all
        let m = try MetricFiles.load(spec)
        XCTAssertEqual(m.classes, ["a", "b", "c", "3"])
        XCTAssertEqual(m.distanceRow(0), [0, 1, 2, 2.5])
        XCTAssertFalse((m as! GraphMetric).isTree, "a cycle")
    }

    func testMatrixFormats() throws {
        let tsv = writeFile(dir, "m.tsv", "\tx\ty\tz\nx\t0\t1\t2\ny\t1\t0\t1.5\nz\t2\t1.5\t0\n")
        let m = try MetricFiles.load(MetricSpec(path: tsv))
        XCTAssertTrue(m is MatrixMetric)
        XCTAssertEqual(m.classes, ["x", "y", "z"])
        XCTAssertEqual(m.squaredDistanceRows([1]).scalars, [1, 0, 2.25])
        let bare = writeFile(dir, "bare.tsv", "x y\n0 3\n3 0\n")
        XCTAssertEqual(try MetricFiles.load(MetricSpec(path: bare)).distance(0, 1), 3)
        let jsonl = writeFile(dir, "m.jsonl", "{\"class\":\"x\",\"distances\":[0,4]}\n{\"class\":\"y\",\"distances\":[4,0]}\n")
        var sq = MetricSpec(path: jsonl)
        sq.squaredMatrix = true
        let s = try MetricFiles.load(sq)
        XCTAssertEqual(s.distance(0, 1), 2, "squared values: d = √4")
        XCTAssertEqual(s.squaredDistanceRows([0]).scalars, [0, 4])
        // Not a metric: asymmetric, non-zero diagonal.
        let asym = writeFile(dir, "asym.tsv", "a\tb\n0\t1\n2\t0\n")
        XCTAssertTrue(loadError { try MetricFiles.load(MetricSpec(path: asym)) }?.problem.contains("not symmetric") ?? false)
        let diag = writeFile(dir, "diag.tsv", "a\tb\n1\t1\n1\t0\n")
        XCTAssertTrue(loadError { try MetricFiles.load(MetricSpec(path: diag)) }?.problem.contains("not 0") ?? false)
    }

    func testEmbeddingMetricGEMMRowsMatchLoops() throws {
        let e = RandomGenerator(seed: 3, stream: 1).normal([30, 7])
        let names = (0..<30).map { "class \($0)" }
        for kind in EmbeddingDistance.allCases {
            let m = EmbeddingMetric(classes: names, embeddings: e, kind: kind)
            let rows = [4, 0, 29, 4]
            let d2 = m.squaredDistanceRows(rows)
            for (r, i) in rows.enumerated() {
                for j in 0..<30 {
                    let want = m.distance(i, j) * m.distance(i, j)
                    XCTAssertEqual(d2.data[r * 30 + j], want, accuracy: 1e-4 * Swift.max(1, want), "\(kind) \(i),\(j)")
                }
                XCTAssertEqual(d2.data[r * 30 + i], 0)
            }
        }
        // From JSONL as `embed` writes it: the class name from "text".
        let path = writeFile(dir, "emb.jsonl", "{\"text\":\"a\",\"embedding\":[0,0]}\n{\"text\":\"b\",\"embedding\":[3,4]}\n")
        let m = try MetricFiles.load(MetricSpec(path: path))
        XCTAssertEqual(m.classes, ["a", "b"])
        XCTAssertEqual(m.distance(0, 1), 5, accuracy: 1e-6)
    }

    func testLoadErrorsNameTheProblem() {
        let twoFields = writeFile(dir, "bad.tsv", "a\tb\nc\n")
        XCTAssertTrue(loadError { try MetricFiles.load(MetricSpec(path: twoFields)) }?.problem.contains("line 2") ?? false)
        let split = writeFile(dir, "split.tsv", "a\tb\nc\td\n")
        XCTAssertTrue(loadError { try MetricFiles.load(MetricSpec(path: split)) }?.problem.contains("cannot be reached") ?? false)
        let ragged = writeFile(dir, "ragged.jsonl", "{\"class\":\"a\",\"embedding\":[1,2]}\n{\"class\":\"b\",\"embedding\":[1]}\n")
        XCTAssertTrue(loadError { try MetricFiles.load(MetricSpec(path: ragged)) }?.problem.contains("line 2") ?? false)
        let missing = loadError { try MetricFiles.load(MetricSpec(path: self.dir + "/nope.tsv")) }
        XCTAssertEqual(missing?.path, dir + "/nope.tsv")
        let unknown = writeFile(dir, "unk.txt", "zebra\n")
        var spec = MetricSpec(path: writeFile(dir, "t.tsv", "r\ta\nr\tb\n"))
        spec.classesPath = unknown
        XCTAssertTrue(loadError { try MetricFiles.load(spec) }?.problem.contains("'zebra' is not a class") ?? false)
        XCTAssertTrue(loadError { try readClassList(self.writeFile2("dup.txt", "a\nb\na\n")) }?.problem.contains("twice") ?? false)
    }

    func writeFile2(_ name: String, _ text: String) -> String { writeFile(dir, name, text) }

    func testDistanceCacheHitsAndInvalidates() throws {
        let tree = writeFile(dir, "tree.tsv", "r\ta\nr\tb\nr\tc\n")
        let observed = writeFile(dir, "seen.txt", "c\na\n")
        let spec = MetricSpec(path: tree)
        var notes: [String] = []
        let first = try DistanceCache.load(spec: spec, observedPath: observed, note: { notes.append($0) })
        XCTAssertEqual(first.observedNames, ["c", "a"])
        XCTAssertEqual(first.squared.scalars, [4, 4, 0, 0, 4, 4])
        let caches = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("tree.tsv.loki-") }
        XCTAssertEqual(caches.count, 1, "one cache beside the metric")
        // A hit is served from the file: corrupting the tensor's bytes (same size) shows through.
        let cachePath = dir + "/" + caches[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: cachePath))
        let end = bytes.count - 4
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: Float(9), toByteOffset: end, as: Float.self) }
        try bytes.write(to: URL(fileURLWithPath: cachePath))
        XCTAssertEqual(try DistanceCache.load(spec: spec, observedPath: observed).squared.scalars.last, 9)
        // Changing the metric file invalidates it.
        _ = writeFile(dir, "tree.tsv", "r\ta\nr\tb\nr\tc\t2\n")
        XCTAssertEqual(try DistanceCache.load(spec: spec, observedPath: observed).squared.scalars, [9, 9, 0, 0, 4, 9])
        // Another observed list gets its own cache; --no-cache writes none.
        _ = try DistanceCache.load(spec: spec, observedPath: writeFile(dir, "seen2.txt", "b\n"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("tree.tsv.loki-") }.count, 2)
        let other = writeFile(dir, "t2.tsv", "r\ta\nr\tb\n")
        _ = try DistanceCache.load(spec: MetricSpec(path: other), observedPath: nil, useCache: false)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: dir).contains { $0.hasPrefix("t2.tsv.loki-") })
        XCTAssertTrue(notes.isEmpty, "\(notes)")
        // A directory without write permission bits gets no cache (even when root could write it).
        let shared = dir + "/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
        let metric = writeFile(shared, "t.tsv", "r\ta\nr\tb\n")
        chmod(shared, 0o555)
        defer { chmod(shared, 0o755) }
        let d = try DistanceCache.load(spec: MetricSpec(path: metric), observedPath: nil, note: { notes.append($0) })
        XCTAssertEqual(d.squared.scalars, [0, 4, 4, 0])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: shared), ["t.tsv"])
        XCTAssertTrue(notes.first?.contains("read-only") ?? false, "\(notes)")
    }
}
