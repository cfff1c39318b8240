// The training loop: every optimizer, ZO-Bench's enhancements (block-wise perturbation, gradient
// sparsity, hybrid ZO/FO), the JSONL log and the replayable trajectory.
//
// A ZO step (two-sided; one-sided compares with the unperturbed loss):
//   for each block b (all trained tensors when not block-wise), for k < q:
//     s = seed(step, b, k);  L± = L(θ ± εz_s) (θ never written: the resolver adds ±εz per layer)
//     c_k = (L₊ − L₋) / 2ε          (sign: sign(c_k); cons: see below)
//   θ_b ← rule(θ_b, Σ_k c_k z_k / q)
// zo-sgd-cons evaluates L(θ) and L(θ ∓ ηcz) on the same batch and keeps the best of the three.
import Foundation
import Runtime

public enum BlockGranularity: String, CaseIterable, Sendable { case block, module, linear }

public struct TrainOptions: Sendable {
    public var rule = UpdateRule(optimizer: .zoSGD)
    public var lr: Float = 1e-6
    public var eps: Float = 1e-3
    public var steps = 1000
    public var batch = 16
    public var q = 1
    public var oneSided = false
    public var schedule: LRSchedule = .constant
    public var seed: UInt64 = 0
    public var evalEvery = 100
    public var evalBatch = 32
    public var blockwise: BlockGranularity? = nil
    public var sparsity: Float = 0
    public var sparsityMagnitude = false
    public var sparsityEvery = 1
    public var hybridLayers: Int? = nil
    /// Stop once the process has used this many CPU seconds (the last step is evaluated).
    public var maxCPUSeconds: Double? = nil
    public init() {}
}

public struct StepLog: Sendable {
    public var step: Int, loss: Float, projected: [Float], lr: Float, seconds: Double, cpuSeconds: Double
    public var devAccuracy: Double?
    /// Payload bytes this rank all-reduced in the step (distributed runs only).
    public var exchangedBytes: Int?
}

/// CPU seconds (user + system) used by this process.
public func cpuSeconds() -> Double {
    var ru = rusage()
    getrusage(RUSAGE_SELF.rawValue, &ru)
    return Double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + Double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6
}

public func accuracy(_ task: TaskModel, _ examples: [Example], batch: Int) -> Double {
    guard !examples.isEmpty else { return .nan }
    return Double(correctCount(task, examples, batch: batch)) / Double(examples.count)
}

func correctCount(_ task: TaskModel, _ examples: [Example], batch: Int) -> Int {
    var correct = 0
    for start in stride(from: 0, to: examples.count, by: batch) {
        let chunk = Array(examples[start..<min(start + batch, examples.count)])
        correct += zip(task.predict(chunk), chunk).filter { $0 == $1.label }.count
    }
    return correct
}

/// Groups of trained tensors perturbed and updated together.
func blocks(_ names: [String], _ g: BlockGranularity?) -> [[Int]] {
    guard let g else { return [Array(names.indices)] }
    var order: [String] = [], groups: [String: [Int]] = [:]
    for (i, name) in names.enumerated() {
        let parts = name.split(separator: ".").map(String.init)
        let key: String
        if let l = parts.firstIndex(where: { $0 == "layers" || $0 == "layer" }), l + 1 < parts.count {
            switch g {
            case .block: key = parts[...(l + 1)].joined(separator: ".")
            case .module: key = parts[...min(l + 2, parts.count - 1)].joined(separator: ".")
            case .linear: key = parts.dropLast().joined(separator: ".")
            }
        } else {
            key = g == .linear ? parts.dropLast().joined(separator: ".") : parts.first ?? name
        }
        if groups[key] == nil { order.append(key) }
        groups[key, default: []].append(i)
    }
    return order.map { groups[$0]! }
}

public final class Trainer {
    public let task: TaskModel
    public let options: TrainOptions
    public let params: ZOParameters
    public let blockIndices: [[Int]]
    let foIndices: Set<Int>
    let state = ZOState()
    var foOptimizer: Optimizer?
    /// The ranks of a distributed run (data parallel over each batch): every rank evaluates the losses
    /// on its share of the batch and the ranks sum them, weighted by share size, so all apply the same
    /// update from the same (seed, coefficient) pairs. Only losses cross the network.
    public var collective: Collective = SoloCollective()
    /// Payload bytes all-reduced so far.
    public private(set) var exchangedBytes = 0

    public init(task: TaskModel, options: TrainOptions) {
        self.task = task
        self.options = options
        let named = task.trainable
        params = ZOParameters(named)
        // Hybrid: the last k transformer blocks and everything after them go first-order.
        var fo = Set<Int>()
        if let k = options.hybridLayers {
            let layerOf = named.map { name, _ -> Int? in
                let parts = name.split(separator: ".")
                guard let l = parts.firstIndex(where: { $0 == "layers" || $0 == "layer" }), l + 1 < parts.count else { return nil }
                return Int(parts[l + 1])
            }
            let last = layerOf.compactMap { $0 }.max() ?? -1
            for (i, (name, _)) in named.enumerated() {
                if let l = layerOf[i] { if l > last - k { fo.insert(i) } }
                else if name.contains("norm") && !name.contains("layers") || name.hasPrefix("head") || name.hasPrefix("lm_head") { fo.insert(i) }
            }
        }
        foIndices = fo
        let zoNames = named.enumerated().filter { !fo.contains($0.offset) }
        blockIndices = blocks(zoNames.map(\.element.0), options.blockwise).map { $0.map { zoNames[$0].offset } }
        if options.sparsity > 0 {
            let fractions = options.sparsityMagnitude ? SparsityMasks.magnitudeFractions(params, sparsity: options.sparsity, seed: options.seed)
                : Array(repeating: options.sparsity, count: params.count)
            params.sparsity = SparsityMasks(fraction: fractions, every: options.sparsityEvery, seed: options.seed &+ 0x5A5A)
        }
        let o = options.rule.optimizer
        if o.isFirstOrder || !fo.isEmpty {
            let foParams = o.isFirstOrder ? named.map(\.1) : fo.sorted().map { named[$0].1 }
            let decay = foParams.filter { t in params.decays[params.index[ObjectIdentifier(t)]!] }
            let noDecay = foParams.filter { t in !params.decays[params.index[ObjectIdentifier(t)]!] }
            let groups = [ParameterGroup(decay, lr: options.lr, weightDecay: options.rule.weightDecay),
                          ParameterGroup(noDecay, lr: options.lr, weightDecay: 0)]
            foOptimizer = (o == .foSGD || o == .zoSGD || o == .zoSGDSign || o == .zoSGDConservative)
                ? SGD(groups, momentum: 0) : Adam(groups, betas: (options.rule.beta1, options.rule.beta2), eps: options.rule.adamEps)
        }
        for (_, t) in named { t.requiresGrad = false }
    }

    /// Seeds stay below 2⁵³ so they survive any JSON reader.
    func seed(step: Int, block: Int, k: Int) -> UInt64 {
        let b = Philox.block(seed: options.seed, stream: 0x2E5D, index: UInt64(step) &* 4096 &+ UInt64(block) &* 64 &+ UInt64(k))
        return (UInt64(b.0) | UInt64(b.1) << 32) & ((1 << 53) - 1)
    }

    /// The loss at θ as `resolver` presents it. Each probe's transient copies are handed back to the
    /// system afterwards, so training stays within inference's memory (Storage.releaseFreeMemory):
    /// SmolLM2 Q4_1, batch 16, one thread: peak 720 MiB against 753 without and 737 for `zo eval`,
    /// at 5% of the step time (farm-bench, 3 pairs). A lean heap (mmap threshold 1 MB) reached
    /// 680 MiB but cost 1.4× the time in page faults, so it is not used.
    func zoLoss(_ batch: [Example], resolver: ParameterResolver?) -> Float {
        defer { Storage.releaseFreeMemory() }
        return withoutGrad { Parameters.withResolver(resolver) { task.loss(batch) } }.item()
    }

    /// Batch means from this rank's share (`share` of `total` examples) → the means over the whole
    /// batch, on every rank. One process: the values unchanged.
    func combine(_ local: [Float], share: Int, total: Int) -> [Float] {
        guard collective.size > 1 else { return local }
        return reduce(local.map { Double($0) * Double(share) }).map { Float($0 / Double(total)) }
    }

    /// The ranks' sum of `values`, counted in `exchangedBytes`.
    func reduce(_ values: [Double]) -> [Double] {
        exchangedBytes += 8 * values.count
        return collective.allReduceSum(values)
    }

    /// Whether this run can be split over ranks (ZO estimates only: first-order parts would need whole
    /// gradients exchanged, which is what this mode exists to avoid).
    public static func distributable(_ options: TrainOptions) -> String? {
        if options.rule.optimizer.isFirstOrder { return "first-order optimizers exchange whole gradients; --distributed takes the ZO optimizers and forward-grad" }
        if options.hybridLayers != nil { return "--hybrid-layers trains its layers first-order; not with --distributed" }
        return nil
    }

    /// One optimizer step on `batch`; returns the loss (at θ + εz for ZO, as ZO-Bench reports it), the
    /// projected gradients and the step's trajectory line (nil for first-order runs). A non-finite loss or
    /// estimate stops the run before any parameter changes (TrainingStopped).
    public func step(_ step: Int, batch whole: [Example]) throws -> (loss: Float, projected: [Float], trajectory: TrajectoryStep?) {
        let o = options.rule.optimizer
        let batch = collective.size > 1 ? Array(whole[collective.share(of: whole.count)]) : whole
        func combined(_ local: [Float]) -> [Float] { combine(local, share: batch.count, total: whole.count) }
        let lr = options.lr * options.schedule.factor(at: step)
        params.sparsity?.setStep(step)
        var updates: [BlockUpdate] = []
        var reported: Float = .nan, projected: [Float] = []

        if o.isFirstOrder, let fo = foOptimizer {
            for (_, t) in params.named { t.requiresGrad = true }
            defer { for (_, t) in params.named { t.requiresGrad = false; t.grad = nil } }
            let l = task.loss(batch)
            guard l.item().isFinite else { throw TrainingStopped(step: step + 1, what: "the loss is \(l.item())") }
            fo.zeroGrad()
            l.backward()
            for i in fo.groups.indices { fo.groups[i].lr = lr }
            fo.step()
            return (l.item(), [], nil)
        }
        if o == .forwardGrad {
            let s = seed(step: step, block: 0, k: 0)
            let l = withoutGrad { Parameters.withResolver(DirectionTangentResolver(params, seed: s)) { task.loss(batch) } }
            let both = combined([l.item(), l.tangent?.item() ?? 0])
            let (loss, jvp) = (both[0], both[1])
            guard jvp.isFinite && loss.isFinite else { throw TrainingStopped(step: step + 1, what: "the directional derivative is \(jvp), the loss \(loss)") }
            for i in 0..<params.count where !foIndices.contains(i) {
                applyUpdate(params, tensor: i, seeds: [s], coefficients: [jvp], lr: lr, rule: options.rule, state: state)
            }
            return (loss, [jvp], TrajectoryStep(step: step, lr: lr, updates: [BlockUpdate(block: -1, seeds: [s], coefficients: [jvp])]))
        }
        let base = options.oneSided || o == .zoSGDConservative ? combined([zoLoss(batch, resolver: nil)])[0] : .nan
        for (b, members) in blockIndices.enumerated() {
            let subset = Set(members)
            let seeds = (0..<options.q).map { seed(step: step, block: b, k: $0) }
            // This block's probes on this rank's share, then one exchange for all of them.
            var local: [Float] = []
            for s in seeds {
                local.append(zoLoss(batch, resolver: PerturbResolver(params, seed: s, scale: options.eps, subset: subset)))
                if !options.oneSided { local.append(zoLoss(batch, resolver: PerturbResolver(params, seed: s, scale: -options.eps, subset: subset))) }
            }
            let losses = combined(local)
            var cs: [Float] = []
            for k in seeds.indices {
                let plus = losses[options.oneSided ? k : 2 * k]
                let c = options.oneSided ? (plus - base) / options.eps : (plus - losses[2 * k + 1]) / (2 * options.eps)
                guard c.isFinite && plus.isFinite else {
                    throw TrainingStopped(step: step + 1, what: "the loss is \(plus) and the projected gradient \(c)")
                }
                if reported.isNaN { reported = plus }
                cs.append(o == .zoSGDSign ? (c > 0 ? 1 : c < 0 ? -1 : 0) : c)
                projected.append(c)
            }
            var entry = BlockUpdate(block: b, seeds: seeds, coefficients: cs)
            if o == .zoSGDConservative {
                // θ − ηG and θ + ηG on the same batch; keep the best of the three.
                let pair = combined([zoLoss(batch, resolver: PerturbResolver(params, seed: seeds[0], scale: -lr * cs[0], subset: subset)),
                                     zoLoss(batch, resolver: PerturbResolver(params, seed: seeds[0], scale: lr * cs[0], subset: subset))])
                let (down, up) = (pair[0], pair[1])
                let m: Float = down <= base && down <= up ? 1 : (up < base && up < down ? -1 : 0)
                for i in members { applyConservative(params, tensor: i, seed: seeds[0], coefficient: cs[0], lr: lr, multiplier: m) }
                entry.conservative = m
            } else {
                for i in members { applyUpdate(params, tensor: i, seeds: seeds, coefficients: cs, lr: lr, rule: options.rule, state: state) }
            }
            updates.append(entry)
        }
        if !foIndices.isEmpty, let fo = foOptimizer {
            // Hybrid: first-order on the last blocks and the head (graph recorded from them only).
            for i in foIndices { params.tensor(i).requiresGrad = true }
            defer { for i in foIndices { params.tensor(i).requiresGrad = false; params.tensor(i).grad = nil } }
            let l = task.loss(batch)
            fo.zeroGrad()
            l.backward()
            for i in fo.groups.indices { fo.groups[i].lr = lr }
            fo.step()
        }
        return (reported, projected, TrajectoryStep(step: step, lr: lr, updates: updates))
    }

    /// Runs steps `first`..<options.steps; `each` sees every step's log entry and trajectory line (dev
    /// accuracy every evalEvery steps); `cpuBefore`: CPU seconds spent before `first` (a resumed run).
    public func run(train: [Example], dev: [Example], from first: Int = 0, cpuBefore: Double = 0,
                    each: (StepLog, TrajectoryStep?) throws -> Void) throws {
        let sampler = BatchSampler(count: train.count, batch: min(options.batch, train.count), seed: options.seed)
        if collective.size > 1 {
            if let why = Trainer.distributable(options) { throw DataError(description: why) }
            guard min(options.batch, train.count) >= collective.size else {
                throw DataError(description: "a batch of \(min(options.batch, train.count)) examples cannot be shared by \(collective.size) ranks")
            }
        }
        let start = Date(), cpu0 = cpuSeconds() - cpuBefore
        for s in first..<max(first, options.steps) {
            let batch = sampler.indices(step: s).map { train[$0] }
            let before = exchangedBytes
            let (loss, projected, line) = try step(s, batch: batch)
            var outOfTime = options.maxCPUSeconds.map { cpuSeconds() - cpu0 >= $0 } ?? false
            if collective.size > 1 && options.maxCPUSeconds != nil {
                // Every rank stops at the same step: as soon as one is out of time.
                outOfTime = reduce([outOfTime ? 1 : 0])[0] > 0
            }
            let evaluate = (options.evalEvery > 0 && (s + 1) % options.evalEvery == 0) || s + 1 == options.steps || outOfTime
            let acc = evaluate ? devAccuracy(dev) : nil
            try each(StepLog(step: s + 1, loss: loss, projected: projected, lr: options.lr * options.schedule.factor(at: s),
                             seconds: Date().timeIntervalSince(start), cpuSeconds: cpuSeconds() - cpu0, devAccuracy: acc,
                             exchangedBytes: collective.size > 1 ? exchangedBytes - before : nil), line)
            if outOfTime { break }
        }
    }

    /// Accuracy on `dev`; distributed, each rank scores its share and the counts are summed.
    func devAccuracy(_ dev: [Example]) -> Double {
        guard collective.size > 1, !dev.isEmpty else { return accuracy(task, dev, batch: options.evalBatch) }
        let mine = Array(dev[collective.share(of: dev.count)])
        return reduce([Double(correctCount(task, mine, batch: options.evalBatch))])[0] / Double(dev.count)
    }

    /// Everything a checkpoint needs besides the step: the trained tensors ("param.<name>"), the ZO
    /// optimizer state ("zo.<kind>.<tensor index>") and the first-order optimizer's ("fo.<name>").
    public func stateTensors() -> [(String, Tensor)] {
        var out = params.named.map { ("param." + $0.0, $0.1) }
        for (i, t) in state.momentum.sorted(by: { $0.key < $1.key }) { out.append(("zo.momentum.\(i)", t)) }
        for (i, t) in state.adamM.sorted(by: { $0.key < $1.key }) { out.append(("zo.adam_m.\(i)", t)) }
        for (i, t) in state.adamV.sorted(by: { $0.key < $1.key }) { out.append(("zo.adam_v.\(i)", t)) }
        for (i, n) in state.adamT.sorted(by: { $0.key < $1.key }) { out.append(("zo.adam_t.\(i)", Tensor(shape: [], scalars: [Float(n)]))) }
        if let fo = foOptimizer { out += fo.stateTensors().map { ("fo." + $0.0, $0.1) } }
        return out
    }

    /// Restores `stateTensors()` from a checkpoint of the same run.
    public func loadState(_ tensors: [String: Tensor]) throws {
        for (name, t) in params.named {
            guard let src = tensors["param." + name], src.shape == t.shape else {
                throw DataError(description: "checkpoint: tensor '\(name)' missing or of another shape")
            }
            t.assign(src)
        }
        func indexed(_ prefix: String) throws -> [Int: Tensor] {
            var out: [Int: Tensor] = [:]
            for (k, t) in tensors where k.hasPrefix(prefix) {
                guard let i = Int(k.dropFirst(prefix.count)), i >= 0, i < params.count, t.count == params.tensor(i).count || t.count == 1 else {
                    throw DataError(description: "checkpoint: bad optimizer state '\(k)'")
                }
                out[i] = t.copy()
            }
            return out
        }
        state.momentum = try indexed("zo.momentum.")
        state.adamM = try indexed("zo.adam_m.")
        state.adamV = try indexed("zo.adam_v.")
        state.adamT = try indexed("zo.adam_t.").mapValues { Int($0.scalars[0]) }
        if let fo = foOptimizer {
            var own: [String: Tensor] = [:]
            for (k, t) in tensors where k.hasPrefix("fo.") { own[String(k.dropFirst(3))] = t }
            try fo.loadState(own)
        }
    }
}

/// Training stopped at `step` because a value was not finite (too high a learning rate, usually).
public struct TrainingStopped: Error, CustomStringConvertible {
    public let step: Int
    public let what: String
    public var description: String { "stopped at step \(step): \(what); nothing of that step was applied (a lower --lr?)" }
}
