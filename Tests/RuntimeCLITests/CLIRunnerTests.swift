// JSONLRunner end to end, in-process: temp files for inputs, output, stderr and rejects; good and bad
// lines (messages with file:line, status 1, rejects verbatim and appended, CRLF kept, order kept),
// --on-error fail and pass, --max-record-bytes, stdin as "-", a missing input (reported, skipped,
// status 1), a closed downstream pipe (quiet, status 0), batching and a thrown LoadError.
import XCTest
@testable import RuntimeCLI
import Runtime
import RuntimeCLI

final class CLIRunnerTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("jsonl-runner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func file(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    func contents(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<missing>"
    }

    /// Run with output and stderr going to files; returns (status, stdout, stderr).
    func run(inputs: [String], rejects: String? = nil, stdin: Int32 = STDIN_FILENO, batch: Int = 32,
             onError: ErrorMode = .skip, maxRecordBytes: Int = 16 << 20,
             _ process: @escaping (inout Record) throws -> Void) -> (Int32, String, String) {
        let out = open(path("out"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let err = open(path("err"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let runner = JSONLRunner(program: "demo", inputs: inputs, rejects: rejects, onError: onError, maxRecordBytes: maxRecordBytes,
                                 output: out, error: err, stdin: stdin)
        let status = runner.forEach(batchSize: batch, process)
        close(out)
        close(err)
        return (status, contents(path("out")), contents(path("err")))
    }

    static let upper: (inout Record) throws -> Void = { r in
        r.set("upper", string: try r.string("text").uppercased())
    }

    func testGoodAndBadLines() throws {
        let a = try file("a.jsonl", """
            {"id":1,"text":"one","keep":1.0}
            {"id":2,"text":5}
            not json at all

            {"id":3,"text":"three"}\r
            [1,2]
            {"id":4,"text":"four"
            """)
        let b = try file("b.jsonl", "{\"id\":5,\"text\":\"five\",\"n\":1E2}\n{\"id\":6}\n")
        for batch in [1, 2, 32] {
            try? FileManager.default.removeItem(atPath: path("rejects"))
            let (status, out, err) = run(inputs: [a, b], rejects: path("rejects"), batch: batch, Self.upper)
            XCTAssertEqual(status, 1)
            XCTAssertEqual(out, """
                {"id":1,"text":"one","keep":1.0,"upper":"ONE"}
                {"id":3,"text":"three","upper":"THREE"}
                {"id":5,"text":"five","n":1E2,"upper":"FIVE"}

                """)
            XCTAssertEqual(err, """
                demo:\(a):2: field 'text': expected a string, got a number
                demo:\(a):3: expected a JSON object at byte 1
                demo:\(a):6: expected a JSON object, got an array
                demo:\(a):7: unexpected end of input, expected ',' or '}' at byte 22
                demo:\(b):2: missing field 'text'

                """)
            XCTAssertEqual(contents(path("rejects")), """
                {"id":2,"text":5}
                not json at all
                [1,2]
                {"id":4,"text":"four"
                {"id":6}

                """)
        }
    }

    func testAllGoodIsStatusZeroAndStdinDash() throws {
        let input = try file("in.jsonl", (1...100).map { "{\"text\":\"r\($0)\"}" }.joined(separator: "\n"))
        let fd = open(input, O_RDONLY)
        defer { close(fd) }
        let (status, out, err) = run(inputs: ["-"], stdin: fd, batch: 7, Self.upper)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(err, "")
        let lines = out.split(separator: "\n")
        XCTAssertEqual(lines.count, 100)
        XCTAssertEqual(lines.first, "{\"text\":\"r1\",\"upper\":\"R1\"}")
        XCTAssertEqual(lines.last, "{\"text\":\"r100\",\"upper\":\"R100\"}")
    }

    func testStdinErrorsAreNamedStdin() throws {
        let input = try file("in.jsonl", "{}\n")
        let fd = open(input, O_RDONLY)
        defer { close(fd) }
        let (status, _, err) = run(inputs: [], stdin: fd, Self.upper)
        XCTAssertEqual(status, 1)
        XCTAssertEqual(err, "demo:<stdin>:1: missing field 'text'\n")
    }

    func testMissingInputIsReportedAndSkipped() throws {
        let good = try file("good.jsonl", "{\"text\":\"x\"}\n")
        let missing = path("missing.jsonl")
        let (status, out, err) = run(inputs: [missing, good], Self.upper)
        XCTAssertEqual(status, 1)
        XCTAssertEqual(out, "{\"text\":\"x\",\"upper\":\"X\"}\n")
        XCTAssertEqual(err, "demo: cannot read \(missing): No such file or directory (skipped)\n")
        let (status2, _, err2) = run(inputs: [good], rejects: path("no/such/dir/rejects"), Self.upper)
        XCTAssertEqual(status2, 2)
        XCTAssertEqual(err2, "demo: cannot write rejects file \(path("no/such/dir/rejects")): No such file or directory\n")
    }

    func testOnErrorFailPassAndLongRecords() throws {
        let input = try file("in.jsonl", "{\"text\":\"a\"}\n{\"id\":2}\nnot json\r\n{\"text\":\"\(String(repeating: "z", count: 100))\"}\n{\"text\":\"b\"}\n")
        // fail: the records before the first bad one, then stop.
        let (s1, out1, err1) = run(inputs: [input], rejects: path("r1"), onError: .fail, Self.upper)
        XCTAssertEqual(s1, 1)
        XCTAssertEqual(out1, "{\"text\":\"a\",\"upper\":\"A\"}\n")
        XCTAssertEqual(err1, "demo:\(input):2: missing field 'text'\n")
        // pass: lines out match lines in; the bad ones carry the error; exit 0; CRLF kept in the rejects.
        let (s2, out2, _) = run(inputs: [input], rejects: path("r2"), onError: .pass, maxRecordBytes: 64, Self.upper)
        XCTAssertEqual(s2, 0)
        let lines = out2.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5)
        XCTAssertEqual(lines[1], "{\"id\":2,\"error\":{\"message\":\"missing field 'text'\",\"file\":\"\(input)\",\"line\":2}}")
        XCTAssertEqual(lines[2], "{\"input\":\"not json\",\"error\":{\"message\":\"expected a JSON object at byte 1\",\"file\":\"\(input)\",\"line\":3}}")
        XCTAssertTrue(lines[3].contains("longer than --max-record-bytes 64"), lines[3])
        XCTAssertEqual(lines[4], "{\"text\":\"b\",\"upper\":\"B\"}")
        XCTAssertEqual(contents(path("r2")), "{\"id\":2}\nnot json\r\n{\"text\":\"\(String(repeating: "z", count: 100))\"}\n")
    }

    func testRejectsAreAppendedAndTakeTheProcessId() throws {
        let input = try file("in.jsonl", "{\"id\":1}\n")
        _ = run(inputs: [input], rejects: path("shared"), Self.upper)
        _ = run(inputs: [input], rejects: path("shared"), Self.upper)
        XCTAssertEqual(contents(path("shared")), "{\"id\":1}\n{\"id\":1}\n")
        _ = run(inputs: [input], rejects: path("r-%p"), Self.upper)
        XCTAssertEqual(contents(path("r-\(getpid())")), "{\"id\":1}\n")
    }

    func testClosedPipeEndsQuietly() throws {
        let input = try file("big.jsonl", String(repeating: "{\"text\":\"\(String(repeating: "y", count: 200))\"}\n",
                                                 count: 5000))
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        close(fds[0])  // nobody will ever read: the first write gets EPIPE
        let err = open(path("err"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let runner = JSONLRunner(program: "demo", inputs: [input], output: fds[1], error: err)
        var processed = 0
        let status = runner.forEach(batchSize: 16) { r in processed += 1; try Self.upper(&r) }
        close(fds[1])
        close(err)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(contents(path("err")), "")
        XCTAssertEqual(processed, 16)  // stopped after the first batch instead of reading everything
    }

    /// A slow producer: the records already sent are answered without waiting for a full batch.
    func testPartialBatchIsWrittenWithoutWaitingForMoreInput() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let first = "{\"text\":\"a\"}\n{\"text\":\"b\"}\n"
        XCTAssertEqual(first.withCString { write(fds[1], $0, strlen($0)) }, first.utf8.count)
        final class Box { var answeredEarly = false }
        let box = Box()
        let outPath = path("out")
        let writeEnd = fds[1]
        let producer = Thread { [self] in
            for _ in 0..<500 {  // up to 5 s
                if contents(outPath).split(separator: "\n").count == 2 { box.answeredEarly = true; break }
                usleep(10_000)
            }
            _ = "{\"text\":\"c\"}\n".withCString { write(writeEnd, $0, strlen($0)) }
            close(writeEnd)
        }
        producer.start()
        let (status, out, _) = run(inputs: ["-"], stdin: fds[0], batch: 32, Self.upper)
        close(fds[0])
        XCTAssertEqual(status, 0)
        XCTAssertTrue(box.answeredEarly)
        XCTAssertEqual(out.split(separator: "\n").count, 3)
    }

    func testBatchesAndResults() throws {
        let input = try file("in.jsonl", (0..<10).map { "{\"i\":\($0)}" }.joined(separator: "\n") + "\n")
        let out = open(path("out"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let err = open(path("err"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var sizes: [Int] = []
        let runner = JSONLRunner(program: "demo", inputs: [input], batchSize: 4, output: out, error: err)
        let status = runner.run { batch in
            sizes.append(batch.count)
            return try batch.map { r in
                var r = r
                let i = try r.int("i")
                if i % 3 == 0 { return .failure(RecordError("multiple of three")) }
                r.set("sq", int: i * i)
                return .success(r)
            }
        }
        close(out)
        close(err)
        XCTAssertEqual(status, 1)
        XCTAssertEqual(sizes, [4, 4, 2])
        XCTAssertEqual(runner.recordsRead, 10)
        XCTAssertEqual(runner.recordsFailed, 4)
        XCTAssertEqual(runner.recordsWritten, 6)
        XCTAssertEqual(contents(path("out")).split(separator: "\n").map(String.init),
                       [1, 2, 4, 5, 7, 8].map { "{\"i\":\($0),\"sq\":\($0 * $0)}" })
        XCTAssertTrue(contents(path("err")).hasPrefix("demo:\(input):1: multiple of three\ndemo:\(input):4: "))
    }

    func testLoadErrorStopsWithStatusTwo() throws {
        let input = try file("in.jsonl", "{}\n{}\n")
        let err = open(path("err"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let out = open(path("out"), O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let runner = JSONLRunner(program: "demo", inputs: [input], output: out, error: err)
        let status = runner.run { _ in
            throw LoadError(path: "model.safetensors", problem: "truncated header", hint: "run `make models`")
        }
        close(out)
        close(err)
        XCTAssertEqual(status, 2)
        XCTAssertEqual(contents(path("err")),
                       "demo: cannot load model.safetensors: truncated header (hint: run `make models`)\n")
        let (status2, out2, err2) = run(inputs: [input]) { _ in throw LoadError(path: "vocab.txt", problem: "empty") }
        XCTAssertEqual(status2, 2)
        XCTAssertEqual(out2, "")
        XCTAssertEqual(err2, "demo: cannot load vocab.txt: empty\n")
    }

    /// The whole loop (read, parse, set 384 floats, write) over 3,000 records. Throughput: `make bench`.
    func testRunnerOnManyEmbeddings() throws {
        let n = 3000
        let input = try file("in.jsonl", (0..<n).map { "{\"id\":\($0),\"text\":\"sentence number \($0)\"}" }
            .joined(separator: "\n"))
        var rng = SystemRandomNumberGenerator()
        let vectors = (0..<64).map { _ in (0..<384).map { _ in Float.random(in: -1...1, using: &rng) } }
        let null = open("/dev/null", O_WRONLY)
        defer { close(null) }
        let runner = JSONLRunner(program: "demo", inputs: [input], output: null, error: null)
        let status = runner.forEach { r in try r.set("embedding", floats: vectors[try r.int("id") % 64]) }
        XCTAssertEqual(status, 0)
        XCTAssertEqual(runner.recordsWritten, n)
    }
}
