// Philox 4x32-10: Random123's known-answer vectors, counter-based reproducibility (chunks, offsets,
// threads), distribution moments, integer draws and permutations.
import XCTest
import Foundation
@testable import Runtime

final class PhiloxTests: XCTestCase {
    func testKnownAnswerVectors() {
        // Random123 kat_vectors, philox4x32 10 rounds: counter, key → output.
        let kats: [((UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32), (UInt32, UInt32, UInt32, UInt32))] = [
            ((0, 0, 0, 0), (0, 0), (0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8)),
            ((0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), (0xffff_ffff, 0xffff_ffff),
             (0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd)),
            ((0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), (0xa409_3822, 0x299f_31d0),
             (0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1)),
        ]
        for (ctr, key, want) in kats {
            let got = Philox.block(ctr, key: key)
            XCTAssertEqual([got.0, got.1, got.2, got.3], [want.0, want.1, want.2, want.3],
                           "philox4x32-10 of \(ctr) under \(key)")
        }
        // The (seed, stream, index) layout: key = seed halves, counter = (index lo, index hi, stream lo, stream hi).
        let a = Philox.block(seed: 0, stream: 0, index: 0)
        XCTAssertEqual(a.0, 0x6627_e8d5)
        let b = Philox.block(seed: 0x299f_31d0_a409_3822, stream: 0x0370_7344_1319_8a2e, index: 0x85a3_08d3_243f_6a88)
        XCTAssertEqual([b.0, b.1, b.2, b.3], [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    private func fill(_ n: Int, seed: UInt64, stream: UInt64, offset: UInt64 = 0, _ d: RandomDistribution) -> [Float] {
        var out = [Float](repeating: .nan, count: n)
        out.withUnsafeMutableBufferPointer { philoxFill($0.baseAddress!, count: n, seed: seed, stream: stream, offset: offset, d) }
        return out
    }

    func testChunksOffsetsAndThreadsAgree() {
        let n = 1001
        for d in [RandomDistribution.uniform(low: -2, high: 3), .normal(mean: 1, std: 2)] {
            let whole = fill(n, seed: 42, stream: 7, d)
            // Chunks of awkward sizes at arbitrary (unaligned) offsets.
            var pieces = [Float]()
            var start = 0
            for size in [1, 2, 3, 5, 7, 13, 100, 1, 369, 500] where start < n {
                let len = Swift.min(size, n - start)
                pieces += fill(len, seed: 42, stream: 7, offset: UInt64(start), d)
                start += len
            }
            XCTAssertEqual(pieces, whole, "\(d): chunked fill")
            // A generator advancing through successive draws.
            let gen = RandomGenerator(seed: 42, stream: 7)
            var drawn = [Float]()
            for size in [3, 1, 4, 1, 5, 9, 2, 6] {
                let t: Tensor
                switch d {
                case let .uniform(lo, hi): t = gen.uniform([size], low: lo, high: hi)
                case let .normal(m, s): t = gen.normal([size], mean: m, std: s)
                }
                drawn += t.scalars
            }
            XCTAssertEqual(drawn, Array(whole.prefix(drawn.count)), "\(d): generator draws")
            // Out-of-order and concurrent fills: two threads, interleaved blocks of 37.
            var parallel = [Float](repeating: .nan, count: n)
            parallel.withUnsafeMutableBufferPointer { buf in
                let base = buf.baseAddress!
                DispatchQueue.concurrentPerform(iterations: 2) { t in
                    var s = t * 37
                    while s < n {
                        let len = Swift.min(37, n - s)
                        philoxFill(base + s, count: len, seed: 42, stream: 7, offset: UInt64(s), d)
                        s += 74
                    }
                }
            }
            XCTAssertEqual(parallel, whole, "\(d): concurrent fill")
        }
        // Different streams and seeds differ.
        let u = RandomDistribution.uniform(low: 0, high: 1)
        XCTAssertNotEqual(fill(8, seed: 42, stream: 7, u), fill(8, seed: 42, stream: 8, u))
        XCTAssertNotEqual(fill(8, seed: 42, stream: 7, u), fill(8, seed: 43, stream: 7, u))
        XCTAssertEqual(Tensor.randn([5], seed: 3, stream: 1).scalars, Tensor.randn([5], seed: 3, stream: 1).scalars)
        XCTAssertNotEqual(Tensor.randn([5], seed: 3, stream: 1).scalars, Tensor.randn([5], seed: 3, stream: 2).scalars)
    }

    func testNormalMoments() {
        let n = 1_000_000
        let x = fill(n, seed: 2024, stream: 1, .normal(mean: 0, std: 1))
        var s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0
        for v in x { let d = Double(v); s1 += d; s2 += d * d; s3 += d * d * d; s4 += d * d * d * d }
        let mean = s1 / Double(n), variance = s2 / Double(n) - mean * mean
        // Standard errors at n = 1e6: mean 0.001, variance 0.0014, third moment 0.0024, fourth 0.0098.
        XCTAssertEqual(mean, 0, accuracy: 0.005)
        XCTAssertEqual(variance, 1, accuracy: 0.007)
        XCTAssertEqual(s3 / Double(n), 0, accuracy: 0.012)
        XCTAssertEqual(s4 / Double(n), 3, accuracy: 0.05)
        XCTAssertTrue(x.allSatisfy(\.isFinite))
        let within1 = x.filter { Swift.abs($0) < 1 }.count
        XCTAssertEqual(Double(within1) / Double(n), 0.682689, accuracy: 0.003)
        // Shifted and scaled.
        let y = Tensor.randn([100_000], seed: 5, mean: 3, std: 0.5).scalars.map(Double.init)
        let m = y.reduce(0, +) / Double(y.count)
        let sd = (y.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(y.count)).squareRoot()
        XCTAssertEqual(m, 3, accuracy: 0.01); XCTAssertEqual(sd, 0.5, accuracy: 0.01)
    }

    func testUniformRange() {
        let n = 200_000
        let x = fill(n, seed: 9, stream: 0, .uniform(low: 0, high: 1))
        XCTAssertTrue(x.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
        XCTAssertEqual(mean, 0.5, accuracy: 0.003)
        // Ten equal bins, each within 5 standard errors of n/10.
        var bins = [Int](repeating: 0, count: 10)
        for v in x { bins[Int(v * 10)] += 1 }
        for b in bins { XCTAssertEqual(Double(b), Double(n) / 10, accuracy: 5 * (Double(n) * 0.09).squareRoot()) }
        let y = fill(10_000, seed: 9, stream: 1, .uniform(low: -3, high: -1))
        XCTAssertTrue(y.allSatisfy { $0 >= -3 && $0 < -1 })
        XCTAssertLessThan(y.min()!, -2.99); XCTAssertGreaterThan(y.max()!, -1.01)
        // The unit maps: [0, 1) and (0, 1] exactly at the extremes.
        XCTAssertEqual(Philox.unitOpen(0), 0); XCTAssertLessThan(Philox.unitOpen(.max), 1)
        XCTAssertGreaterThan(Philox.unitClosed(0), 0); XCTAssertEqual(Philox.unitClosed(.max), 1)
    }

    func testUniformNeverReachesHigh() {
        // Element 9320226 of (seed 0, stream 0) is word 2 of block 2330056 = 0xffffff45: the largest
        // 24-bit fraction, 1 − 2⁻²⁴. low + (high − low)·u can round up to high in Float (1 + u → 2.0);
        // the interval is [low, high) as torch.rand/uniform_.
        let w = Philox.block(seed: 0, stream: 0, index: 2_330_056)
        XCTAssertEqual(w.2 >> 8, 0xff_ffff)
        for (lo, hi) in [(Float(1), Float(2)), (0, 1), (-1, 1), (3, 7), (-2, -1), (0.5, 0.75)] {
            let v = fill(1, seed: 0, stream: 0, offset: 9_320_226, .uniform(low: lo, high: hi))[0]
            XCTAssertTrue(v >= lo && v < hi, "uniform(\(lo), \(hi)) gave \(v)")
        }
    }

    func testIntegersAndPermutations() {
        let g = RandomGenerator(seed: 11)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[g.nextInt(below: 7)] += 1 }
        for c in counts { XCTAssertEqual(Double(c), 10_000, accuracy: 500) }
        XCTAssertEqual(g.nextInt(below: 1), 0)
        for n in [0, 1, 2, 10, 1000] {
            let p = RandomGenerator(seed: UInt64(n)).permutation(n)
            XCTAssertEqual(p.sorted(), Array(0..<n), "permutation(\(n)) is a permutation")
        }
        XCTAssertNotEqual(RandomGenerator(seed: 1).permutation(50), Array(0..<50))
        XCTAssertEqual(RandomGenerator(seed: 1).permutation(50), RandomGenerator(seed: 1).permutation(50))
        var a = Array(0..<20)
        RandomGenerator(seed: 4).shuffle(&a)
        XCTAssertEqual(a.sorted(), Array(0..<20)); XCTAssertNotEqual(a, Array(0..<20))
        // nextWord walks the words of successive blocks.
        let w = RandomGenerator(seed: 0, stream: 0, offset: 2)
        XCTAssertEqual([w.nextWord(), w.nextWord()], [0xbc57_ac4c, 0x9b00_dbd8])
        let next = Philox.block(seed: 0, stream: 0, index: 1)
        XCTAssertEqual([w.nextWord(), w.nextWord()], [next.0, next.1])
    }
}
