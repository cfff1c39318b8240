// Threads: the process-wide thread count that BLAS and the runtime's own kernels use.
//
// The default is the number of physical cores (hyper-threads share a core's FMA units, so more
// threads only add contention), found from sysfs topology: unique (package, core) pairs among the
// online CPUs, capped by the CPUs this process may run on. `--threads` (CommonOptions) overrides it,
// so a pipeline of several programs can split the machine instead of oversubscribing it.
import CBLAS
import Foundation

public enum Threads {
    /// Threads kernels may use; set through `set(_:)` so OpenBLAS follows.
    public private(set) static var count: Int = {
        openblas_set_num_threads(1)
        return physicalCores()
    }()

    /// Set the runtime-wide count. OpenBLAS itself always runs single-threaded: the runtime splits
    /// each product into tiles of a fixed size (from the shapes alone) and runs the tiles on these
    /// threads, so results are bit-identical whatever the thread count (OpenBLAS's own threading
    /// changes the last bits with the thread count).
    public static func set(_ n: Int) {
        count = max(1, n)
        openblas_set_num_threads(1)
    }

    /// Physical cores available to this process (at least 1).
    public static func physicalCores() -> Int {
        let available = ProcessInfo.processInfo.activeProcessorCount
        guard let cores = physicalCores(sysfs: "/sys/devices/system/cpu") else { return max(1, available) }
        return max(1, min(cores, available))
    }

    /// Unique (physical_package_id, core_id) pairs over cpuN/topology; nil when sysfs has no topology.
    static func physicalCores(sysfs root: String) -> Int? {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: root) else { return nil }
        var cores = Set<String>()
        for name in names where name.hasPrefix("cpu") && name.dropFirst(3).allSatisfy(\.isNumber) && name.count > 3 {
            let dir = "\(root)/\(name)"
            if let online = read("\(dir)/online"), online == "0" { continue }
            guard let core = read("\(dir)/topology/core_id") else { continue }
            let package = read("\(dir)/topology/physical_package_id") ?? "0"
            cores.insert("\(package):\(core)")
        }
        return cores.isEmpty ? nil : cores.count
    }

    private static func read(_ path: String) -> String? {
        guard let s = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
