// Modules: reflection-based parameter names, modes, freezing, strict loading, layer shapes, and a
// small end-to-end training run.
import XCTest
@testable import Runtime

private final class Block: Module, UnaryLayer {
    let attentionProj = Linear(4, 4)
    let norm = LayerNorm(4)
    var scale: Tensor? = nil
    override var keyMap: [String: String] { ["attentionProj": "attn"] }
    func callAsFunction(_ x: Tensor) -> Tensor { norm(attentionProj(x)) }
}

private final class Net: Module {
    let embed = Embedding(10, 4)
    let blocks = [Block(), Block()]
    let bn = BatchNorm(4)
    let head = Linear(4, 3, bias: false)
}

final class ModuleTests: XCTestCase {
    func testDottedNamesFollowPropertiesAndKeyMap() {
        let names = Net().namedParameters().map(\.0)
        XCTAssertEqual(names, [
            "embed.weight",
            "blocks.0.attn.weight", "blocks.0.attn.bias", "blocks.0.norm.weight", "blocks.0.norm.bias",
            "blocks.1.attn.weight", "blocks.1.attn.bias", "blocks.1.norm.weight", "blocks.1.norm.bias",
            "bn.weight", "bn.bias",
            "head.weight",
        ])
        let state = Net().namedState().map(\.0)
        XCTAssertTrue(state.contains("bn.running_mean") && state.contains("bn.running_var")
                      && state.contains("bn.num_batches_tracked"))
        XCTAssertEqual(Net().parameterCount(), 40 + 2 * (20 + 8) + 8 + 12)
    }

    func testTrainEvalAndFreeze() {
        let net = Net()
        net.eval()
        XCTAssertFalse(net.blocks[1].norm.isTraining)
        net.train()
        XCTAssertTrue(net.bn.isTraining)
        net.freeze { $0.hasPrefix("blocks.") }
        XCTAssertEqual(net.trainableParameters().count, 4)
        net.unfreeze { $0.hasSuffix(".bias") }
        XCTAssertEqual(net.trainableParameters().count, 8)
    }

    func testStrictLoadNamesEveryProblem() throws {
        let a = Net(), b = Net()
        var state = Dictionary(uniqueKeysWithValues: a.namedState())
        try b.load(state: state)
        XCTAssertEqual(b.head.weight.scalars, a.head.weight.scalars)

        state["head.weight"] = Tensor.zeros([2, 2])
        state["extra.weight"] = Tensor.zeros([1])
        state.removeValue(forKey: "embed.weight")
        XCTAssertThrowsError(try b.load(state: state)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("missing weight 'embed.weight'"), text)
            XCTAssertTrue(text.contains("weight 'head.weight' has shape [2, 2], expected [3, 4]"), text)
            XCTAssertTrue(text.contains("unexpected weight 'extra.weight'"), text)
        }
    }

    func testLayerShapesAndInitBounds() {
        Initializer.seed(7)
        let lin = Linear(100, 5)
        XCTAssertEqual(lin(Tensor.zeros([2, 3, 100])).shape, [2, 3, 5])
        XCTAssertLessThanOrEqual(lin.weight.scalars.map { Swift.abs($0) }.max()!, 0.1)
        XCTAssertEqual(Embedding(10, 3)([1, 2, 3, 4], shape: [2, 2]).shape, [2, 2, 3])
        XCTAssertEqual(Conv1d(3, 8, kernel: 3, causal: true)(Tensor.zeros([2, 3, 10])).shape, [2, 8, 10])
        XCTAssertEqual(Conv2d(3, 8, kernel: 3, stride: 2, padding: 1)(Tensor.zeros([1, 3, 9, 9])).shape, [1, 8, 5, 5])
        // Same seed, same model.
        Initializer.seed(7)
        XCTAssertEqual(Linear(100, 5).weight.scalars, lin.weight.scalars)
    }

    func testBatchNormLayerTracksRunningStatistics() {
        let bn = BatchNorm(2)
        let x = Tensor(shape: [4, 2], scalars: [1, 10, 2, 20, 3, 30, 4, 40])
        _ = bn(x)
        XCTAssertEqual(bn.numBatchesTracked!.item(), 1)
        XCTAssertEqual(bn.runningMean!.scalars[0], 0.25, accuracy: 1e-6)  // 0.9·0 + 0.1·2.5
        bn.eval()
        let y = bn(x)
        XCTAssertEqual(bn.numBatchesTracked!.item(), 1)
        XCTAssertEqual(y.shape, [4, 2])
    }

    /// A small MLP learns a nonlinear 2-D problem (two interleaved moons-like rings) with Adam.
    func testMLPLearnsRings() {
        Initializer.seed(1)
        let rng = RandomGenerator(seed: 3, stream: 9)
        let n = 256
        let pts = rng.uniform([n, 2], low: -1, high: 1)
        var labels: [Int] = []
        for i in 0..<n {
            let r = (pts.data[2 * i] * pts.data[2 * i] + pts.data[2 * i + 1] * pts.data[2 * i + 1]).squareRoot()
            labels.append(r < 0.6 ? 0 : 1)
        }
        let net = MLP([2, 32, 32, 2], activation: { gelu($0) })
        let opt = Adam(net.parameters(), lr: 0.02)
        var last: Float = .infinity
        for _ in 0..<300 {
            let loss = crossEntropy(net(pts), targets: labels)
            opt.zeroGrad()
            loss.backward()
            opt.step()
            last = loss.item()
        }
        let pred = withoutGrad { net(pts) }.argmax(axis: 1)
        let acc = Float(zip(pred, labels).filter { $0 == $1 }.count) / Float(n)
        XCTAssertLessThan(last, 0.15)
        XCTAssertGreaterThan(acc, 0.95)
    }
}
