// What a program prints outside the JSONL runner (tables, reports, experiment rows), written so that a
// failed write is never silent: a full disk or a closed file ends the program with status 2 and a
// message; a closed downstream pipe (`| head`) ends it quietly with status 0, as the runner does.
import Runtime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum StandardOutput {
    private nonisolated(unsafe) static var prepared = false

    /// Writes `text` and a newline to stdout in one write(2).
    public static func line(_ text: String, program: String) {
        write(text + "\n", program: program)
    }

    /// Writes `text` as it is.
    public static func write(_ text: String, program: String) {
        if !prepared { JSONLWriter.ignoreSIGPIPE(); prepared = true }
        var t = text
        let status = t.withUTF8 { JSONLWriter.writeAll(STDOUT_FILENO, UnsafeRawBufferPointer($0)) }
        switch status {
        case .ok: return
        case .closed: exit(ExitStatus.ok)
        case .failed(let problem):
            printError(program: program, "cannot write output: \(problem)")
            exit(ExitStatus.cannotLoad)
        }
    }
}
