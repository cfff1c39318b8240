import XCTest
@testable import LLMFewCore
import Runtime

final class PatchingTests: XCTestCase {
    func testPatchCountsMatchTheReference() throws {
        // The reference: int((L − P)/S + 2) with P 16, S 8 (LLMFew.py), equal to unfold's count for L ≥ P.
        for (l, n) in [(100, 12), (152, 19), (29, 3), (25, 3), (16, 2), (1751, 218)] {
            XCTAssertEqual(try patchCount(length: l, patch: 16, stride: 8), n, "L = \(l)")
            XCTAssertEqual(Int((Double(l) - 16) / 8 + 2), n)
        }
        XCTAssertThrowsError(try patchCount(length: 15, patch: 16, stride: 8)) { e in
            XCTAssertTrue("\(e)".contains("shorter than one patch"), "\(e)")
        }
    }

    func testReplicationPaddingAndWindows() throws {
        // One channel 0…19 (L 20), P 8, S 4: padded with 4 copies of 19; N = (20 + 4 − 8)/4 + 1 = 5.
        let s = Series(channels: [(0..<20).map(Float.init)], label: nil)
        let v = try patchValues([s], dimensions: 1, length: 20, patch: 8, stride: 4)
        XCTAssertEqual(v.count, 5 * 8)
        XCTAssertEqual(Array(v[0..<8]), (0..<8).map(Float.init))
        XCTAssertEqual(Array(v[32..<40]), [16, 17, 18, 19, 19, 19, 19, 19])
    }

    func testShortSeriesAreZeroPaddedThenReplicated() throws {
        // Two channels of 5 steps in a model of length 8 (P 4, S 2): zeros to 8, then the last (zero) repeated.
        let s = Series(channels: [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], label: nil)
        let v = try patchValues([s, s], dimensions: 2, length: 8, patch: 4, stride: 2)
        let n = 4  // (8 + 2 − 4)/2 + 1
        XCTAssertEqual(v.count, 2 * n * 2 * 4)
        // patch 1 of series 0, channel 1: steps 2…5 → 8, 9, 10, 0
        XCTAssertEqual(Array(v[(1 * 2 + 1) * 4..<(1 * 2 + 2) * 4]), [8, 9, 10, 0])
        // last patch, channel 0: steps 6…9 → 0, 0, 0 (pad), 0 (replicated)
        XCTAssertEqual(Array(v[(3 * 2) * 4..<(3 * 2 + 1) * 4]), [0, 0, 0, 0])
        XCTAssertThrowsError(try patchValues([s], dimensions: 2, length: 4, patch: 4, stride: 2))
        XCTAssertThrowsError(try patchValues([s], dimensions: 3, length: 8, patch: 4, stride: 2))
    }

    func testShotsAndSplitFollowClassesAndSeed() {
        let targets = [0, 1, 0, 1, 0, 1, 2, 0, 1, 0]
        let shots = sampleShots(targets: targets, k: 2, seed: 3)
        XCTAssertEqual(shots.count, 5)  // 2 + 2 + 1 (class 2 has one series)
        XCTAssertEqual(shots.map { targets[$0] }, [0, 0, 1, 1, 2])  // classes in first-appearance order
        XCTAssertEqual(shots, sampleShots(targets: targets, k: 2, seed: 3))
        XCTAssertEqual(sampleShots(targets: targets, k: 0, seed: 3), Array(0..<10))
        let (train, held) = stratifiedSplit(targets: targets, fraction: 0.4, seed: 1)
        XCTAssertEqual(Set(train).union(held), Set(0..<10))
        XCTAssertTrue(Set(train).isDisjoint(with: held))
        XCTAssertEqual(held.filter { targets[$0] == 0 }.count, 2)  // round(0.4 · 5)
        XCTAssertEqual(held.filter { targets[$0] == 2 }.count, 0)  // one series: kept for training
    }

    func testClassesSortLikeNumpyUnique() {
        XCTAssertEqual(sortedClasses(["2.0", "10.0", "1.0", "2.0"]), ["1.0", "10.0", "2.0"])
    }

    func testEuclideanAndDTWDisagreeOnAShiftedPeak() {
        let a = Series(channels: [[0, 0, 1, 0, 0, 0]], label: "peak"), b = Series(channels: [[0, 0, 0, 0, 0, 0.6]], label: "late")
        let q = Series(channels: [[0, 1, 0, 0, 0, 0]], label: nil)
        XCTAssertEqual(euclideanSquared(q, a), 2, accuracy: 1e-6)
        XCTAssertEqual(euclideanSquared(q, b), 1.36, accuracy: 1e-6)
        XCTAssertEqual(dtwDependent(q, a), 0, accuracy: 1e-9)  // the peak warps onto the peak
        XCTAssertEqual(nearestNeighbourLabels(train: [a, b], queries: [q], distance: .euclidean), ["late"])
        XCTAssertEqual(nearestNeighbourLabels(train: [a, b], queries: [q], distance: .dtw), ["peak"])
        // Unequal lengths: DTW aligns them; Euclidean pads the shorter with zeros.
        let short = Series(channels: [[1, 2]], label: nil), long = Series(channels: [[1, 1, 2, 2]], label: nil)
        XCTAssertEqual(dtwDependent(short, long), 0, accuracy: 1e-9)
        XCTAssertEqual(euclideanSquared(short, long), 1 + 4 + 4, accuracy: 1e-6)
    }
}
