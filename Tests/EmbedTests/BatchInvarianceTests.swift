// A record's output does not depend on its neighbours (tier 3, through the built binaries): the same
// bytes for each record whatever the batch size, the input order or the thread count, for embed
// (an encoder and a decoder), tokenize and lm-infinite score. (RowPanels in Ops/Matmul.swift and
// TokenBatch say how.)
import Foundation
import XCTest
import ToolTestSupport
import Runtime

final class BatchInvarianceTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Repo.haveModels, "run `make models` first (make test does)")
    }

    /// `count` SST-2 sentences with ids, and the same records shuffled.
    private func inputs(_ count: Int) throws -> (String, String) {
        let rows = try String(contentsOfFile: Repo.path("data/sst2/dev.tsv"), encoding: .utf8).split(separator: "\n").dropFirst().prefix(count)
        var records = rows.enumerated().map { i, line -> String in
            var r = Record()
            r.set("id", int: i)
            r.set("text", string: String(line.split(separator: "\t", maxSplits: 1).last ?? ""))
            r.set("prompt", string: String(line.split(separator: "\t", maxSplits: 1).last ?? ""))
            return r.jsonText
        }
        let inOrder = records.joined(separator: "\n") + "\n"
        let g = RandomGenerator(seed: 11)
        g.shuffle(&records)
        return (inOrder, records.joined(separator: "\n") + "\n")
    }

    /// Output lines by id.
    private func byID(_ r: ToolResult) throws -> [Int: String] {
        var out: [Int: String] = [:]
        for line in r.lines { out[try Record(parsing: line).int("id")] = line }
        return out
    }

    private func check(_ program: String, _ args: [String], count: Int = 120, file: StaticString = #filePath, line: UInt = #line) throws {
        let (inOrder, shuffled) = try inputs(count)
        let reference = try runTool(program, args + ["--batch", "1", "--threads", "1"], stdin: inOrder)
        XCTAssertEqual(reference.status, 0, reference.stderr, file: file, line: line)
        let want = try byID(reference)
        XCTAssertEqual(want.count, count, file: file, line: line)
        for (input, extra) in [(inOrder, ["--batch", "32", "--threads", "2"]), (shuffled, ["--batch", "7", "--threads", "2"]),
                               (shuffled, ["--batch", "64", "--threads", "1"])] {
            let r = try runTool(program, args + extra, stdin: input)
            XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
            let got = try byID(r)
            let differing = want.keys.filter { want[$0] != got[$0] }.count
            XCTAssertEqual(differing, 0, "\(program) \(extra): \(differing) of \(count) records differ from batch 1, in order, 1 thread",
                           file: file, line: line)
        }
    }

    func testEmbedEncoder() throws { try check("embed", ["--model", Repo.minilm, "--quiet"]) }

    func testEmbedDecoder() throws { try check("embed", ["--model", Repo.smollm2, "--quiet", "--max-length", "24"], count: 40) }

    func testTokenize() throws { try check("tokenize", ["--model", Repo.minilm, "--quiet"]) }

    func testLMInfiniteScore() throws {
        try check("lm-infinite", ["score", "--model", Repo.smollm2, "--quiet", "--by-position", "8"], count: 16)
    }

    /// Other BLAS kernels give other last bits (a machine of another kind); --portable pins one kernel,
    /// so the bytes are the same wherever the program runs.
    func testPortablePinsOneKernel() throws {
        let input = "{\"text\":\"The same bytes on every machine.\"}\n"
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = "Prescott"  // an SSE3 kernel every x86-64 CPU runs
        let other = try runTool("embed", ["--model", Repo.minilm], stdin: input, environment: env)
        let pinned = try runTool("embed", ["--model", Repo.minilm, "--portable"], stdin: input, environment: env)
        env["OPENBLAS_CORETYPE"] = "Haswell"
        let haswell = try runTool("embed", ["--model", Repo.minilm], stdin: input, environment: env)
        XCTAssertEqual(pinned.status, 0, pinned.stderr)
        XCTAssertEqual(pinned.stdout, haswell.stdout)
        XCTAssertNotEqual(other.stdout, haswell.stdout, "the kernels agree here: the test shows nothing")
    }
}
