// The Loki loss (Ops/LokiLoss.swift): a hand-computed case, finite-difference gradients, and parity
// with the reference's formula in PyTorch (data/fixtures/loki/reference.json, "loss", made by
// scripts/fixtures/loki.py: CrossEntropyLoss()(-softmax(z) @ dists**2, y) and its gradient).
import Foundation
import XCTest
@testable import Runtime

final class LokiLossTests: XCTestCase {
    func testHandComputed() {
        // Two observed classes on a path a - b - c (N = 3): D² rows [0, 1, 4] and [1, 0, 1].
        let d2 = T([2, 3], [0, 1, 4, 1, 0, 1])
        // z = [0, 0]: p = [½, ½], s = −[½, ½, 5/2]; CE against class 1 (b): −s_b + log Σ e^{s}.
        let z = T([1, 2], [0, 0])
        assertClose(lokiLogits(z, squaredDistances: d2), shape: [1, 3], [-0.5, -0.5, -2.5])
        let lse = Foundation.log(2 * Foundation.exp(-0.5) + Foundation.exp(-2.5))
        assertClose(lokiLoss(z, squaredDistances: d2, targets: [1]), shape: [], [Float(0.5 + lse)])
        // The unobserved class c can be the target: its score is lowest here, so its loss is largest.
        XCTAssertGreaterThan(lokiLoss(z, squaredDistances: d2, targets: [2]).item(), lokiLoss(z, squaredDistances: d2, targets: [1]).item())
        // Per-row losses: the first row is the case above.
        let rows = lokiLoss(T([2, 2], [0, 0, 3, -1]), squaredDistances: d2, targets: [1, 0], reduction: .none)
        XCTAssertEqual(rows.shape, [2])
        XCTAssertEqual(rows.scalars[0], Float(0.5 + lse), accuracy: 1e-5)
    }

    func testGradientsAgainstFiniteDifferences() {
        let d2 = square(uniform([4, 6], seed: 5, 0, 3))
        gradCheck("lokiLoss", [randn([3, 4], seed: 6)], wrt: [0]) { x in
            lokiLoss(x[0], squaredDistances: d2, targets: [5, 0, 2])
        }
        gradCheck("lokiLogits", [randn([2, 4], seed: 7)]) { x in lokiLogits(x[0], squaredDistances: d2) }
        // D² gets no gradient (a constant of the label space).
        let z = randn([2, 4], seed: 8).requiringGrad(), dist = d2.copy().requiringGrad()
        lokiLoss(z, squaredDistances: dist, targets: [1, 3]).backward()
        XCTAssertNotNil(z.grad)
        XCTAssertNil(dist.grad)
    }

    func testMatchesPyTorchReference() throws {
        struct Case: Decodable {
            let logits: [Float], shape: [Int], dists: [Float], n: Int, targets: [Int], scores: [Float], loss: Float, grad: [Float]
        }
        struct File: Decodable { let loss: [Case] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data/fixtures/loki/reference.json")
        let cases = try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).loss
        XCTAssertEqual(cases.count, 2)
        for (i, c) in cases.enumerated() {
            let z = Tensor(shape: c.shape, scalars: c.logits).requiringGrad()
            let d = Tensor(shape: [c.shape[1], c.n], scalars: c.dists)
            assertClose(lokiLogits(z, squaredDistances: square(d)).scalars, c.scores, atol: 1e-5, rtol: 1e-5, "case \(i) scores")
            let loss = lokiLoss(z, squaredDistances: square(d), targets: c.targets)
            assertClose([loss.item()], [c.loss], atol: 1e-5, rtol: 1e-5, "case \(i) loss")
            loss.backward()
            assertClose(z.grad!.scalars, c.grad, atol: 1e-6, rtol: 1e-4, "case \(i) d loss / d logits")
        }
    }
}
