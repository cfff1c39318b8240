// `zo train` as a durable run (RunDirectory): log.jsonl and trajectory.jsonl grow by one line per step;
// every --checkpoint-every steps the trained tensors and the optimizer state go into
// checkpoint.safetensors with the step and the line counts behind it; --resume after a kill cuts the
// two files back to the checkpoint and goes on from there, reaching the weights of an uninterrupted run
// bit for bit (batches, directions and masks all come from (seed, step)). The run ends with
// trained.safetensors and zo_model.json (and PEFT's adapter files for LoRA).
import Foundation
import Runtime
import RuntimeCLI

/// Everything a run's result depends on (what --resume must find unchanged).
public struct TrainRunConfig {
    public var spec: RunSpec
    public var options: TrainOptions
    public var schedule: String
    public var trainPath: String, devPath: String
    public var trainCount: Int, devCount: Int

    public init(spec: RunSpec, options: TrainOptions, schedule: String, trainPath: String, devPath: String, trainCount: Int, devCount: Int) {
        (self.spec, self.options, self.schedule) = (spec, options, schedule)
        (self.trainPath, self.devPath, self.trainCount, self.devCount) = (trainPath, devPath, trainCount, devCount)
    }

    public var json: JSONValue {
        let o = options
        func f(_ v: Float) -> JSONValue { .number(JSONNumber(v) ?? JSONNumber(0)) }
        return .object([
            "spec": spec.json, "optimizer": .string(o.rule.optimizer.rawValue), "lr": f(o.lr), "eps": f(o.eps),
            "steps": .number(JSONNumber(o.steps)), "batch": .number(JSONNumber(o.batch)), "q": .number(JSONNumber(o.q)),
            "one_sided": .bool(o.oneSided), "weight_decay": f(o.rule.weightDecay), "momentum": f(o.rule.momentum),
            "schedule": .string(schedule), "seed": .number(JSONNumber(Int(o.seed & ((1 << 53) - 1)))),
            "eval_every": .number(JSONNumber(o.evalEvery)), "blockwise": .string(o.blockwise?.rawValue ?? "none"),
            "sparsity": f(o.sparsity), "sparsity_magnitude": .bool(o.sparsityMagnitude), "sparsity_every": .number(JSONNumber(o.sparsityEvery)),
            "hybrid_layers": o.hybridLayers.map { .number(JSONNumber($0)) } ?? .null,
            "max_cpu": o.maxCPUSeconds.flatMap { JSONNumber($0) }.map { .number($0) } ?? .null,
            "train": .string(trainPath), "dev": .string(devPath),
            "train_count": .number(JSONNumber(trainCount)), "dev_count": .number(JSONNumber(devCount)),
        ])
    }
}

/// The files a zo run writes into --out.
public let zoRunFiles = ["log.jsonl", "trajectory.jsonl", "trained.safetensors", "zo_model.json", "adapter"]

/// Trains `task` as `config` says, in `directory`. Throws TrainingStopped (after writing what exists)
/// when a value goes non-finite.
///
/// Distributed (`collective` of more than one rank): rank 0 owns the directory (log, trajectory,
/// checkpoints, the model); the other ranks read its checkpoint when resuming and write nothing. The
/// ranks check that they start from the same weights and step, and end with the same weights.
public func trainRun(_ task: TaskModel, config: TrainRunConfig, train: [Example], dev: [Example],
                     directory: RunDirectoryOptions, progress: Bool, collective: Collective = SoloCollective()) throws {
    let leader = collective.rank == 0
    let run = leader ? try RunDirectory(directory, program: "zo", files: zoRunFiles, runOptions: config.json) : nil
    let trainer = Trainer(task: task, options: config.options)
    trainer.collective = collective
    if collective.size > 1 { _ = collective.allReduceSum([0]) }  // rank 0 has set the directory up
    let resumed = try run.map { $0.resumed } ?? (directory.resume ? RunDirectory.readCheckpoint(directory, program: "zo", runOptions: config.json) : nil)
    let checkpointPath = (directory.out as NSString).appendingPathComponent(RunDirectory.checkpointName)
    var first = 0, cpuBefore = 0.0
    if let (info, tensors) = resumed {
        do { try trainer.loadState(tensors) } catch { throw LoadError(path: checkpointPath, problem: "\(error)") }
        first = info.step
        cpuBefore = ((try? info.extra["cpu_seconds"]?.numberValue?.double()) ?? nil) ?? 0
    }
    if collective.size > 1 { try agree(collective, step: first, trainer: trainer, trainCount: train.count, devCount: dev.count) }
    let log = try run.map { try RunLog(path: $0.file("log.jsonl"), keep: $0.keptLines("log.jsonl"), program: "zo", progress: progress) }
    let trajectory = try run.map { try AppendFile(path: $0.file("trajectory.jsonl"), keep: $0.keptLines("trajectory.jsonl")) }
    if let trajectory, trajectory.lines == 0 {
        let header = TrajectoryHeader(spec: config.spec, rule: config.options.rule, trained: trainer.params.named.map(\.0),
                                      blocks: trainer.blockIndices, hybridLayers: config.options.hybridLayers, sparsity: trainer.params.sparsity)
        try trajectory.append(header.json.jsonText)
    }
    var lastCPU = cpuBefore, done = first
    func checkpoint() throws {
        guard let run, let log, let trajectory else { return }
        try log.file.sync()
        try trajectory.sync()
        try run.saveCheckpoint(trainer.stateTensors(),
                               info: CheckpointInfo(step: done, lines: ["log.jsonl": log.lines, "trajectory.jsonl": trajectory.lines],
                                                    extra: .object(["cpu_seconds": .number(JSONNumber(lastCPU) ?? JSONNumber(0))])))
    }
    do {
        try trainer.run(train: train, dev: dev, from: first, cpuBefore: cpuBefore) { e, line in
            var entry = LogEntry()
            entry.set("step", int: e.step)
            entry.set("loss", e.loss)
            entry.set("projected_grad", e.projected)
            entry.set("lr", e.lr)
            entry.set("seconds", (e.seconds * 100).rounded() / 100)
            entry.set("cpu_seconds", (e.cpuSeconds * 100).rounded() / 100)
            if let a = e.devAccuracy { entry.set("dev_accuracy", a) }
            if let b = e.exchangedBytes { entry.set("exchanged_bytes", int: b) }
            try log?.write(entry, progress: e.step % 10 == 0 || e.devAccuracy != nil
                          ? "step \(e.step)/\(config.options.steps) loss \(String(format: "%.4f", e.loss))\(e.devAccuracy.map { String(format: " dev %.3f", $0) } ?? "")" : nil)
            if let line { try trajectory?.append(line.json.jsonText) }
            (done, lastCPU) = (e.step, e.cpuSeconds)
            if done % directory.checkpointEvery == 0 { try checkpoint() }
        }
    } catch let stop as TrainingStopped {
        // What exists so far: the checkpoint of the last good step, and the model at that step.
        log?.finish()
        try checkpoint()
        var extra: [String: JSONValue] = ["optimizer": .string(config.options.rule.optimizer.rawValue),
                                          "steps": .number(JSONNumber(done)), "stopped": .string(stop.description)]
        if collective.size > 1 { extra["ranks"] = .number(JSONNumber(collective.size)) }
        if let run { try saveRun(task, spec: config.spec, to: run.path, extra: extra) }
        throw stop
    }
    log?.finish()
    var extra: [String: JSONValue] = ["optimizer": .string(config.options.rule.optimizer.rawValue), "steps": .number(JSONNumber(done))]
    if collective.size > 1 {
        let digests = try agreeOnWeights(collective, trainer: trainer)
        extra["ranks"] = .number(JSONNumber(collective.size))
        extra["weight_digest"] = .string(String(format: "%016llx", digests))
    }
    try checkpoint()
    if let run { try saveRun(task, spec: config.spec, to: run.path, extra: extra) }
}

/// Ranks diverged or were started on different inputs.
public struct RanksDisagree: Error, CustomStringConvertible {
    public let description: String
}

/// Every rank's (high, low) halves of a 64-bit value, gathered.
func gather64(_ c: Collective, _ v: UInt64) -> [UInt64] {
    let hi = c.gather(Double(v >> 32)), lo = c.gather(Double(v & 0xFFFF_FFFF))
    return zip(hi, lo).map { UInt64($0) << 32 | UInt64($1) }
}

/// Before the first step: the same step to start from, the same data sizes and the same weights on
/// every rank (a rank given another model or data file would otherwise train on silently).
func agree(_ c: Collective, step: Int, trainer: Trainer, trainCount: Int, devCount: Int) throws {
    for (what, v) in [("start step", step), ("training examples", trainCount), ("development examples", devCount)] {
        let all = c.gather(Double(v))
        if Set(all).count > 1 { throw RanksDisagree(description: "the ranks disagree on the \(what): \(all.map { Int($0) })") }
    }
    let digests = gather64(c, weightDigest(trainer.params.named.map(\.1)))
    if Set(digests).count > 1 {
        throw RanksDisagree(description: "the ranks start from different weights (digests \(digests.map { String(format: "%016llx", $0) })): same --model, --seed and data on every rank?")
    }
}

/// After the last step: every rank must hold bit-identical weights; returns their digest.
func agreeOnWeights(_ c: Collective, trainer: Trainer) throws -> UInt64 {
    let digests = gather64(c, weightDigest(trainer.params.named.map(\.1)))
    guard Set(digests).count == 1 else {
        throw RanksDisagree(description: "the ranks' final weights differ (digests \(digests.map { String(format: "%016llx", $0) }))")
    }
    return digests[0]
}
