// What the subcommands share: data sources, the training options, and the epoch loop with model
// selection on a validation split, checkpoints and the run log.
import ArgumentParser
import Foundation
import NDKDCore
import Runtime
import RuntimeCLI

let program = "nd-kd"

func loadOrExit<T>(_ path: String, _ body: () throws -> T) -> T {
    do { return try body() } catch { fatalLoad(program: program, path: path, problem: "\(error)") }
}

/// A labelled set: an IDX directory (with `split`) or a JSONL file of image records ('-': stdin).
/// JSONL needs the input shape: the model's, or the first record's "shape". With `input` (a model's) the
/// images must have that shape; with `classes` every label must be below it. An empty set is an error.
func readSet(_ path: String, split: String, input: [Int]?, classNames: [String]?, classes: Int? = nil) -> ImageSet {
    let set = readAnySet(path, split: split, input: input, classNames: classNames)
    if set.count == 0 { fatalLoad(program: program, path: path, problem: "no images") }
    if let input, set.shape != input { fatalLoad(program: program, path: path, problem: "images of shape \(set.shape), the model takes \(input)") }
    if let classes, let bad = set.labels.first(where: { $0 >= classes }) {
        fatalLoad(program: program, path: path, problem: "label \(bad) is beyond the model's \(classes) classes")
    }
    return set
}

private func readAnySet(_ path: String, split: String, input: [Int]?, classNames: [String]?) -> ImageSet {
    var isDir: ObjCBool = false
    if path != "-" && FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue {
        return loadOrExit(path) { try ImageSet.idxDirectory(path, split: split) }
    }
    return loadOrExit(path) {
        let text = path == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                               : try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var shape = input
        if shape == nil, let first = lines.first(where: { !$0.isEmpty }) {
            shape = try Record(parsing: first).ints("shape")
        }
        guard let shape, shape.count == 3 || shape.count == 2 else { throw DataError(description: "the first record needs a \"shape\" [C, H, W]") }
        let input = shape.count == 2 ? [1] + shape : shape
        guard input.allSatisfy({ (1...4096).contains($0) }) else { throw DataError(description: "image shape \(input): sides must be in 1…4096") }
        return try labelledSet(lines: lines, path: path, input: input, classNames: classNames)
    }
}

/// Class names: a preset ("fashion-mnist"), a file (one per line) or a comma-separated list; default
/// the indices "0"… for `count` classes.
func resolveClassNames(_ given: String?, count: Int) -> [String] {
    guard let given else { return (0..<count).map(String.init) }
    if given == "fashion-mnist" { return fashionMNISTClasses }
    return readNameList(given)
}

struct TrainingFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Training images: an IDX directory (e.g. /usr/share/datasets/fashion-mnist) or JSONL image records ('-': stdin).", valueName: "path"))
    var data: String
    @Option(help: "Split of an IDX directory to train on (train or test).")
    var split = "train"
    @Option(help: ArgumentHelp("Test images, evaluated once with the kept model at the end.", valueName: "path"))
    var test: String?
    @Option(help: "Share of the training images held out for model selection (the best epoch by validation accuracy is kept; 0: the last).")
    var valSplit: Double = 0.1
    @Option(help: "Train on a class-balanced subset of N images of the training part (0: all).")
    var subset = 0
    @Option(help: "Class names: fashion-mnist, a file (one per line) or a comma-separated list (default: the indices).")
    var classNames: String?
    @Option(help: "Passes over the training data.")
    var epochs = 240
    @Option(help: "Images per step (the reference's effective batch: 64 per GPU × 2).")
    var trainBatch = 128
    @Option(help: "SGD learning rate (Nesterov momentum 0.9).")
    var lr: Float = 0.1
    @Option(help: "Weight decay, on every parameter as the reference.")
    var weightDecay: Float = 5e-4
    @Option(help: "Epochs (0-based) at which the rate is multiplied by --gamma, comma-separated.")
    var milestones = "150,180,210"
    @Option(help: "Rate multiplier at each milestone.")
    var gamma: Float = 0.1
    @Option(help: "Zero padding before the random crop (0: no crop; the teacher's outputs are then cached per view).")
    var padding = 4
    @Flag(help: "No random horizontal flips.")
    var noFlip = false

    func validate() throws {
        guard (1...100_000).contains(epochs), trainBatch >= 2, subset >= 0, (0...1024).contains(padding) else { throw ValidationError("--epochs must be in 1…100000, --train-batch at least 2 (BatchNorm), --subset not negative, --padding in 0…1024") }
        guard lr > 0 && lr.isFinite, weightDecay >= 0, gamma > 0 else { throw ValidationError("--lr and --gamma must be positive, --weight-decay not negative") }
        guard (0..<1).contains(valSplit) else { throw ValidationError("--val-split must be in [0, 1)") }
        guard parsedMilestones != nil else { throw ValidationError("--milestones must be comma-separated epochs") }
    }

    var parsedMilestones: [Int]? {
        if milestones.isEmpty { return [] }
        let v = milestones.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return v.contains(nil) ? nil : v.compactMap { $0 }
    }

    func apply(_ o: inout TrainOptions, seed: UInt64) {
        (o.epochs, o.batch, o.lr, o.weightDecay, o.milestones, o.gamma) = (epochs, trainBatch, lr, weightDecay, parsedMilestones ?? [], gamma)
        o.augmentation = Augmentation(padding: padding, flip: !noFlip)
        o.seed = seed
    }

    var identity: [String: JSONValue] {
        ["data": .string(data), "split": .string(split), "val_split": JSONValue.finite(valSplit), "subset": .number(JSONNumber(subset)),
         "epochs": .number(JSONNumber(epochs)), "train_batch": .number(JSONNumber(trainBatch)), "lr": JSONValue.finite(Double(lr)),
         "weight_decay": JSONValue.finite(Double(weightDecay)), "milestones": .string(milestones), "gamma": JSONValue.finite(Double(gamma)),
         "padding": .number(JSONNumber(padding)), "flip": .bool(!noFlip)]
    }

    /// The training part, the validation part (disjoint), both from --data.
    func sets(input: [Int]?, names: [String]?, classes: Int? = nil, seed: UInt64) -> (train: ImageSet, val: ImageSet?) {
        let all = readSet(data, split: split, input: input, classNames: names, classes: classes)
        let order = RandomGenerator(seed: seed, stream: 0xDE5).permutation(all.count)
        let held = Int((Double(all.count) * valSplit).rounded(.down))
        var train = Array(order.prefix(all.count - held)).sorted()
        if subset > 0 && subset < train.count {
            let k = (all.labels.max() ?? 0) + 1, per = subset / k
            var taken = [Int](repeating: 0, count: k), picked: [Int] = []
            for i in RandomGenerator(seed: seed, stream: 0xBA1).permutation(train.count).map({ train[$0] }) where taken[all.labels[i]] < per {
                taken[all.labels[i]] += 1
                picked.append(i)
            }
            train = picked.sorted()
        }
        return (all.subset(train), held > 0 ? all.subset(Array(order.suffix(held)).sorted()) : nil)
    }
}

/// How a training run that failed ends: a file that cannot be read exits 2 naming it, a training problem
/// (a loss that is not finite, a checkpoint of another run) exits 1, anything else is --out not writable (2).
func exitForTrainingError(_ error: Error, out: String) throws -> Never {
    switch error {
    case let e as LoadError: fatalLoad(program: program, e)
    case let e as NDKDError:
        printError(program: program, "\(e)")
        throw ExitCode(1)
    default: fatalLoad(program: program, path: out, problem: "\(error)")
    }
}


extension EvalReport {
    var json: JSONValue {
        var o: JSONObject = ["count": .number(JSONNumber(count)), "top1": JSONValue.finite(top1), "top5": JSONValue.finite(top5), "loss": JSONValue.finite(loss)]
        if let normRatio { o["norm_ratio"] = JSONValue.finite(normRatio) }
        if let cosine { o["cos_class_direction"] = JSONValue.finite(cosine) }
        return .object(o)
    }
}

/// The epoch loop both `teacher` and `train` run: a step per batch logged, validation after every
/// epoch (the best kept in --out), a checkpoint every N steps and at the end, then the test set once.
/// `save` writes the kept model; `finish` runs once training is over (a teacher's class means).
func trainLoop(_ trainer: Trainer, model: NDModel, val: ImageSet?, test: String?, testSplit: String, names: [String],
               run: RunDirectory, checkpointEvery every: Int, common: CommonOptions, teacherForStats: NDModel?, finish: (NDModel) throws -> Void) throws {
    var best = -Double.infinity, bestEpoch = 0
    if let (info, tensors) = run.resumed {
        do { try trainer.loadState(tensors, steps: info.step) } catch {
            throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "\(error)")
        }
        if let b = try info.extra["best"]?.numberValue?.double() { best = b }
        if let e = try info.extra["best_epoch"]?.numberValue?.int() { bestEpoch = e }
    }
    // The teacher is fixed: its embeddings of the validation images are computed once.
    var valTeacher: Tensor? = nil
    if let t = teacherForStats, let val { valTeacher = teacherEmbeddings(t, val) }
    let log = try RunLog(path: run.file("log.jsonl"), keep: run.keptLines("log.jsonl"), program: program, progress: common.showsProgress())
    func checkpoint() throws {
        try log.file.sync()
        try run.saveCheckpoint(trainer.stateTensors(), info: CheckpointInfo(step: trainer.stepsDone, lines: ["log.jsonl": log.lines],
                                                                           extra: ["best": JSONValue.finite(best), "best_epoch": .number(JSONNumber(bestEpoch))]))
    }
    while trainer.stepsDone < trainer.totalSteps {
        let r = try trainer.step()
        var e = LogEntry()
        e.set("step", int: r.step)
        e.set("epoch", int: r.epoch)
        e.set("loss", r.loss)
        e.set("ce", r.ce)
        if trainer.teacher != nil { e.set("kd", r.kd); e.set("nd", r.nd) }
        e.set("train_accuracy", r.accuracy)
        e.set("lr", r.lr)
        try log.write(e, progress: "step \(r.step)/\(trainer.totalSteps) epoch \(r.epoch) loss \(String(format: "%.4f", r.loss))")
        if r.step % trainer.stepsPerEpoch == 0 {
            var m = LogEntry()
            m.set("epoch", int: r.epoch)
            if let val {
                let v = evaluate(model, val, teacher: teacherForStats, projector: trainer.projector, teacherEmbeddings: valTeacher)
                m.set("val_top1", v.top1)
                m.set("val_loss", v.loss)
                if let x = v.normRatio { m.set("val_norm_ratio", x) }
                if let x = v.cosine { m.set("val_cos", x) }
                if v.top1 > best {
                    (best, bestEpoch) = (v.top1, r.epoch)
                    try NDModelFiles.save(model, to: run.path)
                    if let p = trainer.projector { try NDModelFiles.saveProjector(p, to: run.path) }
                    m.set("best", int: 1)
                }
                try log.write(m, progress: "epoch \(r.epoch): validation top-1 \(String(format: "%.4f", v.top1))")
            } else {
                try NDModelFiles.save(model, to: run.path)
                if let p = trainer.projector { try NDModelFiles.saveProjector(p, to: run.path) }
                try log.write(m, progress: "epoch \(r.epoch)")
            }
        }
        if r.step % every == 0 { try checkpoint() }
    }
    try checkpoint()
    log.finish()
    var kept = try NDModelFiles.load(run.path)
    try finish(kept)
    kept = try NDModelFiles.load(run.path)
    if !common.quiet && val != nil { printError(program: program, "kept epoch \(bestEpoch) (validation top-1 \(String(format: "%.4f", best)))") }
    if let test {
        let set = readSet(test, split: testSplit, input: kept.config.input, classNames: names, classes: kept.config.classes)
        let r = evaluate(kept, set, teacher: teacherForStats, projector: try NDModelFiles.loadProjector(run.path, from: kept.config.arch.embeddingWidth))
        var line = r.json
        if case .object(var o) = line { o["set"] = "test"; o["epoch"] = .number(JSONNumber(bestEpoch)); line = .object(o) }
        var w = JSONWriter()
        w.write(line)
        try writeFile(String(decoding: w.bytes, as: UTF8.self) + "\n", to: run.file("test.json"))
        if !common.quiet { printError(program: program, "test top-1 \(String(format: "%.4f", r.top1)) on \(r.count) images") }
    }
}
