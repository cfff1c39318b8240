// `labo train`: the association matrix over the selected concepts.
import ArgumentParser
import Foundation
import LaboCore
import Runtime
import RuntimeCLI

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the class–concept association of a concept bottleneck.",
        discussion: """
        Reads the selected concepts ({class: [concepts]}, `labo select`'s output or LaBo's \
        selected_concepts/<DS>.json), their text features and the labelled image features. W [K, N] \
        starts at --init-val on each concept's own class and 0 elsewhere; logits are \
        100 · (x·Cᵀ) · softmax(W)ᵀ (features raw as the reference; --feature-norm L2-normalizes both \
        sides); Adam on W alone, batches in a fresh order each epoch. The validation set is scored every \
        --eval-every epochs and the best epoch by accuracy (the first of equals) is kept; without one the \
        last. The reference's settings vary per data set and shots (lr 1e-5 to 1e-3, batch 2 to 2048, \
        1,000 to 20,000 epochs). Writes labo.json, labo.safetensors (asso_mat, concepts), log.jsonl (a \
        line per --eval-every epochs) and checkpoints at the first epoch end after every \
        --checkpoint-every steps (--resume).
        """)

    @Option(help: ArgumentHelp("Selected concepts per class (JSON).", valueName: "file"))
    var selected: String
    @Option(help: ArgumentHelp("The concepts' text features (JSON Lines with text and embedding).", valueName: "file"))
    var conceptEmbeddings: String
    @Option(help: ArgumentHelp("Training image features with labels.", valueName: "file"))
    var data: String
    @Option(help: ArgumentHelp("Validation image features with labels (model selection).", valueName: "file"))
    var validation: String?
    @Option(help: "Passes over the training images.")
    var epochs = 5000
    @Option(help: "Images per step.")
    var trainBatch = 32
    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-4
    @Option(help: "Epochs between validation scores.")
    var evalEvery = 10
    @Option(help: "Initial association of a concept with its own class.")
    var initVal: Float = 1
    @Flag(help: "L2-normalize image and concept features (for encoders other than CLIP; the reference uses raw features).")
    var featureNorm = false
    @Option(help: "Input field with the feature vector.")
    var field = "embedding"
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard epochs >= 1, trainBatch >= 1, evalEvery >= 1, lr > 0, initVal.isFinite else {
            throw ValidationError("--epochs, --train-batch and --eval-every must be at least 1, --lr positive")
        }
    }

    func run() throws {
        common.apply()
        let (classes, names, owner) = orExit(selected) { try readSelectedConcepts(selected) }
        let vectors = orExit(conceptEmbeddings) { try conceptVectors(names, from: conceptEmbeddings) }
        let train = orExit(data) { try labelledFeatures(data, classes: classes, field: field) }
        let val = validation.map { v in orExit(v) { try labelledFeatures(v, classes: classes, field: field) } }
        for (path, f) in [(data, train.features), (validation ?? "", val?.features ?? [])] where f.first.map({ $0.count != vectors[0].count }) ?? false {
            fatalLoad(program: "labo", path: path, problem: "features of width \(f[0].count), concept features of \(vectors[0].count): use one model for both")
        }
        let model = ConceptBottleneck(classes: classes, conceptNames: names, conceptClass: owner, conceptVectors: vectors, initVal: initVal, featureNorm: featureNorm)
        var o = BottleneckTrainOptions()
        (o.epochs, o.batch, o.lr, o.evalEvery, o.seed) = (epochs, trainBatch, lr, evalEvery, common.seed)
        do {
            let training = try BottleneckTraining(model: model, features: train.features, targets: train.targets, options: o)
            func n(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }
            // What the run depends on: the concept list and the data, by digest (a resumed run with other
            // files of the same sizes is refused).
            var h = FNV1a()
            for name in names { h.add(name) }
            for v in train.features { h.add(v) }
            for v in val?.features ?? [] { h.add(v) }
            let identity: JSONValue = .object(["classes": .array(classes.map { .string($0) }), "concepts": n(names.count), "digest": .string(h.hex), "train": n(train.features.count),
                                               "validation": n(val?.features.count ?? 0), "epochs": n(epochs), "train_batch": n(trainBatch),
                                               "lr": JSONValue.finite(Double(lr)), "init_val": JSONValue.finite(Double(initVal)),
                                               "feature_norm": .bool(featureNorm), "eval_every": n(evalEvery), "seed": n(Int(common.seed & ((1 << 53) - 1)))])
            let run = try RunDirectory(directory, program: "labo", files: [LaboFiles.configName, LaboFiles.weightsName, "log.jsonl"], runOptions: identity)
            var best = -Double.infinity, bestEpoch = 0
            if let (info, tensors) = run.resumed {
                do { try training.loadState(tensors, steps: info.step) } catch { throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "\(error)") }
                if let b = try info.extra["best"]?.numberValue?.double() { best = b }
                if let e = try info.extra["best_epoch"]?.numberValue?.int() { bestEpoch = e }
            }
            let log = try RunLog(path: run.file("log.jsonl"), keep: run.keptLines("log.jsonl"), program: "labo", progress: common.showsProgress())
            func checkpoint() throws {
                try log.file.sync()
                try run.saveCheckpoint(training.stateTensors(), info: CheckpointInfo(step: training.stepsDone, lines: ["log.jsonl": log.lines],
                                                                                     extra: ["best": JSONValue.finite(best), "best_epoch": n(bestEpoch)]))
            }
            var epochLoss = 0.0, lastCheckpoint = training.stepsDone
            let valScores = val.map { model.scores(Tensor(shape: [$0.features.count, model.width], scalars: Array($0.features.joined()))) }
            while training.stepsDone < training.totalSteps {
                epochLoss += Double(try training.step())
                let s = training.stepsDone
                guard s % training.stepsPerEpoch == 0 else { continue }
                let epoch = s / training.stepsPerEpoch
                var e = LogEntry()
                e.set("epoch", int: epoch)
                e.set("loss", epochLoss / Double(training.stepsPerEpoch))
                epochLoss = 0
                if let val, epoch % evalEvery == 0 || epoch == epochs {
                    let r = evaluateBottleneck(model, scores: valScores!, labels: val.labels)
                    e.set("val_accuracy", r.accuracy)
                    e.set("val_macro_accuracy", r.macroAccuracy)
                    e.set("val_loss", r.loss)
                    if r.accuracy > best {
                        (best, bestEpoch) = (r.accuracy, epoch)
                        try LaboFiles.save(model, to: run.path)
                        e.set("best", int: 1)
                    }
                    try log.write(e, progress: "epoch \(epoch)/\(epochs) val accuracy \(String(format: "%.4f", r.accuracy))")
                } else if epoch % evalEvery == 0 || epoch == epochs {
                    try log.write(e, progress: "epoch \(epoch)/\(epochs)")
                }
                // Checkpoints at epoch ends (the epoch's mean loss is logged whole), once --checkpoint-every steps have passed.
                if s - lastCheckpoint >= directory.checkpointEvery || epoch == epochs {
                    try checkpoint()
                    lastCheckpoint = s
                }
            }
            log.finish()
            if val == nil { try LaboFiles.save(model, to: run.path) }
            if !common.quiet {
                printError(program: "labo", val == nil ? "kept the last epoch (no validation set)" : "kept epoch \(bestEpoch) (validation accuracy \(String(format: "%.4f", best)))")
            }
        } catch let e as LoadError {
            fatalLoad(program: "labo", e)
        } catch let e as LaboError {
            printError(program: "labo", "\(e)")
            throw ExitCode(1)
        }
    }
}
