// DKD and ND (Ops/DistillationLosses.swift) and KD (Losses.swift `distillationKL`): parity with the
// reference's own loss classes in PyTorch (data/fixtures/nd_kd/losses.json, made by
// scripts/fixtures/nd_kd.py from WangYZ1608/Knowledge-Distillation-via-ND CIFAR/utils.py), DKD's
// decomposition identity, ND's zero and norm cases, and finite-difference gradients.
import Foundation
import XCTest
@testable import Runtime

private enum Num: Decodable {
    case value(Float)
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Float.self) { self = .value(v); return }
        switch try c.decode(String.self) {
        case "inf": self = .value(.infinity)
        case "-inf": self = .value(-.infinity)
        default: self = .value(.nan)
        }
    }
    var float: Float { if case let .value(v) = self { return v }; return .nan }
}

private struct LossCase: Decodable {
    let name: String
    let b: Int, k: Int, d: Int
    let T: Float, alpha: Float, beta: Float, kd_factor: Float, nd_factor: Float
    let labels: [Int]
    let s_logits: [Float], t_logits: [Float], s_emb: [Float], t_emb: [Float]
    let centers: [[Float]]
    let kd: Num, dkd: Num, tckd: Num, nckd: Num, nd: Float
    let kd_grad: [Num], dkd_grad: [Num], tckd_grad: [Num], nckd_grad: [Num], nd_grad: [Float]
    let kl_rows: [Float]?
}

final class DistillationLossTests: XCTestCase {
    private func cases() throws -> [LossCase] {
        struct File: Decodable { let cases: [LossCase] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data/fixtures/nd_kd/losses.json")
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }

    private func check(_ value: Tensor, _ grad: Tensor?, _ expected: Num, _ expectedGrad: [Num], _ what: String) {
        let e = expected.float
        if e.isFinite {
            XCTAssertEqual(value.item(), e, accuracy: 1e-6 + 1e-6 * abs(e), what)
        } else {
            XCTAssertEqual(value.item().isNaN, e.isNaN, "\(what): \(value.item()) vs \(e)")
            if !e.isNaN { XCTAssertEqual(value.item(), e, what) }
            return
        }
        guard let grad else { return XCTFail("\(what): no gradient") }
        assertClose(grad.scalars, expectedGrad.map(\.float), atol: 1e-6, rtol: 1e-5, "\(what) gradient")
    }

    func testMatchesReferenceLosses() throws {
        let all = try cases()
        XCTAssertEqual(all.map(\.name), ["small", "wide", "saturated"])
        for c in all {
            let t = Tensor(shape: [c.b, c.k], scalars: c.t_logits)
            func logits() -> Tensor { Tensor(shape: [c.b, c.k], scalars: c.s_logits).requiringGrad() }
            var z = logits()
            var v = scale(distillationKL(student: z, teacher: t, temperature: c.T), c.kd_factor)
            v.backward()
            check(v, z.grad, c.kd, c.kd_grad, "\(c.name) KD")
            z = logits()
            v = decoupledKD(student: z, teacher: t, targets: c.labels, alpha: c.alpha, beta: c.beta, temperature: c.T)
            if v.item().isFinite { v.backward() }
            check(v, z.grad, c.dkd, c.dkd_grad, "\(c.name) DKD")
            z = logits()
            v = decoupledKDParts(student: z, teacher: t, targets: c.labels, temperature: c.T).tckd
            if v.item().isFinite { v.backward() }
            check(v, z.grad, c.tckd, c.tckd_grad, "\(c.name) TCKD")
            z = logits()
            v = decoupledKDParts(student: z, teacher: t, targets: c.labels, temperature: c.T).nckd
            v.backward()
            check(v, z.grad, c.nckd, c.nckd_grad, "\(c.name) NCKD")
            // ND on the raw (4-decimal) class means the reference reads from JSON.
            let s = Tensor(shape: [c.b, c.d], scalars: c.s_emb).requiringGrad()
            let dirs = classDirections(Tensor(shape: [c.k, c.d], scalars: c.centers.flatMap { $0 }))
            let nd = scale(normDirectionLoss(student: s, teacher: Tensor(shape: [c.b, c.d], scalars: c.t_emb), directions: dirs, targets: c.labels), c.nd_factor)
            nd.backward()
            XCTAssertEqual(nd.item(), c.nd, accuracy: 1e-6, "\(c.name) ND")
            assertClose(s.grad!.scalars, c.nd_grad, atol: 1e-6, rtol: 1e-5, "\(c.name) ND gradient")
        }
    }

    /// KL(p_t ‖ p_s) = TCKD_raw + (1 − p_t,y)·NCKD_raw, row by row (DKD's decomposition).
    func testDecompositionIdentity() throws {
        for c in try cases() where c.kl_rows != nil {
            let s = Tensor(shape: [c.b, c.k], scalars: c.s_logits), t = Tensor(shape: [c.b, c.k], scalars: c.t_logits)
            let pt = softmax(scale(t, 1 / c.T), axis: 1)
            for i in 0..<c.b {
                let row = [c.labels[i]]
                let si = s.slice(axis: 0, i, i + 1), ti = t.slice(axis: 0, i, i + 1)
                // Parts are scaled by T²/B with B = 1 here: undo T².
                let (tckd, nckd) = decoupledKDParts(student: si, teacher: ti, targets: row, temperature: c.T)
                let ptY = pt.data[i * c.k + c.labels[i]]
                let rhs = (tckd.item() + (1 - ptY) * nckd.item()) / (c.T * c.T)
                XCTAssertEqual(rhs, c.kl_rows![i], accuracy: 1e-5 + 1e-4 * abs(c.kl_rows![i]), "\(c.name) row \(i)")
            }
        }
    }

    func testNDZeroAlongDirectionAndNormPenaltyBelowTeacher() {
        let means = T([2, 3], [3, 4, 0, 0, 0, 2])  // e_0 = (0.6, 0.8, 0), e_1 = (0, 0, 1)
        let dirs = classDirections(means)
        assertClose(dirs, shape: [2, 3], [0.6, 0.8, 0, 0, 0, 1])
        let teacher = T([2, 3], [0, 5, 0, 1, 0, 0])  // ‖t‖ = 5 and 1
        // s = λ e_y with λ ≥ ‖t‖: zero.
        let s1 = T([2, 3], [0.6 * 7, 0.8 * 7, 0, 0, 0, 1])
        XCTAssertEqual(normDirectionLoss(student: s1, teacher: teacher, directions: dirs, targets: [0, 1]).item(), 0, accuracy: 1e-6)
        // λ < ‖t‖: 1 − λ/‖t‖ (the norm is pulled up to the teacher's).
        let s2 = T([1, 3], [0.6 * 2, 0.8 * 2, 0])
        XCTAssertEqual(normDirectionLoss(student: s2, teacher: T([1, 3], [0, 5, 0]), directions: dirs, targets: [0]).item(), 1 - 2.0 / 5, accuracy: 1e-6)
        // The teacher's norm gets no gradient; the student's flows through ‖s‖ only when ‖s‖ ≥ ‖t‖.
        let s3 = T([1, 3], [0, 3, 4]).requiringGrad()  // ‖s‖ = 5 < ‖t‖ = 6: gradient −e_y/‖t‖
        normDirectionLoss(student: s3, teacher: T([1, 3], [6, 0, 0]), directions: dirs, targets: [0]).backward()
        assertClose(s3.grad!, shape: [1, 3], [-0.1, -0.8 / 6, 0])
        // A zero student row (the teacher's norm wins): a finite gradient −e_y/‖t‖, not 0/0 from ‖s‖.
        let s4 = Tensor.zeros([1, 3]).requiringGrad()
        normDirectionLoss(student: s4, teacher: T([1, 3], [2, 0, 0]), directions: dirs, targets: [1]).backward()
        assertClose(s4.grad!, shape: [1, 3], [0, 0, -0.5])
    }

    func testGradientsAgainstFiniteDifferences() {
        let t = randn([4, 5], seed: 3, std: 2), temb = randn([4, 6], seed: 4)
        let dirs = classDirections(randn([5, 6], seed: 5))
        gradCheck("decoupledKD", [randn([4, 5], seed: 6, std: 2)]) { x in
            decoupledKD(student: x[0], teacher: t, targets: [0, 4, 2, 2], alpha: 1.5, beta: 3, temperature: 2)
        }
        // Embeddings well away from the ‖s‖ = ‖t‖ switch.
        gradCheck("normDirectionLoss", [scale(randn([4, 6], seed: 7), 3)]) { x in
            normDirectionLoss(student: x[0], teacher: temb, directions: dirs, targets: [1, 0, 3, 4])
        }
    }

    func testLogFloorKeepsSaturatedDKDFinite() throws {
        let c = try cases().first { $0.name == "saturated" }!
        let z = Tensor(shape: [c.b, c.k], scalars: c.s_logits).requiringGrad(), t = Tensor(shape: [c.b, c.k], scalars: c.t_logits)
        XCTAssertFalse(decoupledKD(student: z, teacher: t, targets: c.labels, temperature: c.T).item().isFinite)
        let v = decoupledKD(student: z, teacher: t, targets: c.labels, alpha: c.alpha, beta: c.beta, temperature: c.T, logFloor: 1e-12)
        XCTAssertTrue(v.item().isFinite)
        v.backward()
        XCTAssertTrue(z.grad!.scalars.allSatisfy(\.isFinite))
        // Where nothing saturates the floor changes nothing.
        let w = try cases()[0]
        let zs = Tensor(shape: [w.b, w.k], scalars: w.s_logits), ts = Tensor(shape: [w.b, w.k], scalars: w.t_logits)
        XCTAssertEqual(decoupledKD(student: zs, teacher: ts, targets: w.labels, alpha: w.alpha, beta: w.beta, temperature: w.T, logFloor: 1e-12).item(),
                       decoupledKD(student: zs, teacher: ts, targets: w.labels, alpha: w.alpha, beta: w.beta, temperature: w.T).item())
    }
}
