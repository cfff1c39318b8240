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
}
