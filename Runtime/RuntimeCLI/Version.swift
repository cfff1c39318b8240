// `--version` for every program: the toolkit's version and commit, the build flags, the SIMD level the
// CPU offers and the one the binary was built for, and the OpenBLAS kernel in use (the kernel decides
// the last bits of every product: see the README on identical bytes across machines).
import CBLAS
import CBuildInfo
import Foundation

public enum BuildInfo {
    public static let version = "0.5.0"
    public static var commit: String { String(cString: mltools_commit()) }
    public static var flags: String { String(cString: mltools_build_flags()) }

    /// The widest vector extensions this CPU reports (Linux /proc/cpuinfo).
    public static var cpuSIMD: String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return "unknown" }
        let flags = Set(line.split(separator: " ").map(String.init))
        if flags.contains("avx512f") { return "AVX-512" + (flags.contains("avx512_bf16") ? " (BF16)" : "") }
        if flags.contains("avx2") && flags.contains("fma") { return "AVX2+FMA" }
        if flags.contains("avx") { return "AVX" }
        return flags.contains("sse4_2") ? "SSE4.2" : "baseline"
    }

    public static var blasKernel: String {
        let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { " (OPENBLAS_CORETYPE=\($0))" } ?? ""
        return String(cString: openblas_get_corename()) + forced
    }

    /// The text `--version` prints.
    public static func text(program: String) -> String {
        """
        \(program) (mltools) \(version), commit \(commit)
        build: \(flags)
        CPU SIMD: \(cpuSIMD); OpenBLAS kernel: \(blasKernel)
        """
    }
}
