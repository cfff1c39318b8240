// The distributed step's plumbing without MPI: a stand-in communicator for rank 0 of 2 whose partner
// holds the same values (true of QuadraticTask, whose loss ignores the batch), so the weighted sum of
// the two shares' means must give back exactly the single-process means and the same trajectory.
// The real two-process run (mpirun) is scale-out/mpi/test_zo_mpi.py in `make test-scale-out`.
import Foundation
import XCTest
import Runtime
@testable import ZOCore

final class MirrorCollective: Collective {
    var calls = 0
    var rank: Int { 0 }
    var size: Int { 2 }
    func allReduceSum(_ values: [Double]) -> [Double] { calls += 1; return values.map { $0 * 2 } }
}

final class DistributedTests: XCTestCase {
    func trajectory(_ optimizer: ZOOptimizer, q: Int, oneSided: Bool, collective: Collective?) throws -> ([Float], [Float]) {
        let task = QuadraticTask(d: 64)
        var o = TrainOptions()
        (o.rule, o.lr, o.steps, o.batch, o.q, o.oneSided, o.evalEvery) = (UpdateRule(optimizer: optimizer), 1e-2, 5, 16, q, oneSided, 0)
        let trainer = Trainer(task: task, options: o)
        if let collective { trainer.collective = collective }
        var losses: [Float] = []
        let examples = (0..<40).map { Example(text: "x\($0)", label: 0) }
        try trainer.run(train: examples, dev: [examples[0]]) { e, _ in losses.append(e.loss) }
        return (losses, task.theta.scalars)
    }

    func testTwoMirroredRanksGiveTheSingleProcessRun() throws {
        for (opt, q, oneSided) in [(ZOOptimizer.zoSGD, 1, false), (.zoSGD, 3, true), (.zoAdam, 2, false), (.zoSGDConservative, 1, false), (.forwardGrad, 1, false)] {
            let solo = try trajectory(opt, q: q, oneSided: oneSided, collective: nil)
            let mirror = MirrorCollective()
            let two = try trajectory(opt, q: q, oneSided: oneSided, collective: mirror)
            XCTAssertEqual(solo.0, two.0, "\(opt) q \(q): losses")
            XCTAssertEqual(solo.1, two.1, "\(opt) q \(q): weights")
            XCTAssertGreaterThan(mirror.calls, 0)
        }
    }

    func testRefusesWhatCannotBeSplit() {
        var o = TrainOptions()
        o.rule = UpdateRule(optimizer: .foSGD)
        XCTAssertNotNil(Trainer.distributable(o))
        o.rule = UpdateRule(optimizer: .zoSGD)
        XCTAssertNil(Trainer.distributable(o))
        o.hybridLayers = 1
        XCTAssertNotNil(Trainer.distributable(o))
        // A batch smaller than the number of ranks.
        var small = TrainOptions()
        (small.steps, small.batch) = (1, 1)
        let trainer = Trainer(task: QuadraticTask(d: 4), options: small)
        trainer.collective = MirrorCollective()
        XCTAssertThrowsError(try trainer.run(train: [Example(text: "a", label: 0)], dev: []) { _, _ in })
    }

    func testSharesCoverEveryItemOnce() {
        final class Rank: Collective {
            let rank: Int, size: Int
            init(_ r: Int, _ n: Int) { (rank, size) = (r, n) }
            func allReduceSum(_ values: [Double]) -> [Double] { values }
        }
        for n in 1...5 {
            for count in [0, 1, 4, 7, 16, 17] {
                let all = (0..<n).flatMap { Array(Rank($0, n).share(of: count)) }
                XCTAssertEqual(all, Array(0..<count), "\(count) over \(n)")
            }
        }
    }
}
