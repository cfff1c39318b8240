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
public func trainRun(_ task: TaskModel, config: TrainRunConfig, train: [Example], dev: [Example],
                     directory: RunDirectoryOptions, progress: Bool) throws {
    let run = try RunDirectory(directory, program: "zo", files: zoRunFiles, runOptions: config.json)
    let trainer = Trainer(task: task, options: config.options)
    var first = 0, cpuBefore = 0.0
    if let (info, tensors) = run.resumed {
        do { try trainer.loadState(tensors) } catch { throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "\(error)") }
        first = info.step
        cpuBefore = ((try? info.extra["cpu_seconds"]?.numberValue?.double()) ?? nil) ?? 0
    }
    let log = try RunLog(path: run.file("log.jsonl"), keep: run.keptLines("log.jsonl"), program: "zo", progress: progress)
    let trajectory = try AppendFile(path: run.file("trajectory.jsonl"), keep: run.keptLines("trajectory.jsonl"))
    if trajectory.lines == 0 {
        let header = TrajectoryHeader(spec: config.spec, rule: config.options.rule, trained: trainer.params.named.map(\.0),
                                      blocks: trainer.blockIndices, hybridLayers: config.options.hybridLayers, sparsity: trainer.params.sparsity)
        try trajectory.append(header.json.jsonText)
    }
    var lastCPU = cpuBefore, done = first
    func checkpoint() throws {
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
            try log.write(entry, progress: e.step % 10 == 0 || e.devAccuracy != nil
                          ? "step \(e.step)/\(config.options.steps) loss \(String(format: "%.4f", e.loss))\(e.devAccuracy.map { String(format: " dev %.3f", $0) } ?? "")" : nil)
            if let line { try trajectory.append(line.json.jsonText) }
            (done, lastCPU) = (e.step, e.cpuSeconds)
            if done % directory.checkpointEvery == 0 { try checkpoint() }
        }
    } catch let stop as TrainingStopped {
        // What exists so far: the checkpoint of the last good step, and the model at that step.
        log.finish()
        try checkpoint()
        try saveRun(task, spec: config.spec, to: run.path, extra: ["optimizer": .string(config.options.rule.optimizer.rawValue),
                                                                  "steps": .number(JSONNumber(done)), "stopped": .string(stop.description)])
        throw stop
    }
    log.finish()
    try checkpoint()
    try saveRun(task, spec: config.spec, to: run.path, extra: ["optimizer": .string(config.options.rule.optimizer.rawValue),
                                                              "steps": .number(JSONNumber(done))])
}
