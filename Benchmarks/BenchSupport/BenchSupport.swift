// What every benchmark program shares: timing (median of batches), running the Python reference
// script in a child process, peak memory, and the formatting of figures and ratios.
import CBLAS
import CBuildInfo
import Foundation
import Runtime

/// Median seconds per call over `reps` batches of calls lasting about minTime in total (one warm-up call first).
public func timed(minTime: Double = 0.5, reps: Int = 5, _ body: () -> Void) -> Double {
    body()
    var samples: [Double] = []
    for _ in 0..<reps {
        var n = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            body(); n += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        } while elapsed < minTime / Double(reps)
        samples.append(elapsed / Double(n))
    }
    return samples.sorted()[samples.count / 2]
}

/// Seconds of one call.
public func once(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Runs Benchmarks/reference/SCRIPT with $REFPYTHON and parses the JSON object it prints;
/// nil (with a note on stderr) when no reference Python is configured or the script fails.
public func runReference(_ script: String, _ args: [String], file: String = #filePath) -> [String: Any]? {
    guard let python = ProcessInfo.processInfo.environment["REFPYTHON"], !python.isEmpty else { return nil }
    let path = URL(fileURLWithPath: file).deletingLastPathComponent()
        .appendingPathComponent("../reference/\(script)").standardized.path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [python, path] + args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        FileHandle.standardError.write("reference \(script) failed (exit \(p.terminationStatus))\n".data(using: .utf8)!)
        return nil
    }
    return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
}

/// Peak resident memory of this process so far, in MB.
public func peakRSSMegabytes() -> Double {
    var ru = rusage()
    getrusage(RUSAGE_SELF.rawValue, &ru)
    return Double(ru.ru_maxrss) / 1024
}

public func fmt(_ x: Double?, _ digits: Int = 1) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "-" }

public func ratio(_ a: Double?, _ b: Double?) -> String {
    guard let a, let b, b > 0 else { return "-" }
    return String(format: "%.2f×", a / b)
}

extension String {
    public func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    public func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

/// Parses `--threads N` and `--only NAME` (one of `sections`); exits 64 on anything else.
public func benchArguments(program: String, sections: [String]) -> (threads: Int, only: String?) {
    var threads = Threads.physicalCores(), only: String? = nil
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        if a == "--threads", let v = args.popFirst(), let n = Int(v), n > 0 { threads = n }
        else if a == "--only", let v = args.popFirst(), sections.contains(v) { only = v }
        else {
            FileHandle.standardError.write("usage: \(program) [--threads N] [--only \(sections.joined(separator: "|"))]\n".data(using: .utf8)!)
            exit(64)
        }
    }
    Threads.set(threads)
    return (threads, only)
}

public func referenceBanner(_ threads: Int, _ program: String) {
    let py = ProcessInfo.processInfo.environment["REFPYTHON"] ?? ""
    print("\(program): \(threads) thread(s); reference: \(py.isEmpty ? "none (set REFPYTHON to a Python with torch; `make refenv` makes one)" : py)")
    let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { " (forced by OPENBLAS_CORETYPE=\($0))" } ?? " (detected)"
    print("OpenBLAS kernels: \(String(cString: openblas_get_corename()))\(forced)")
    print("CPU: \(cpuModel()), SIMD: \(cpuSIMD()); build: \(String(cString: mltools_build_flags())), commit \(String(cString: mltools_commit()))")
    print("quantized kernels: \(QuantizedKernels.name)")
}

/// The vector extensions the kernels care about that this CPU reports (Linux /proc/cpuinfo flags).
public func cpuSIMD() -> String {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return "unknown" }
    let flags = Set(line.split(separator: " ").map(String.init))
    let known = ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx_vnni"]
    let have = known.filter(flags.contains)
    return have.isEmpty ? "none of \(known.joined(separator: ", "))" : have.joined(separator: " ") + (flags.contains("avx512f") ? "" : " (no AVX-512)")
}

/// The CPU's model name (Linux /proc/cpuinfo), or "unknown".
public func cpuModel() -> String {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
          let colon = line.firstIndex(of: ":") else { return "unknown" }
    return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
}
