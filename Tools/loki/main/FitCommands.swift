// `loki fit` (train a small classifier on feature vectors) and `loki synth` (the paper's synthetic data).
import ArgumentParser
import Foundation
import LokiCore
import Runtime
import RuntimeCLI

struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a softmax-regression (or MLP) classifier on feature vectors of the observed classes.",
        discussion: """
        Reads records with `features` (an array of numbers) and a gold `label`; trains on those whose \
        label is in --observed (all labels seen when it is not given; records of other classes are \
        skipped and counted), with Adam, on standardized features. --loss loki trains through Loki's \
        rule instead of plain cross-entropy: CE of −softmax(z)·D² over all classes of --metric, as the \
        reference's SingleLayerLokiModel. Writes a model directory (model.safetensors, config.json, \
        observed.txt) for `loki classify`, and log.jsonl there (or --log FILE): one JSON line per epoch. \
        Every --checkpoint-every epochs the weights, Adam's moments and the shuffler's position are \
        checkpointed; after a kill, --resume (given the same records again) reaches the weights of a run \
        never interrupted. An --out holding another run's files is refused unless --resume or --overwrite.

        Example:
          loki fit --observed seen.txt --epochs 50 --lr 0.01 --out grid-model < train.jsonl
        """)

    @OptionGroup var metric: MetricOptions

    @Option(help: "Input field with the feature vector.")
    var field = "features"

    @Option(help: "Field with the gold class.")
    var labelField = "label"

    @Option(help: ArgumentHelp("Hidden layer widths, comma-separated (none: softmax regression).", valueName: "w1,w2"))
    var hidden = ""

    @Option(help: "Passes over the training records.")
    var epochs = 20

    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3

    @Option(help: "Weight decay (L2, on weights of rank ≥ 2).")
    var weightDecay: Float = 0

    @Option(help: "Records per optimizer step.")
    var trainBatch = 128

    @Option(help: "Training loss: cross-entropy, or loki (needs --metric).")
    var loss: TrainingLoss = .crossEntropy

    @Option(help: ArgumentHelp("Write one JSON line per epoch (epoch, loss, train_accuracy) here (default: log.jsonl in --out).", valueName: "file"))
    var log: String?

    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    var hiddenWidths: [Int]? {
        hidden.isEmpty ? [] : hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) ?? -1 }
    }

    func validate() throws {
        guard let h = hiddenWidths, h.allSatisfy({ $0 > 0 }) else { throw ValidationError("--hidden takes positive widths like 256,128") }
        if epochs < 1 || trainBatch < 1 { throw ValidationError("--epochs and --train-batch must be at least 1") }
        if !(lr > 0) { throw ValidationError("--lr must be positive") }
        if loss == .loki { _ = try metric.requireMetric("fit --loss loki") }
    }

    func run() throws {
        common.apply()
        let observed = loading(metric.observed ?? "") { try metric.observed.map(readClassList) }
        let devnull = nullOutput()
        let (data, status) = readTrainingRecords(JSONLRunner(program: "loki", io: io, common: common, output: devnull),
                                                 field: field, labelField: labelField, observed: observed)
        close(devnull)
        if status == ExitStatus.cannotLoad { throw ExitCode(status) }
        guard data.count > 0 else {
            printError(program: "loki", "no training records\(observed != nil ? " with an observed label" : "")")
            throw ExitCode(1)
        }
        if data.skipped > 0 && !common.quiet { printError(program: "loki", "\(data.skipped) records of unobserved classes skipped") }
        let classes = data.classes
        // Layer sizes: the records' feature count, --hidden and the classes. A layer too large to
        // allocate is refused (a usage error), not a crash.
        let widths = [data.dimension] + (hiddenWidths ?? []) + [classes.count]
        for (a, b) in zip(widths, widths.dropFirst()) where a.multipliedReportingOverflow(by: b).overflow || a * b > 1 << 31 {
            throw ValidationError("a layer of \(a) × \(b) weights is more than \(1 << 31): give fewer --hidden units (or features)")
        }

        var d2: Tensor? = nil, targets: [Int]? = nil
        if loss == .loki {
            let path = metric.metric!  // invariant: validate() requires --metric for --loss loki
            let m = loading(path) { try MetricFiles.load(metric.spec(path)) }
            let rows = loading(path) { try classPositions(classes, in: m.classes, path: path, what: "training class") }
            d2 = withoutGrad { m.squaredDistanceRows(rows) }
            let index = m.classIndex()
            targets = data.labelNames.map { index[$0]! }  // invariant: classPositions above found every training class
        }
        var options = FitOptions()
        (options.hidden, options.epochs, options.learningRate) = (hiddenWidths!, epochs, lr)  // invariant: never nil (validated)
        (options.batchSize, options.weightDecay, options.seed) = (trainBatch, weightDecay, common.seed)
        let identity: JSONValue = .object([
            "hidden": .array(options.hidden.map { .number(JSONNumber($0)) }), "epochs": .number(JSONNumber(epochs)),
            "lr": .number(JSONNumber(lr) ?? JSONNumber(0)), "weight_decay": .number(JSONNumber(weightDecay) ?? JSONNumber(0)),
            "train_batch": .number(JSONNumber(trainBatch)), "seed": .number(JSONNumber(Int(common.seed & ((1 << 53) - 1)))),
            "loss": .string(loss.rawValue), "records": .number(JSONNumber(data.count)), "classes": .array(classes.map { .string($0) }),
        ])
        do {
            let run = try RunDirectory(directory, program: "loki", files: FeatureClassifier.files + ["log.jsonl"], runOptions: identity)
            let training = try ClassifierTraining(features: Tensor(shape: [data.count, data.dimension], scalars: data.features),
                                                  labels: data.labels, classes: classes, options: options, loss: loss,
                                                  squaredDistances: d2, labelSpaceTargets: targets)
            if let (info, tensors) = run.resumed {
                // Written back as an Int at every checkpoint: an offset near Int.max would overflow then.
                guard let offset = (try? info.extra["shuffler_offset"]?.numberValue?.int()) ?? nil, offset >= 0, offset < 1 << 62 else {
                    throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "no shuffler position")
                }
                do { try training.loadState(tensors, epochs: info.step, shufflerOffset: UInt64(offset)) } catch {
                    throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "\(error)")
                }
            }
            let runLog = try RunLog(path: log ?? run.file("log.jsonl"), keep: run.keptLines("log.jsonl"), program: "loki",
                                    progress: common.showsProgress())
            func checkpoint() throws {
                try runLog.file.sync()
                try run.saveCheckpoint(training.stateTensors(),
                                       info: CheckpointInfo(step: training.epochsDone, lines: ["log.jsonl": runLog.lines],
                                                            extra: .object(["shuffler_offset": .number(JSONNumber(Int(training.shuffler.offset)))])))
            }
            do {
                while training.epochsDone < epochs {
                    let (l, acc) = try training.epoch()
                    var e = LogEntry()
                    e.set("epoch", int: training.epochsDone)
                    e.set("loss", l)
                    e.set("train_accuracy", acc)
                    try runLog.write(e, progress: "fit: epoch \(training.epochsDone)/\(epochs) loss \(String(format: "%.4f", l)) train accuracy \(String(format: "%.4f", acc))")
                    if training.epochsDone % directory.checkpointEvery == 0 { try checkpoint() }
                }
            } catch let stop as DataError {
                runLog.finish()
                try training.classifier.save(to: run.path)
                printError(program: "loki", "\(stop); the model of the last finished batch was written")
                throw ExitCode(ExitStatus.badRecords)
            }
            runLog.finish()
            try checkpoint()
            try training.classifier.save(to: run.path)
        } catch let e as LoadError {
            fatalLoad(program: "loki", e)
        } catch let e as ExitCode {
            throw e
        } catch {
            fatalLoad(program: "loki", path: directory.out, problem: "cannot write: \(error)")
        }
        throw ExitCode(status)
    }
}

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Synthetic data for the paper's experiments: the class grid, random trees.",
        subcommands: [Grid.self, RandomTree.self])

    struct Grid: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Records with Gaussian features around the points of a side×side class grid (Euclidean metric).",
            discussion: """
            Writes `perClass` records per class to stdout: {"features": [row + σε, col + σε'], "label": "r<row>c<col>"}. \
            --metric-out writes the grid's metric as class embeddings (row, col); --observed-out writes the \
            classes at the crossings of --observed-lines (default 1,4,7: nine spread-out classes).
            """)

        @Option(help: "Grid side (classes = side²).") var side = 10
        @Option(help: "Records per class.") var perClass = 100
        @Option(help: "Standard deviation σ of the features around the class's grid point.") var sigma: Float = 0.4
        @Option(help: ArgumentHelp("Write the metric (class embeddings) here.", valueName: "file")) var metricOut: String?
        @Option(help: ArgumentHelp("Write the observed classes here.", valueName: "file")) var observedOut: String?
        @Option(help: "Grid lines whose crossings are observed, comma-separated.") var observedLines = "1,4,7"
        @OptionGroup var common: RunOptions

        func run() throws {
            guard side >= 1, perClass >= 0, sigma >= 0, sigma.isFinite else { throw ValidationError("--side, --per-class and --sigma must be positive (and --sigma finite)") }
            let records = (side <= 1000 ? side * side : Int.max).multipliedReportingOverflow(by: perClass)
            guard side <= 1000, !records.overflow, records.partialValue <= GridData.maxRecords else {
                throw ValidationError("--side \(side) and --per-class \(perClass) ask for more than a run writes: at most side 1000 (\(GridData.maxClasses) classes) and \(GridData.maxRecords) records")
            }
            let lines = observedLines.split(separator: ",").compactMap { Int($0) }
            guard !lines.isEmpty, lines.allSatisfy({ $0 >= 0 && $0 < side }) else { throw ValidationError("--observed-lines must be rows in 0..<\(side)") }
            let grid = GridData(side: side)
            if let metricOut { try writeFile(grid.metricRecords().map { $0.jsonText + "\n" }.joined(), to: metricOut) }
            if let observedOut { try writeFile((grid.observed(lines: lines).joined(separator: "\n") + "\n"), to: observedOut) }
            var out = ""
            for r in try grid.records(perClass: perClass, sigma: sigma, seed: common.seed) {
                out += r.jsonText + "\n"
                if out.utf8.count > 1 << 20 { StandardOutput.write(out, program: "loki"); out = "" }
            }
            StandardOutput.write(out, program: "loki")
        }
    }

    struct RandomTree: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tree",
            abstract: "A uniformly random labelled tree (random Prüfer sequence) as a TSV edge list of nodes 0..<n.")

        @Option(help: "Nodes.") var nodes = 20
        @Option(help: ArgumentHelp("Also write this many distinct random nodes (the starting observed set) here.", valueName: "k")) var pick = 0
        @Option(help: ArgumentHelp("File for --pick.", valueName: "file")) var pickOut: String?
        @OptionGroup var common: RunOptions

        func run() throws {
            guard nodes >= 1, nodes <= 10_000_000, pick >= 0, pick <= nodes else {
                throw ValidationError("--nodes must be in 1...10000000 and --pick at most --nodes")
            }
            let g = RandomGenerator(seed: common.seed, stream: 0x7ee)
            for (a, b) in randomTree(nodes: nodes, generator: g) { StandardOutput.line("\(a)\t\(b)", program: "loki") }
            if pick > 0 {
                guard let pickOut else { throw ValidationError("--pick needs --pick-out FILE") }
                let chosen = g.permutation(nodes).prefix(pick).sorted()
                try writeFile((chosen.map(String.init).joined(separator: "\n") + "\n"), to: pickOut)
            }
        }
    }
}
