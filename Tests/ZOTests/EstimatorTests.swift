// The ZO estimator on problems with known gradients: the second moment E‖ĝ‖² = (d + 2)‖∇f‖² of the
// Gaussian two-point estimate, the averaged estimate's direction, exact restoration of θ, sparsity
// shares, and forward-gradient's exact directional derivative.
import Foundation
import XCTest
import Runtime
@testable import ZOCore

/// f(θ) = ½ Σ aᵢ θᵢ² read through the parameter resolver, as model layers read their weights.
final class QuadraticTask: TaskModel {
    let theta: Tensor, a: Tensor
    let holder = Module()
    init(d: Int) {
        theta = Tensor.randn([d], seed: 1, stream: 1)
        a = Tensor.rand([d], seed: 1, stream: 2, low: 0.5, high: 2)
    }
    var trainable: [(String, Tensor)] { [("theta", theta)] }
    var module: Module { holder }
    func loss(_ batch: [Example]) -> Tensor { scale((a * square(resolved(theta))).sum(), 0.5) }
    func predict(_ batch: [Example]) -> [Int] { batch.map { _ in 0 } }
    var gradient: [Float] { (a * theta).scalars }
}

final class EstimatorTests: XCTestCase {
    func testSecondMomentIsDPlusTwoAndAveragedDirectionIsTheGradient() {
        let d = 1000, draws = 100_000
        let task = QuadraticTask(d: d)
        var options = TrainOptions()
        options.eps = 1e-3
        let trainer = Trainer(task: task, options: options)
        let g = task.gradient.map(Double.init)
        let gNorm2 = g.reduce(0) { $0 + $1 * $1 }
        var sumNorm2 = 0.0
        var mean = [Double](repeating: 0, count: d)
        let z = UnsafeMutablePointer<Float>.allocate(capacity: d)
        defer { z.deallocate() }
        for k in 0..<draws {
            let s = trainer.seed(step: k, block: 0, k: 0)
            let plus = trainer.zoLoss([], resolver: PerturbResolver(trainer.params, seed: s, scale: options.eps))
            let minus = trainer.zoLoss([], resolver: PerturbResolver(trainer.params, seed: s, scale: -options.eps))
            let c = Double(plus - minus) / (2 * Double(options.eps))
            trainer.params.direction(0, seed: s, start: 0, count: d, into: z)
            var zz = 0.0
            for j in 0..<d { zz += Double(z[j]) * Double(z[j]); mean[j] += c * Double(z[j]) }
            sumNorm2 += c * c * zz
        }
        let ratio = sumNorm2 / Double(draws) / gNorm2
        XCTAssertEqual(ratio, Double(d + 2), accuracy: 0.03 * Double(d + 2), "E‖ĝ‖²/‖∇f‖² = \(ratio)")
        let dot = zip(mean, g).reduce(0) { $0 + $1.0 * $1.1 }
        let cosine = dot / (mean.reduce(0) { $0 + $1 * $1 }.squareRoot() * gNorm2.squareRoot())
        XCTAssertGreaterThan(cosine, 0.97, "cosine of the averaged estimate with ∇f: \(cosine)")
        print("EstimatorTests: E‖ĝ‖²/‖∇f‖² = \(ratio) (d + 2 = \(d + 2)), cosine \(cosine)")
    }

    func testProbingNeverWritesTheParameters() {
        let task = QuadraticTask(d: 257)
        let trainer = Trainer(task: task, options: TrainOptions())
        let before = task.theta.scalars
        for k in 0..<10_000 {
            let s = trainer.seed(step: k, block: 0, k: 0)
            _ = trainer.zoLoss([], resolver: PerturbResolver(trainer.params, seed: s, scale: 1e-3))
            _ = trainer.zoLoss([], resolver: PerturbResolver(trainer.params, seed: s, scale: -1e-3))
        }
        XCTAssertEqual(task.theta.scalars.map(\.bitPattern), before.map(\.bitPattern))
    }

    func testSparsityZeroesTheIntendedShare() {
        let task = QuadraticTask(d: 100_000)
        var options = TrainOptions()
        options.sparsity = 0.75
        let trainer = Trainer(task: task, options: options)
        let z = UnsafeMutablePointer<Float>.allocate(capacity: 100_000)
        defer { z.deallocate() }
        trainer.params.direction(0, seed: 9, start: 0, count: 100_000, into: z)
        let zeros = (0..<100_000).filter { z[$0] == 0 }.count
        XCTAssertEqual(Double(zeros) / 100_000, 0.75, accuracy: 0.01)
        // Chunks agree with a whole fill (masks are per element).
        let part = UnsafeMutablePointer<Float>.allocate(capacity: 1000)
        defer { part.deallocate() }
        trainer.params.direction(0, seed: 9, start: 5000, count: 1000, into: part)
        XCTAssertEqual((0..<1000).map { part[$0] }, (0..<1000).map { z[5000 + $0] })
    }

    func testForwardGradientIsTheExactDirectionalDerivative() {
        let task = QuadraticTask(d: 300)
        let trainer = Trainer(task: task, options: TrainOptions())
        let l = withoutGrad { Parameters.withResolver(DirectionTangentResolver(trainer.params, seed: 4)) { task.loss([]) } }
        let v = UnsafeMutablePointer<Float>.allocate(capacity: 300)
        defer { v.deallocate() }
        trainer.params.direction(0, seed: 4, start: 0, count: 300, into: v)
        let exact = zip(task.gradient, (0..<300).map { v[$0] }).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(Double(l.tangent!.item()), exact, accuracy: 1e-3 * max(1, abs(exact)))
    }

    func testEveryZOOptimizerDescendsOnAQuadratic() throws {
        for opt in ZOOptimizer.allCases {
            let task = QuadraticTask(d: 50)
            var options = TrainOptions()
            options.rule = UpdateRule(optimizer: opt)
            options.lr = opt == .zoAdam || opt == .foAdam ? 0.05 : (opt == .zoSGDSign ? 0.01 : (opt == .zoSGDMomentum ? 0.002 : 0.02))
            options.steps = 300
            options.evalEvery = 0
            let trainer = Trainer(task: task, options: options)
            let start = task.loss([]).item()
            let dummy = [Example(text: "", label: 0)]
            try trainer.run(train: dummy, dev: []) { _, _ in }
            let end = withoutGrad { task.loss([]) }.item()
            XCTAssertLessThan(end, start * 0.5, "\(opt.rawValue): \(start) → \(end)")
        }
    }
}
