// The default thread count: physical cores from sysfs topology.
import Foundation
import XCTest
@testable import Runtime

final class ThreadsTests: XCTestCase {
    func testPhysicalCoresFromTopology() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sysfs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        // 2 packages x 2 cores x 2 hyper-threads, plus one offline CPU and a non-CPU entry.
        var cpu = 0
        for package in 0..<2 {
            for core in 0..<2 {
                for _ in 0..<2 {
                    let topo = root.appendingPathComponent("cpu\(cpu)/topology")
                    try FileManager.default.createDirectory(at: topo, withIntermediateDirectories: true)
                    try Data("\(core)\n".utf8).write(to: topo.appendingPathComponent("core_id"))
                    try Data("\(package)\n".utf8).write(to: topo.appendingPathComponent("physical_package_id"))
                    cpu += 1
                }
            }
        }
        let offline = root.appendingPathComponent("cpu8/topology")
        try FileManager.default.createDirectory(at: offline, withIntermediateDirectories: true)
        try Data("9\n".utf8).write(to: offline.appendingPathComponent("core_id"))
        try Data("0\n".utf8).write(to: root.appendingPathComponent("cpu8/online"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("cpufreq"), withIntermediateDirectories: true)
        XCTAssertEqual(Threads.physicalCores(sysfs: root.path), 4)
        XCTAssertNil(Threads.physicalCores(sysfs: root.appendingPathComponent("nowhere").path))
        XCTAssertGreaterThanOrEqual(Threads.physicalCores(), 1)
        XCTAssertLessThanOrEqual(Threads.physicalCores(), ProcessInfo.processInfo.activeProcessorCount)
    }

    /// parallelFor on the spinning pool (CPool) while it grows from 2 to 8 threads and its workers go to
    /// sleep in between: every item runs exactly once (a worker added mid-way once ran a chunk twice).
    func testPoolRunsEveryItemOnceWhileGrowing() {
        let saved = Threads.count
        defer { Threads.set(saved) }
        for rep in 0..<300 {
            let n = rep < 3 ? 2 : 2 + rep % 7
            Threads.set(n)
            if rep % 50 == 0 { usleep(3000) }
            var hits = [Int](repeating: 0, count: 64)
            hits.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress!
                parallelFor(n * 5, grain: 1) { r in for i in r { p[i] += 1 } }
            }
            XCTAssertEqual(Array(hits.prefix(n * 5)), [Int](repeating: 1, count: n * 5), "rep \(rep), \(n) threads")
            XCTAssertEqual(hits.dropFirst(n * 5).reduce(0, +), 0)
        }
    }
}
