// The trajectory of a ZO run (trajectory.jsonl): a header line with everything replay needs (the run's
// spec, the update rule, the trained tensor names, the blocks, the sparsity masks), then one line per
// step: {"step", "lr", "updates": [{"block", "seeds", "c", "m"?}]}. Training appends a step line as
// each step ends; `zo replay` reads the file back and applies the same updates, in the same order, with
// the same arithmetic, to the base weights, so it reproduces the trained weights bit for bit.
//
// Reading validates every field (a hand-edited or truncated file is an error naming the line, never a
// trap).
import Foundation
import Runtime

/// One block's update of one step: θ_i ← update(Σ_k c_k z_i(seed_k)) for the block's tensors.
public struct BlockUpdate: Equatable, Sendable {
    /// Index into the header's blocks, or -1 for every tensor (forward-grad).
    public var block: Int
    public var seeds: [UInt64]
    public var coefficients: [Float]
    /// zo-sgd-cons: the multiplier chosen (1, −1 or 0).
    public var conservative: Float?
}

public struct TrajectoryStep: Equatable, Sendable {
    public var step: Int
    public var lr: Float
    public var updates: [BlockUpdate]

    /// The step's line. The caller makes sure every number is finite (the trainer stops first).
    public var json: JSONValue {
        .object(["step": .number(JSONNumber(step)), "lr": .number(JSONNumber(lr) ?? JSONNumber(0)),
                 "updates": .array(updates.map { u in
                     var o: JSONObject = ["block": .number(JSONNumber(u.block)),
                                          "c": .array(u.coefficients.map { .number(JSONNumber($0) ?? JSONNumber(0)) })]
                     if let m = u.conservative { o.members.append(.init(key: "m", value: .number(JSONNumber(m) ?? JSONNumber(0)))) }
                     o.members.append(.init(key: "seeds", value: .array(u.seeds.map { .number(JSONNumber(Int($0))) })))
                     return .object(o)
                 })])
    }
}

/// The header: the run (RunSpec) plus what the updates need.
public struct TrajectoryHeader {
    public var spec: RunSpec
    public var rule: UpdateRule
    public var trained: [String]
    public var blocks: [[Int]]
    public var hybridLayers: Int?
    public var sparsity: SparsityMasks?

    public init(spec: RunSpec, rule: UpdateRule, trained: [String], blocks: [[Int]], hybridLayers: Int?, sparsity: SparsityMasks?) {
        (self.spec, self.rule, self.trained, self.blocks, self.hybridLayers, self.sparsity) = (spec, rule, trained, blocks, hybridLayers, sparsity)
    }

    public var json: JSONValue {
        var o = spec.json.objectValue ?? JSONObject()
        func num(_ v: Float) -> JSONValue { .number(JSONNumber(v) ?? JSONNumber(0)) }
        let extra: [(String, JSONValue)] = [
            ("adam_eps", num(rule.adamEps)), ("beta1", num(rule.beta1)), ("beta2", num(rule.beta2)),
            ("blocks", .array(blocks.map { .array($0.map { .number(JSONNumber($0)) }) })),
            ("hybrid_layers", hybridLayers.map { .number(JSONNumber($0)) } ?? .null),
            ("momentum", num(rule.momentum)), ("optimizer", .string(rule.optimizer.rawValue)),
            ("trained", .array(trained.map { .string($0) })), ("weight_decay", num(rule.weightDecay)),
        ]
        for (k, v) in extra { o.members.append(.init(key: k, value: v)) }
        if let sp = sparsity {
            o.members.append(.init(key: "sparsity_fractions", value: .array(sp.fraction.map { num($0) })))
            o.members.append(.init(key: "sparsity_every", value: .number(JSONNumber(sp.every))))
            o.members.append(.init(key: "sparsity_seed", value: .number(JSONNumber(Int(sp.seed & ((1 << 53) - 1))))))
        }
        return .object(["zo_trajectory": .object(o)])
    }

    /// Reads a header line's {"zo_trajectory": {...}}.
    public init(parsing line: JSONValue) throws {
        guard let h = line["zo_trajectory"], h.objectValue != nil else { throw DataError(description: "no zo_trajectory header") }
        spec = try RunSpec(json: h)
        let name = try field(h, "optimizer").stringValue
        guard let name, let optimizer = ZOOptimizer(rawValue: name) else { throw DataError(description: "header: 'optimizer' is not a known optimizer") }
        rule = UpdateRule(optimizer: optimizer)
        rule.weightDecay = try float(h, "weight_decay")
        rule.momentum = try float(h, "momentum")
        rule.beta1 = try float(h, "beta1")
        rule.beta2 = try float(h, "beta2")
        rule.adamEps = try float(h, "adam_eps")
        let names = try array(h, "trained").map { v in
            guard let s = v.stringValue else { throw DataError(description: "header: 'trained' must hold strings") }
            return s
        }
        trained = names
        blocks = try array(h, "blocks").map { b in
            guard let members = b.arrayValue else { throw DataError(description: "header: 'blocks' must hold arrays") }
            return try members.map { try int($0, "blocks", min: 0, below: names.count) }
        }
        hybridLayers = h["hybrid_layers"].flatMap { $0 == .null ? nil : try? $0.numberValue?.int() }
        if let fr = h["sparsity_fractions"] {
            guard let list = fr.arrayValue, list.count == names.count else {
                throw DataError(description: "header: 'sparsity_fractions' must hold one number per trained tensor")
            }
            let fractions = try list.map { v -> Float in
                guard let x = try? v.numberValue?.float(), x >= 0, x <= 1 else { throw DataError(description: "header: a sparsity fraction outside [0, 1]") }
                return x
            }
            sparsity = SparsityMasks(fraction: fractions, every: try int(try field(h, "sparsity_every"), "sparsity_every", min: 1),
                                     seed: UInt64(try int(try field(h, "sparsity_seed"), "sparsity_seed", min: 0)))
        }
    }
}

extension TrajectoryStep {
    /// Reads a step line; `blocks`: how many blocks the header has.
    public init(parsing line: JSONValue, blocks: Int) throws {
        step = try int(try field(line, "step"), "step", min: 0)
        lr = try float(line, "lr")
        updates = try array(line, "updates").map { u in
            let block = try int(try field(u, "block"), "block", min: -1, below: max(blocks, 0))
            let seeds = try array(u, "seeds").map { UInt64(try int($0, "seeds", min: 0)) }
            let cs = try array(u, "c").map { v -> Float in
                guard let x = try? v.numberValue?.float(), x.isFinite else { throw DataError(description: "'c' must hold finite numbers") }
                return x
            }
            guard !seeds.isEmpty, seeds.count == cs.count else { throw DataError(description: "'seeds' and 'c' must be equally long and not empty") }
            let m = try u["m"].map { v -> Float in
                guard let x = try? v.numberValue?.float(), x.isFinite else { throw DataError(description: "'m' must be a number") }
                return x
            }
            return BlockUpdate(block: block, seeds: seeds, coefficients: cs, conservative: m)
        }
    }
}

private func field(_ o: JSONValue, _ key: String) throws -> JSONValue {
    guard let v = o[key] else { throw DataError(description: "missing '\(key)'") }
    return v
}

private func array(_ o: JSONValue, _ key: String) throws -> [JSONValue] {
    guard let v = try field(o, key).arrayValue else { throw DataError(description: "'\(key)' must be an array") }
    return v
}

private func float(_ o: JSONValue, _ key: String) throws -> Float {
    guard let x = try? field(o, key).numberValue?.float(), x.isFinite else { throw DataError(description: "'\(key)' must be a finite number") }
    return x
}

private func int(_ v: JSONValue, _ key: String, min: Int, below: Int = Int.max) throws -> Int {
    guard let x = (try? v.numberValue?.int()) ?? nil, x >= min, x < below else {
        throw DataError(description: "'\(key)' must hold whole numbers in \(min)..<\(below == Int.max ? "∞" : String(below))")
    }
    return x
}

/// Reads trajectory.jsonl: the header and every step line; errors name the line.
public func readTrajectory(_ path: String) throws -> (header: TrajectoryHeader, steps: [TrajectoryStep]) {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CheckpointError(path, "cannot read") }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
    guard let first = lines.first else { throw CheckpointError(path, "empty: no zo_trajectory header line") }
    let header: TrajectoryHeader
    do { header = try TrajectoryHeader(parsing: try JSONValue(parsing: [UInt8](first.utf8))) } catch {
        throw CheckpointError(path + ":1", "\(error)")
    }
    var steps: [TrajectoryStep] = []
    for (i, line) in lines.dropFirst().enumerated() {
        do { steps.append(try TrajectoryStep(parsing: try JSONValue(parsing: [UInt8](line.utf8)), blocks: header.blocks.count)) } catch {
            throw CheckpointError(path + ":\(i + 2)", "\(error)")
        }
    }
    return (header, steps)
}

/// Applies a trajectory to a task model built from the base weights: the same updates, in the same
/// order, with the same arithmetic.
public func replay(_ task: TaskModel, header: TrajectoryHeader, steps: [TrajectoryStep]) throws {
    guard !header.rule.optimizer.isFirstOrder else {
        throw DataError(description: "a first-order run cannot be replayed: its updates are not in the trajectory")
    }
    guard header.hybridLayers == nil else {
        throw DataError(description: "a hybrid ZO/FO run cannot be replayed: its first-order updates are not in the trajectory")
    }
    let params = ZOParameters(task.trainable)
    guard header.trained == params.named.map(\.0) else {
        throw DataError(description: "the trajectory trained other tensors than this base model and scheme give")
    }
    params.sparsity = header.sparsity
    let state = ZOState()
    for s in steps {
        params.sparsity?.setStep(s.step)
        for u in s.updates {
            let members = u.block < 0 ? Array(0..<params.count) : header.blocks[u.block]
            if let m = u.conservative {
                for i in members { applyConservative(params, tensor: i, seed: u.seeds[0], coefficient: u.coefficients[0], lr: s.lr, multiplier: m) }
            } else {
                for i in members { applyUpdate(params, tensor: i, seeds: u.seeds, coefficients: u.coefficients, lr: s.lr, rule: header.rule, state: state) }
            }
        }
    }
}
