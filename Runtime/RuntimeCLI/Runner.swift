// JSONLRunner: the loop every program runs: read lines, parse records, process them in batches,
// write one object per line in input order, report bad records and keep going.
//
//   common.apply()                                    // --threads -> OpenBLAS and Threads.count
//   let runner = JSONLRunner(program: "embed", io: io, common: common)
//   let status = runner.forEach { record in
//       try record.set("embedding", floats: model.embed(try record.string("text")))
//   }
//   throw ExitCode(status)                            // ArgumentParser exits with it
//
// A bad record (not an object, invalid JSON, longer than --max-record-bytes, missing field, a thrown
// RecordError) is reported as `program:FILE:LINE: message` on stderr and its line is appended verbatim
// to --rejects (CRLF kept); then, per --on-error: skip leaves it out and the run continues (status 1),
// fail stops the run there (status 1), pass writes it through with an error field (status 0). An input
// that cannot be opened is reported and skipped (status 1). A rejects file that cannot be opened, an
// output that cannot be written, or a thrown LoadError gives 2.
// A closed downstream pipe ends the run quietly (0, or 1 if records had already failed). Each batch's
// output goes out in one write(2) as soon as it is ready; a batch is cut short when the input has no
// complete line waiting, so interactive or slow producers see their results without delay.
// Inputs, stdin, stdout and stderr are injectable, so tests run the whole thing in-process.
import Runtime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class JSONLRunner {
    public let program: String
    public let inputs: [String]
    public let rejectsPath: String?
    public let showProgress: Bool
    public let onError: ErrorMode
    public let errorField: String
    public let maxRecordBytes: Int
    /// Batch size used when `run`/`forEach` get none (CommonOptions' --batch through the convenience init).
    public let batchSize: Int
    let outputFD: Int32
    let errorFD: Int32
    let stdinFD: Int32

    /// Counts from the last run.
    public private(set) var recordsRead = 0
    public private(set) var recordsFailed = 0
    public private(set) var recordsWritten = 0

    public init(program: String, inputs: [String] = ["-"], rejects: String? = nil, progress: Bool = false,
                batchSize: Int = 32, onError: ErrorMode = .skip, errorField: String = "error", maxRecordBytes: Int = 16 << 20,
                output: Int32 = STDOUT_FILENO, error: Int32 = STDERR_FILENO, stdin: Int32 = STDIN_FILENO) {
        self.program = program
        self.batchSize = batchSize
        self.inputs = inputs.isEmpty ? ["-"] : inputs
        self.rejectsPath = rejects.map { $0.replacingOccurrences(of: "%p", with: String(getpid())) }
        self.onError = onError
        self.errorField = errorField
        self.maxRecordBytes = maxRecordBytes
        self.showProgress = progress
        self.outputFD = output
        self.errorFD = error
        self.stdinFD = stdin
    }

    /// From the shared option groups: inputs, --rejects, --batch, and progress per --progress/--quiet/isatty.
    public convenience init(program: String, io: IOOptions, common: CommonOptions,
                            output: Int32 = STDOUT_FILENO, error: Int32 = STDERR_FILENO) {
        self.init(program: program, inputs: io.inputs, rejects: io.rejects,
                  progress: common.showsProgress(errorFD: error), batchSize: common.batch,
                  onError: io.onError, errorField: io.errorField, maxRecordBytes: io.maxRecordBytes,
                  output: output, error: error)
    }

    /// One record at a time: `body` reads and sets fields; a thrown error fails that record only,
    /// except a LoadError, which ends the run with status 2.
    public func forEach(batchSize: Int? = nil, _ body: (inout Record) throws -> Void) -> Int32 {
        run(batchSize: batchSize) { batch in
            try batch.map { record in
                var r = record
                do {
                    try body(&r)
                    return .success(r)
                } catch let e as RecordError {
                    return .failure(e)
                } catch let e as LoadError {
                    throw e
                } catch {
                    return .failure(RecordError(String(describing: error)))
                }
            }
        }
    }

    /// Batches of up to `batchSize` parsed records; `process` returns one result per record, in order.
    /// If `process` throws a LoadError the run stops with status 2; any other error fails the batch.
    public func run(batchSize: Int? = nil,
                    _ process: ([Record]) throws -> [Result<Record, RecordError>]) -> Int32 {
        let batchSize = batchSize ?? self.batchSize
        precondition(batchSize >= 1, "JSONLRunner: batch size must be at least 1")
        JSONLWriter.ignoreSIGPIPE()
        recordsRead = 0
        recordsFailed = 0
        recordsWritten = 0

        let reader = JSONLReader(inputs: inputs, stdin: stdinFD)
        do { try reader.prepare() } catch {
            report(String(describing: error))
            return ExitStatus.cannotLoad
        }
        var unreadableReported = 0
        func reportUnreadable() {
            while unreadableReported < reader.unreadable.count {
                report(reader.unreadable[unreadableReported].description + " (skipped)")
                unreadableReported += 1
            }
        }
        reportUnreadable()
        var rejects: JSONLWriter?
        if let path = rejectsPath {
            do { rejects = try JSONLWriter(path: path, append: true) } catch let e as InputError {
                report("cannot write rejects file \(path): \(e.problem)")
                return ExitStatus.cannotLoad
            } catch { preconditionFailure("\(error)") }
        }
        let output = JSONLWriter(fd: outputFD)
        let progress = ProgressMeter(program: program, fd: errorFD, enabled: showProgress, totalBytes: reader.totalBytes)
        defer { progress.finish(records: recordsRead) }

        var readError: Error?
        var records: [Record] = []
        var slots: [Slot] = []
        while readError == nil {
            // Gather a batch: parse errors keep their place among the good records.
            records.removeAll(keepingCapacity: true)
            slots.removeAll(keepingCapacity: true)
            do {
                while slots.count < batchSize {
                    if !slots.isEmpty && !reader.canContinueWithoutBlocking() { break }
                    guard let line = try reader.next() else { break }
                    guard line.bytes.count <= maxRecordBytes else {
                        slots.append(Slot(source: line.source, line: line.number, crlf: line.crlf,
                                          failure: "record of \(line.bytes.count) bytes is longer than --max-record-bytes \(maxRecordBytes)",
                                          bytes: line.bytes))
                        continue
                    }
                    do {
                        records.append(try Record(parsing: line.bytes))
                        slots.append(Slot(source: line.source, line: line.number, crlf: line.crlf, record: records.count - 1))
                    } catch {
                        slots.append(Slot(source: line.source, line: line.number, crlf: line.crlf,
                                          failure: String(describing: error), bytes: line.bytes))
                    }
                }
            } catch {
                readError = error
            }
            reportUnreadable()
            if slots.isEmpty { break }
            recordsRead += slots.count

            var results: [Result<Record, RecordError>]
            do {
                results = records.isEmpty ? [] : try process(records)
                precondition(results.count == records.count,
                             "JSONLRunner: \(records.count) records in, \(results.count) results out")
            } catch let e as LoadError {
                progress.clear()
                report(e.description)
                return ExitStatus.cannotLoad
            } catch {
                let e = (error as? RecordError) ?? RecordError(String(describing: error))
                results = Array(repeating: .failure(e), count: records.count)
            }

            // Emit in input order: good records to the output, failures to stderr and --rejects (and,
            // with --on-error pass, to the output with an error field; with fail, the run ends there).
            var out = JSONWriter(capacity: records.reduce(0) { $0 + $1.line.count + 64 })
            var clearedProgress = false
            var stop = false
            for slot in slots {
                var failure = slot.failure
                var bytes = slot.bytes
                var failed: Record? = nil
                if let i = slot.record {
                    switch results[i] {
                    case .success(let r):
                        r.write(to: &out)
                        out.append(byte: 0x0A)
                        recordsWritten += 1
                        continue
                    case .failure(let e):
                        failure = e.message
                        bytes = records[i].line
                        failed = records[i]
                    }
                }
                if !clearedProgress { progress.clear(); clearedProgress = true }
                recordsFailed += 1
                let message = failure ?? "failed"
                _ = JSONLWriter.writeAll(errorFD, "\(program):\(slot.source):\(slot.line): \(message)\n")
                if let rejects {
                    var line = bytes ?? []
                    if slot.crlf { line.append(0x0D) }
                    line.append(0x0A)
                    if case .failed(let problem) = rejects.write(line) {
                        report("cannot write rejects file \(rejectsPath!): \(problem)")
                        return ExitStatus.cannotLoad
                    }
                }
                switch onError {
                case .skip: break
                case .fail: stop = true
                case .pass:
                    let error: JSONValue = .object(["message": .string(message), "file": .string(slot.source),
                                                    "line": .number(JSONNumber(slot.line))])
                    var r = failed ?? Record(["input": .string(String(decoding: bytes ?? [], as: UTF8.self))])
                    r.set(errorField, error)
                    r.write(to: &out)
                    out.append(byte: 0x0A)
                    recordsWritten += 1
                }
                if stop { break }
            }
            switch output.write(out.bytes) {
            case .ok: break
            case .closed: return finalStatus(unreadable: !reader.unreadable.isEmpty)
            case .failed(let problem):
                progress.clear()
                report("cannot write output: \(problem)")
                return ExitStatus.cannotLoad
            }
            progress.update(records: recordsRead, bytes: reader.bytesConsumed)
            if stop { return ExitStatus.badRecords }
        }
        reportUnreadable()
        if let readError {
            progress.clear()
            report(String(describing: readError))
            return ExitStatus.cannotLoad
        }
        return finalStatus(unreadable: !reader.unreadable.isEmpty)
    }

    /// 1 when records failed (unless they were passed through) or an input could not be read; else 0.
    func finalStatus(unreadable: Bool) -> Int32 {
        (recordsFailed > 0 && onError != .pass) || unreadable ? ExitStatus.badRecords : ExitStatus.ok
    }

    /// "program: message" on the error descriptor.
    func report(_ message: String) {
        printError(program: program, message, fd: errorFD)
    }

    /// One input line of a batch: a parsed record's index, or the parse failure and the line's bytes.
    struct Slot {
        var source: String
        var line: Int
        var crlf: Bool
        var record: Int?
        var failure: String?
        var bytes: [UInt8]?

        init(source: String, line: Int, crlf: Bool, record: Int) {
            self.source = source
            self.line = line
            self.crlf = crlf
            self.record = record
        }

        init(source: String, line: Int, crlf: Bool, failure: String, bytes: [UInt8]) {
            self.source = source
            self.line = line
            self.crlf = crlf
            self.failure = failure
            self.bytes = bytes
        }
    }
}
