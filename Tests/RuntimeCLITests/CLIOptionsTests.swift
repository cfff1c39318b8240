// The shared options (defaults, usage errors exit 64), thread detection from sysfs topology,
// exit statuses, and progress text.
import ArgumentParser
import XCTest
@testable import RuntimeCLI
import Runtime
import RuntimeCLI

private struct Demo: ParsableCommand {
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions
}

final class CLIOptionsTests: XCTestCase {
    func testDefaults() throws {
        let d = try Demo.parseAsRoot([]) as! Demo
        XCTAssertNil(d.common.threads)
        XCTAssertEqual(d.common.seed, 0)
        XCTAssertEqual(d.common.batch, 32)
        XCTAssertFalse(d.common.quiet)
        XCTAssertFalse(d.common.progress)
        XCTAssertEqual(d.io.inputs, ["-"])
        XCTAssertNil(d.io.rejects)
        XCTAssertEqual(d.common.threadCount, Threads.physicalCores())
    }

    func testParsing() throws {
        let d = try Demo.parseAsRoot(["a.jsonl", "-", "--threads", "3", "--seed", "18446744073709551615",
                                      "--batch", "8", "--quiet", "--rejects", "bad.jsonl"]) as! Demo
        XCTAssertEqual(d.io.inputs, ["a.jsonl", "-"])
        XCTAssertEqual(d.common.threads, 3)
        XCTAssertEqual(d.common.seed, UInt64.max)
        XCTAssertEqual(d.common.batch, 8)
        XCTAssertTrue(d.common.quiet)
        XCTAssertEqual(d.io.rejects, "bad.jsonl")
        XCTAssertFalse(d.common.showsProgress())
    }

    func testUsageErrorsExit64() {
        for args in [["--batch", "0"], ["--threads", "0"], ["--threads", "x"], ["--seed", "-1"], ["--nope"]] {
            XCTAssertThrowsError(try Demo.parseAsRoot(args), "\(args)") { error in
                XCTAssertEqual(Demo.exitCode(for: error).rawValue, ExitStatus.usage, "\(args)")
            }
        }
        XCTAssertEqual(ExitStatus.usage, 64)
        XCTAssertEqual(ExitStatus.cannotLoad, 2)
    }

    func testApplySetsThreads() throws {
        let d = try Demo.parseAsRoot(["--threads", "1"]) as! Demo
        let before = Threads.count
        d.common.apply()
        XCTAssertEqual(Threads.count, 1)
        Threads.set(before)
        XCTAssertEqual(Threads.count, before)
    }

    func testLoadErrorText() {
        XCTAssertEqual(LoadError(path: "m/config.json", problem: "missing key 'hidden_size'", hint: "is this a BERT model?")
                        .description,
                       "cannot load m/config.json: missing key 'hidden_size' (hint: is this a BERT model?)")
        XCTAssertEqual(LoadError(path: "x", problem: "empty").description, "cannot load x: empty")
    }

    func testProgressFormatting() {
        XCTAssertEqual(ProgressMeter.format(program: "embed", records: 12400, elapsed: 15, bytes: 400, totalBytes: 1000),
                       "embed: 12400 records, 827/s, 40%, ETA 0:23")
        XCTAssertEqual(ProgressMeter.format(program: "embed", records: 5, elapsed: 2, bytes: 10, totalBytes: nil),
                       "embed: 5 records, 2.5/s")
        XCTAssertEqual(ProgressMeter.format(program: "p", records: 0, elapsed: 0, bytes: 0, totalBytes: 10), "p: 0 records, 0%")
        XCTAssertEqual(ProgressMeter.format(program: "p", records: 9, elapsed: 1, bytes: 10, totalBytes: 10),
                       "p: 9 records, 9.0/s, 100%")
        XCTAssertEqual(ProgressMeter.formatFinal(program: "p", records: 30000, elapsed: 36), "p: 30000 records in 0:36, 833/s")
        XCTAssertEqual(ProgressMeter.formatRate(123_456), "123.5k")
        XCTAssertEqual(ProgressMeter.formatRate(12_345_678), "12.3M")
        XCTAssertEqual(ProgressMeter.formatRate(2_176_500), "2.2M")
        XCTAssertEqual(ProgressMeter.formatDuration(3723), "1:02:03")
        XCTAssertEqual(ProgressMeter.formatDuration(65), "1:05")
        XCTAssertEqual(ProgressMeter.formatDuration(.infinity), "?")
    }

    func testProgressRedrawsAtMostPerIntervalAndEndsWithNewline() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("progress-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var now = 100.0
        let p = ProgressMeter(program: "t", fd: fd, enabled: true, totalBytes: nil, interval: 0.25, clock: { now })
        for i in 1...10 {  // ten updates 0.1 s apart: draws at 0.3, 0.6, 0.9 (and not in between)
            now += 0.1
            p.update(records: i * 10, bytes: 0)
        }
        p.clear()
        now = 101.0
        p.finish(records: 100)
        close(fd)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: "\r").filter { $0.hasPrefix("t: ") }.count, 4)
        XCTAssertTrue(text.hasSuffix("\rt: 100 records in 0:01, 100/s\n"), text.debugDescription)
        XCTAssertFalse(ProgressMeter.shouldShow(quiet: true, forced: true, fd: fd))
        XCTAssertTrue(ProgressMeter.shouldShow(quiet: false, forced: true, fd: fd))
        let quiet = ProgressMeter(program: "t", fd: fd, enabled: false, totalBytes: nil)
        quiet.update(records: 1, bytes: 1)
        quiet.finish(records: 1)  // writes nothing (the fd is closed: it would fail loudly otherwise)
    }
}
