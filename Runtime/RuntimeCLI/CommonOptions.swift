// The options every program shares, as ArgumentParser groups: `@OptionGroup var common: CommonOptions`
// (threads, seed, batch size, progress) and `@OptionGroup var io: IOOptions` (input files, --rejects).
// Invalid values throw ValidationError, which ArgumentParser reports with the usage and exit 64.
import Foundation
import Runtime
import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Threads, seed and progress: what every program shares. Programs whose `--batch` means something
/// else (`zo train`: examples per step) take this group alone.
public struct RunOptions: ParsableArguments {
    @Option(help: "Threads for BLAS and kernels (default: the number of physical cores).")
    public var threads: Int?

    @Option(help: "Random seed (Philox key) for anything random.")
    public var seed: UInt64 = 0

    @Flag(help: "No progress display on stderr (errors are still reported).")
    public var quiet = false

    @Flag(help: "Show progress on stderr even when it is not a terminal.")
    public var progress = false

    @Flag(help: "One fixed BLAS kernel (OpenBLAS's Haswell kernels: AVX2 and FMA) whatever the CPU, so machines of different kinds give the same bytes.")
    public var portable = false

    public init() {}

    public func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1 (got \(t))") }
    }

    /// `--threads`, or the physical core count.
    public var threadCount: Int { threads ?? Threads.physicalCores() }

    /// Apply `--threads` to OpenBLAS and the runtime (`Threads.count`), and `--portable`. Call once at
    /// the start of run().
    public func apply() {
        if portable { Portable.pinKernel() }
        Threads.set(threadCount)
    }

    /// Progress is shown when forced with --progress or when stderr is a terminal; never with --quiet.
    public func showsProgress(errorFD: Int32 = STDERR_FILENO) -> Bool {
        ProgressMeter.shouldShow(quiet: quiet, forced: progress, fd: errorFD)
    }
}

/// `--portable`: OpenBLAS picks its kernels for the CPU when it loads (the last bits of every product
/// follow that choice); OPENBLAS_CORETYPE pins them, but only before the library loads, so the program
/// sets it and starts itself again.
enum Portable {
    static let kernel = "Haswell"

    static func pinKernel() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != kernel else { return }
        setenv("OPENBLAS_CORETYPE", kernel, 1)
        let args = CommandLine.arguments
        var cargs = args.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &cargs)
        // exec failed (no /proc): go on with the kernel OpenBLAS chose, and say so.
        printError(program: (args.first as NSString?)?.lastPathComponent ?? "mltools",
                   "--portable: cannot restart with OPENBLAS_CORETYPE=\(kernel) (\(String(cString: strerror(errno)))); the CPU's own kernels are in use")
    }
}

/// RunOptions plus `--batch`, the number of records processed together.
public struct CommonOptions: ParsableArguments {
    @OptionGroup public var run: RunOptions

    @Option(help: "Records processed together; output is still written in input order.")
    public var batch: Int = 32

    public init() {}

    public func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1 (got \(batch))") }
    }

    public var threads: Int? { run.threads }
    public var seed: UInt64 { run.seed }
    public var quiet: Bool { run.quiet }
    public var progress: Bool { run.progress }
    public var portable: Bool { run.portable }
    public var threadCount: Int { run.threadCount }
    public func apply() { run.apply() }
    public func showsProgress(errorFD: Int32 = STDERR_FILENO) -> Bool { run.showsProgress(errorFD: errorFD) }
}

/// What a bad record (not JSON, missing or mistyped field, too long, failed) does to the run.
public enum ErrorMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Reported on stderr, left out of the output; exit status 1 at the end.
    case skip
    /// Reported, and the run stops there; exit status 1.
    case fail
    /// Reported, and written through with an error field, so lines out match lines in; exit status 0.
    case pass
}

public struct IOOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("JSONL input files, read in order; '-' is stdin. One that cannot be opened is reported and skipped (exit status 1).", valueName: "file"))
    public var inputs: [String] = ["-"]

    @Option(help: ArgumentHelp("Append every failed input line, verbatim, to this file (one write per line, so several processes can share it; %p in the name becomes the process id).", valueName: "file"))
    public var rejects: String?

    @Option(help: ArgumentHelp("A bad record: skip (report it and leave it out; exit 1 at the end), fail (stop at the first; exit 1), pass (write it through with --error-field; exit 0).", valueName: "mode"))
    public var onError: ErrorMode = .skip

    @Option(help: ArgumentHelp("The field --on-error pass adds to a bad record: {\"message\", \"file\", \"line\"}; a line that is not a JSON object becomes {\"<field>\": ..., \"input\": \"<the line>\"}.", valueName: "name"))
    public var errorField = "error"

    @Option(help: ArgumentHelp("Longest input line accepted, in bytes; a longer record fails alone.", valueName: "bytes"))
    public var maxRecordBytes = 16 << 20

    public init() {}

    public func validate() throws {
        if maxRecordBytes < 2 { throw ValidationError("--max-record-bytes must be at least 2 (got \(maxRecordBytes))") }
        if errorField.isEmpty { throw ValidationError("--error-field must not be empty") }
    }
}
