// Optimizers, schedules and clipping against PyTorch trajectories (data/fixtures/optimizers.json,
// made by scripts/fixtures/optimizers.py).
import Foundation
import XCTest
@testable import Runtime

private struct OptimizerFixture: Decodable {
    struct Trajectory: Decodable { let params: [[[Float]]] }
    struct Clip: Decodable { let max_norm: Float; let norm: Float; let grads: [[Float]] }
    let shapes: [[Int]]
    let `init`: [[Float]]
    let grads: [[[Float]]]
    let optimizers: [String: Trajectory]
    let schedules: [String: [Float]]
    let clip: Clip
}

final class OptimizerTests: XCTestCase {
    private func fixture() throws -> OptimizerFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../data/fixtures/optimizers.json")
        return try JSONDecoder().decode(OptimizerFixture.self, from: Data(contentsOf: url))
    }

    private func replay(_ name: String, _ make: ([Tensor]) -> Optimizer) throws {
        let f = try fixture()
        let params = zip(f.shapes, f.`init`).map { Tensor(shape: $0, scalars: $1).requiringGrad() }
        let opt = make(params)
        for (step, grads) in f.grads.enumerated() {
            for (p, g) in zip(params, grads) { p.grad = Tensor(shape: p.shape, scalars: g) }
            opt.step()
            for (i, p) in params.enumerated() {
                let want = f.optimizers[name]!.params[step][i]
                let diff = zip(p.scalars, want).map { Swift.abs($0 - $1) }.max()!
                XCTAssertLessThan(diff, 2e-6, "\(name) step \(step + 1) param \(i): max |diff| \(diff)")
            }
        }
    }

    func testSGD() throws { try replay("sgd") { SGD($0, lr: 0.1) } }
    func testSGDMomentumWeightDecay() throws { try replay("sgd_momentum_wd") { SGD($0, lr: 0.1, momentum: 0.9, weightDecay: 0.01) } }
    func testSGDNesterov() throws {
        try replay("sgd_nesterov") { SGD($0, lr: 0.05, momentum: 0.9, weightDecay: 0.001, nesterov: true) }
    }
    func testSGDDampening() throws {
        try replay("sgd_dampening") { SGD([ParameterGroup($0, lr: 0.1)], momentum: 0.8, dampening: 0.1) }
    }
    func testAdam() throws { try replay("adam") { Adam($0, lr: 1e-2) } }
    func testAdamL2() throws { try replay("adam_wd") { Adam($0, lr: 1e-2, betas: (0.8, 0.99), eps: 1e-6, weightDecay: 0.1) } }
    func testAdamW() throws { try replay("adamw") { Adam.adamW($0, lr: 1e-2, weightDecay: 0.1) } }

    func testSchedulesMatchPyTorchAndHuggingFace() throws {
        let f = try fixture()
        let cases: [(String, LRSchedule)] = [
            ("linear_w5_t20", .linear(warmup: 5, total: 20)),
            ("cosine_w5_t20", .cosine(warmup: 5, total: 20)),
            ("step_7_0.5", .step(size: 7, gamma: 0.5)),
            ("multistep_3,10_0.1", .multistep(milestones: [3, 10], gamma: 0.1)),
            ("exponential_0.9", .exponential(gamma: 0.9)),
        ]
        for (name, schedule) in cases {
            let want = f.schedules[name]!
            let p = Tensor.zeros([1]).requiringGrad()
            let opt = SGD([p], lr: 1)
            let sched = LRScheduler(opt, schedule)
            for (t, w) in want.enumerated() {
                XCTAssertEqual(sched.currentLR, w, accuracy: 1e-6, "\(name) at step \(t)")
                p.grad = Tensor.zeros([1])
                opt.step()
                sched.step()
            }
        }
        XCTAssertEqual(LRSchedule.parse("step:7:0.5", warmup: 0, total: 0), .step(size: 7, gamma: 0.5))
        XCTAssertEqual(LRSchedule.parse("multistep:3,10:0.1", warmup: 0, total: 0), .multistep(milestones: [3, 10], gamma: 0.1))
        XCTAssertEqual(LRSchedule.parse("cosine", warmup: 2, total: 9), .cosine(warmup: 2, total: 9))
        XCTAssertNil(LRSchedule.parse("cosine:3", warmup: 0, total: 0))
        XCTAssertNil(LRSchedule.parse("bogus", warmup: 0, total: 0))
    }

    func testClipGradNorm() throws {
        let f = try fixture()
        let params = zip(f.shapes, f.`init`).map { Tensor(shape: $0, scalars: $1).requiringGrad() }
        for (p, g) in zip(params, f.grads[0]) { p.grad = Tensor(shape: p.shape, scalars: g) }
        let shared = params[0].grad!
        let norm = clipGradNorm(params, maxNorm: f.clip.max_norm)
        XCTAssertEqual(norm, f.clip.norm, accuracy: 1e-5)
        for (p, want) in zip(params, f.clip.grads) {
            for (a, b) in zip(p.grad!.scalars, want) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        }
        // Clipping replaces gradients instead of scaling a tensor someone else may hold.
        XCTAssertEqual(shared.scalars, f.grads[0][0])
        // Below the limit nothing changes.
        let before = params[1].grad!.scalars
        clipGradNorm(params, maxNorm: 1e6)
        XCTAssertEqual(params[1].grad!.scalars, before)
    }

    func testParametersWithoutGradientAreSkipped() {
        let a = Tensor([1, 2]).requiringGrad(), b = Tensor([3, 4]).requiringGrad()
        a.grad = Tensor([1, 1])
        let opt = Adam([a, b], lr: 0.1)
        opt.step()
        XCTAssertEqual(b.scalars, [3, 4])
        XCTAssertNotEqual(a.scalars, [1, 2])
        opt.zeroGrad()
        XCTAssertNil(a.grad)
    }
}
