// Tier 2: parity with PyTorch on data/fixtures/runtime_ops.json (made by scripts/fixtures/runtime_ops.py).
// Each case: float32 inputs, parameters, an upstream gradient gy; PyTorch's outputs (computed in
// float64, rounded to float32) and the gradients of Σ gy ⊙ y. We run our op on the same inputs and
// compare element-wise: |ours − torch| ≤ 1e-5 + 1e-4·|torch| for outputs and gradients alike.
import Foundation
import XCTest
@testable import Runtime

private struct FixtureTensor: Decodable {
    let shape: [Int]
    let data: [Float]
    var tensor: Tensor { Tensor(shape: shape, scalars: data) }
}

private enum Param: Decodable {
    case bool(Bool), int(Int), double(Double), string(String), ints([Int])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else { self = .ints(try c.decode([Int].self)) }
    }
}

private struct FixtureCase: Decodable {
    let name: String
    let op: String
    let params: [String: Param]
    let inputs: [String: FixtureTensor]
    let gy: FixtureTensor
    let outputs: [String: FixtureTensor]
    let grads: [String: FixtureTensor]

    func int(_ k: String, _ d: Int) -> Int { if case let .int(v)? = params[k] { return v }; return d }
    func float(_ k: String, _ d: Float) -> Float {
        switch params[k] { case let .double(v)?: return Float(v); case let .int(v)?: return Float(v); default: return d }
    }
    func bool(_ k: String, _ d: Bool) -> Bool { if case let .bool(v)? = params[k] { return v }; return d }
    func string(_ k: String, _ d: String) -> String { if case let .string(v)? = params[k] { return v }; return d }
    func ints(_ k: String) -> [Int] { if case let .ints(v)? = params[k] { return v }; return [] }
    func pair(_ k: String, _ d: Int) -> (Int, Int) {
        if case let .ints(v)? = params[k] { return (v[0], v[1]) }
        return (int(k, d), int(k, d))
    }
}

private struct FixtureFile: Decodable {
    let torch: String
    let cases: [FixtureCase]
}

final class ParityTests: XCTestCase {
    static let atol: Float = 1e-5, rtol: Float = 1e-4

    private func load() throws -> FixtureFile {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../data/fixtures/runtime_ops.json").standardized
        let data = try Data(contentsOf: url)
        return try JSONDecoder().decode(FixtureFile.self, from: data)
    }

    func testAgainstPyTorch() throws {
        let file = try load()
        XCTAssertGreaterThan(file.cases.count, 50)
        var ops = Set<String>()
        for c in file.cases {
            ops.insert(c.op)
            run(c)
        }
        for op in ["cross_entropy", "bce_with_logits", "kl_div", "cosine_similarity", "layer_norm", "rms_norm", "batch_norm",
                   "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
                   "adaptive_max_pool2d", "gelu", "silu", "logsumexp", "softmax", "log_softmax"] {
            XCTAssertTrue(ops.contains(op), "fixture has no \(op) case")
        }
    }

    private func run(_ c: FixtureCase) {
        var t: [String: Tensor] = [:]
        for (k, v) in c.inputs { t[k] = v.tensor }
        for k in c.grads.keys { t[k]!.requiresGrad = true }
        var extra: [String: Tensor] = [:]
        guard let y = apply(c, t, &extra) else { XCTFail("\(c.name): unknown op \(c.op)"); return }
        let tag = "\(c.name) (torch \(c.op))"
        assertClose(y, c.outputs["y"]!.tensor, atol: Self.atol, rtol: Self.rtol, "\(tag): output")
        for (k, v) in c.outputs where k != "y" {
            guard let e = extra[k] else { XCTFail("\(tag): no output \(k)"); continue }
            assertClose(e, v.tensor, atol: Self.atol, rtol: Self.rtol, "\(tag): \(k)")
        }
        guard y.requiresGrad else { XCTFail("\(tag): output does not require grad"); return }
        y.backward(c.gy.tensor)
        for (k, want) in c.grads {
            let got = t[k]!.grad ?? Tensor.zeros(want.shape)
            assertClose(got, want.tensor, atol: Self.atol, rtol: Self.rtol, "\(tag): gradient of \(k)")
        }
    }

    private func apply(_ c: FixtureCase, _ t: [String: Tensor], _ extra: inout [String: Tensor]) -> Tensor? {
        let reduction = Reduction(rawValue: c.string("reduction", "mean")) ?? .mean  // kl_div has its own below
        switch c.op {
        case "cross_entropy":
            return crossEntropy(t["x"]!, targets: c.ints("targets"), weights: t["weight"], ignoreIndex: c.int("ignore_index", -100),
                                labelSmoothing: c.float("label_smoothing", 0), reduction: reduction)
        case "bce_with_logits":
            return bceWithLogits(t["x"]!, targets: t["target"]!, posWeight: t["pos_weight"], weight: t["weight"], reduction: reduction)
        case "kl_div":
            let r: KLReduction
            switch c.string("reduction", "mean") { case "batchmean": r = .batchMean; case "sum": r = .sum; case "none": r = .none; default: r = .mean }
            return klDivergence(input: t["input"]!, target: t["target"]!, logTarget: c.bool("log_target", false), reduction: r)
        case "distillation_kl":
            return distillationKL(student: t["student"]!, teacher: t["teacher"]!, temperature: c.float("temperature", 1))
        case "cosine_similarity":
            return cosineSimilarity(t["x"]!, t["y"]!, axis: c.int("axis", -1))
        case "layer_norm":
            return layerNorm(t["x"]!, weight: t["weight"], bias: t["bias"], eps: c.float("eps", 1e-5))
        case "rms_norm":
            return rmsNorm(t["x"]!, weight: t["weight"], eps: c.float("eps", 1e-6))
        case "batch_norm":
            let rm = t["running_mean"]!.copy(), rv = t["running_var"]!.copy()
            extra["running_mean"] = rm; extra["running_var"] = rv
            return batchNorm(t["x"]!, runningMean: rm, runningVar: rv, weight: t["weight"], bias: t["bias"],
                             training: c.bool("training", true), momentum: c.float("momentum", 0.1), eps: c.float("eps", 1e-5))
        case "conv1d":
            return conv1d(t["x"]!, weight: t["weight"]!, bias: t["bias"], stride: c.int("stride", 1), padding: c.int("padding", 0),
                          dilation: c.int("dilation", 1), groups: c.int("groups", 1), causal: c.bool("causal", false))
        case "conv2d":
            return conv2d(t["x"]!, weight: t["weight"]!, bias: t["bias"], stride: c.pair("stride", 1), padding: c.pair("padding", 0),
                          dilation: c.pair("dilation", 1), groups: c.int("groups", 1))
        case "max_pool1d":
            return maxPool1d(t["x"]!, kernel: c.int("kernel", 1), stride: c.int("stride", 1), padding: c.int("padding", 0))
        case "max_pool2d":
            return maxPool2d(t["x"]!, kernel: c.pair("kernel", 1), stride: c.pair("stride", 1), padding: c.pair("padding", 0))
        case "avg_pool1d":
            return avgPool1d(t["x"]!, kernel: c.int("kernel", 1), stride: c.int("stride", 1), padding: c.int("padding", 0),
                             countIncludePad: c.bool("count_include_pad", true))
        case "avg_pool2d":
            return avgPool2d(t["x"]!, kernel: c.pair("kernel", 1), stride: c.pair("stride", 1), padding: c.pair("padding", 0),
                             countIncludePad: c.bool("count_include_pad", true))
        case "adaptive_avg_pool1d": return adaptivePool1d(t["x"]!, output: c.int("output", 1), mode: .average)
        case "adaptive_max_pool1d": return adaptivePool1d(t["x"]!, output: c.int("output", 1), mode: .max)
        case "adaptive_avg_pool2d": return adaptivePool2d(t["x"]!, output: c.pair("output", 1), mode: .average)
        case "adaptive_max_pool2d": return adaptivePool2d(t["x"]!, output: c.pair("output", 1), mode: .max)
        case "gelu": return gelu(t["x"]!, approximation: c.string("approximate", "none") == "tanh" ? .tanh : .none)
        case "silu": return silu(t["x"]!)
        case "softplus": return softplus(t["x"]!)
        case "softmax": return softmax(t["x"]!, axis: c.int("axis", -1))
        case "log_softmax": return logSoftmax(t["x"]!, axis: c.int("axis", -1))
        case "logsumexp": return t["x"]!.logsumexp(axis: c.int("axis", -1))
        default: return nil
        }
    }
}
