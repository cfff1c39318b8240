// What the subcommands share: data loading with clean exits, the training options, the training loop.
import ArgumentParser
import Foundation
import ProKDCore
import Runtime
import RuntimeCLI

extension PrototypeGranularity: ExpressibleByArgument {}
extension PrototypeDistance: ExpressibleByArgument {}
extension WordAggregation: ExpressibleByArgument {}

func fail(_ path: String, _ error: Error) -> Never { fatalLoad(program: "prokd", path: path, problem: "\(error)") }

/// Sentences of a file ('-': stdin); `tags` false never reads a tag (target training data).
func readSentences(_ path: String, tags: Bool, limit: Int = 0) -> [TaggedSentence] {
    do {
        let s = try readTaggedSentences(path: path == "-" ? "/dev/stdin" : path, readTags: tags)
        return limit > 0 ? Array(s.prefix(limit)) : s
    } catch { fail(path, error) }
}

struct TrainingFlags: ParsableArguments {
    @Option(help: "Passes over the training sentences (TSL: 3).")
    var epochs = 3

    @Option(help: "Sentences per optimizer step (TSL: 32).")
    var trainBatch = 32

    @Option(help: "AdamW weight decay (not on biases and LayerNorm weights).")
    var weightDecay: Float = 0.01

    @Option(help: "Share of the steps spent warming the learning rate up linearly (then linear decay to 0).")
    var warmupRatio: Double = 0.1

    @Option(help: "Clip the gradients to this global norm.")
    var maxGradNorm: Float = 1.0

    @Option(help: "Tokens per sentence, special tokens included (TSL: 128); words past it are not trained on and are tagged O.")
    var maxLength = 128

    func validate() throws {
        guard epochs >= 1, trainBatch >= 1 else { throw ValidationError("--epochs and --train-batch must be at least 1") }
        guard (0...1).contains(warmupRatio), maxGradNorm > 0, weightDecay >= 0 else { throw ValidationError("--warmup-ratio must be in [0, 1], --max-grad-norm positive") }
        guard maxLength >= 2 else { throw ValidationError("--max-length must be at least 2") }
    }

    func options(lr: Float, seed: UInt64) -> TrainOptions {
        var o = TrainOptions()
        (o.epochs, o.batch, o.lr, o.weightDecay, o.warmupRatio, o.maxGradNorm, o.seed) = (epochs, trainBatch, lr, weightDecay, warmupRatio, maxGradNorm, seed)
        return o
    }

    var json: [(String, JSONValue)] {
        [("epochs", .number(JSONNumber(epochs))), ("train_batch", .number(JSONNumber(trainBatch))), ("weight_decay", .finite(Double(weightDecay))),
         ("warmup_ratio", .finite(warmupRatio)), ("max_grad_norm", .finite(Double(maxGradNorm))), ("max_length", .number(JSONNumber(maxLength)))]
    }
}

func identity(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs.map { .init(key: $0.0, value: $0.1) })) }

/// Steps until the end with a log line per step, a checkpoint every `every` steps, and after every
/// epoch either the dev set scored (the best model by entity F1 kept) or, without one, the model saved.
func trainToEnd(_ training: TaggerTraining, step: () throws -> StepReport, bundle: TaggerBundle, dev: [TaggedSentence],
                run: RunDirectory, every: Int, common: CommonOptions) throws {
    var best = -Double.infinity, bestEpoch = 0
    if let (info, tensors) = run.resumed {
        do { try training.loadState(tensors, steps: info.step) } catch {
            throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "\(error)")
        }
        if let b = try info.extra["best"]?.numberValue?.double() { best = b }
        if let e = try info.extra["best_epoch"]?.numberValue?.int() { bestEpoch = e }
    }
    let log = try RunLog(path: run.file("log.jsonl"), keep: run.keptLines("log.jsonl"), program: "prokd", progress: common.showsProgress())
    func checkpoint() throws {
        try log.file.sync()
        try run.saveCheckpoint(training.stateTensors(), info: CheckpointInfo(step: training.stepsDone, lines: ["log.jsonl": log.lines],
                                                                             extra: ["best": .finite(best), "best_epoch": .number(JSONNumber(bestEpoch))]))
    }
    while training.stepsDone < training.totalSteps {
        let r = try step()
        var e = LogEntry()
        e.set("step", int: r.step)
        e.set("epoch", int: r.epoch)
        e.set("loss", r.loss)
        for (k, v) in r.parts { e.set(k, v) }
        e.set("grad_norm", r.gradNorm)
        e.set("lr", r.lr)
        try log.write(e, progress: "step \(r.step)/\(training.totalSteps) epoch \(r.epoch) loss \(String(format: "%.4f", r.loss))")
        if r.step % training.stepsPerEpoch == 0 || r.step == training.totalSteps {
            if dev.isEmpty {
                try TaggerFiles.save(bundle, to: run.path)
            } else {
                let (s, _) = try evaluate(bundle, dev, batch: common.batch)
                var m = LogEntry()
                m.set("epoch", int: r.epoch)
                m.set("dev_f1", s.f1)
                m.set("dev_precision", s.precision)
                m.set("dev_recall", s.recall)
                if s.f1 > best {
                    (best, bestEpoch) = (s.f1, r.epoch)
                    try TaggerFiles.save(bundle, to: run.path)
                    m.set("best", int: 1)
                }
                try log.write(m, progress: "epoch \(r.epoch): dev F1 \(String(format: "%.4f", s.f1))")
            }
        }
        if r.step % every == 0 { try checkpoint() }
    }
    log.finish()
    try checkpoint()
    if !common.quiet && !dev.isEmpty { printError(program: "prokd", "kept epoch \(bestEpoch) (dev F1 \(String(format: "%.4f", best)))") }
}

/// `body` on an input file (or its sentence `i`); its data errors become load errors naming the file
/// (exit 2).
func wrapInput<T>(_ path: String, sentence i: Int? = nil, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ProKDError {
        throw LoadError(path: path, problem: i.map { "sentence \($0 + 1): \(e)" } ?? "\(e)")
    }
}

/// Runs `body`, turning errors into the program's exits (load problems 2, the rest 1).
func exitOnError(_ out: String, _ body: () throws -> Void) throws {
    do { try body() } catch let e as LoadError {
        fatalLoad(program: "prokd", e)
    } catch let e as ProKDError {
        printError(program: "prokd", "\(e)")
        throw ExitCode(1)
    } catch let e as CheckpointError {
        fatalLoad(program: "prokd", path: out, problem: "\(e)")
    } catch {
        fatalLoad(program: "prokd", path: out, problem: "cannot write: \(error)")
    }
}
