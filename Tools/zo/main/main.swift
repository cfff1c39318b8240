// zo: zeroth-order fine-tuning in inference-sized memory (ZO-Bench's optimizers, MeZO), with
// forward-gradient and first-order baselines; replay of a run from its few-kilobyte trajectory.
import ArgumentParser
import Foundation
import Runtime
import RuntimeCLI
import RuntimeMPI
import ZOCore

struct ZO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zo",
        abstract: "Fine-tune a model with zeroth-order optimizers (ZO-Bench, MeZO) in the memory of inference.",
        discussion: """
        Each ZO step draws a seed; the direction z is regenerated from (seed, tensor index) with Philox \
        whenever needed and never stored, and the model is probed at θ ± εz without writing θ (each \
        layer reads its weights through a resolver that adds ±εz), so θ is restored exactly. The \
        trajectory (seed, projected gradient, learning rate per step) rebuilds the weights bit for bit \
        with `zo replay`.
        """,
        version: BuildInfo.text(program: "zo"),
        subcommands: [Train.self, Replay.self, Eval.self, Report.self])
}

struct TaskOptions: ParsableArguments {
    @Option(help: "Base model: a decoder (LLaMA-family directory or GGUF file; prompt-based) or an encoder (BERT, RoBERTa/XLM-R, MPNet, DeBERTa-v2 directory; classification head on mean-pooled states).")
    var model: String
    @Option(help: "Scheme: full, lora, prefix, prompt.") var scheme = "full"
    @Option(help: "Prompt template ({text} is the example's text).") var template = "{text} It was"
    @Option(help: "Verbalizer: the label words, comma-separated, in label order.") var verbalizer = "terrible,great"
    @Option(help: "Classes (encoder head).") var classes = 2
    @Option(help: "LoRA rank.") var loraRank = 8
    @Option(help: "LoRA alpha.") var loraAlpha: Float = 16
    @Option(help: "LoRA target modules, comma-separated name suffixes (default: the model's query and value projections, as PEFT: q_proj,v_proj; query,value; q,v; query_proj,value_proj).")
    var loraTargets: String?
    @Option(help: "Prefix tokens (prefix scheme).") var prefixTokens = 5
    @Option(help: "Virtual tokens (prompt scheme).") var promptTokens = 10

    func spec(seed: UInt64) throws -> RunSpec {
        guard let s = Scheme(rawValue: scheme) else { throw ValidationError("--scheme must be full, lora, prefix or prompt") }
        var spec = RunSpec(base: model)
        spec.scheme.scheme = s
        (spec.scheme.loraRank, spec.scheme.loraAlpha, spec.scheme.prefixTokens, spec.scheme.promptTokens) = (loraRank, loraAlpha, prefixTokens, promptTokens)
        spec.scheme.loraTargets = loraTargets.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        spec.template = template
        spec.verbalizer = verbalizer.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        spec.classes = classes
        spec.seed = seed
        return spec
    }
}

func load(_ f: () throws -> TaskModel, path: String) -> TaskModel {
    do { return try f() } catch { fatalLoad(program: "zo", path: path, problem: "\(error)", hint: modelHint(inCheckout: "`make models` fetches SmolLM2 and MiniLM")) }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune; writes the model (or adapter), the log and the replayable trajectory into --out.",
        discussion: """
        The run is durable: log.jsonl and trajectory.jsonl grow by a line per step, and every \
        --checkpoint-every steps the trained tensors and the optimizer state are checkpointed; after a \
        kill, --resume continues from the last checkpoint and reaches the same final weights, bit for bit. \
        An --out holding another run's files is refused unless --resume or --overwrite. A loss or \
        estimate that is not finite stops the run (exit 1) with the model of the last good step written.
        """)
    @OptionGroup var task: TaskOptions
    @Option(help: "Training data (JSONL: text + label, or multiple choice).") var train: String
    @Option(help: "Development data for accuracy.") var dev: String
    @Option(help: "zo-sgd, zo-sgd-mmt, zo-sgd-cons, zo-sgd-sign, zo-adam, forward-grad, fo-sgd, fo-adam.") var optimizer = "zo-sgd"
    @Option(help: "Learning rate.") var lr: Float = 1e-6
    @Option(help: "Perturbation scale ε.") var eps: Float = 1e-3
    @Option(help: "Optimizer steps.") var steps = 1000
    @Option(help: "Examples per step.") var batch = 16
    @Option(help: "Random directions per step (averaged).") var q = 1
    @Flag(help: "One-sided estimate (L(θ+εz) − L(θ)) / ε.") var oneSided = false
    @Option(help: "Weight decay (not on biases and norms).") var weightDecay: Float = 0
    @Option(help: "Momentum (zo-sgd-mmt).") var momentum: Float = 0.9
    @Option(help: "Learning-rate schedule: constant, linear, cosine, step:N:G, ...") var schedule = "constant"
    @Option(help: "Training examples sampled (ZO-Bench: 1000).") var trainCount = 1000
    @Option(help: "Development examples sampled (ZO-Bench: 500).") var devCount = 500
    @Option(help: "Evaluate on the development set every this many steps (0: only at the end).") var evalEvery = 100
    @Option(help: "Block-wise ZO: block, module (attention/MLP) or linear.") var blockwise: String?
    @Option(help: "Gradient sparsity: the share of each direction zeroed.") var sparsity: Float = 0
    @Flag(help: "Per-tensor sparsity from weight magnitudes (ZO-Bench's ratios).") var sparsityMagnitude = false
    @Option(help: "Redraw sparsity masks every this many steps.") var sparsityEvery = 1
    @Option(help: "Hybrid ZO/FO: first-order on the last this many blocks and the head.") var hybridLayers: Int?
    @Option(help: "Stop after this many CPU seconds (user + system, all threads).") var maxCpu: Double?
    @Flag(help: "Data-parallel over the ranks of an MPI job (mpirun -np N zo train --distributed ...): each rank scores its share of every batch, the ranks sum the losses (a few numbers per step) and apply the same update. Rank 0 writes --out (a directory all ranks can read when resuming).") var distributed = false
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: RunOptions

    func validate() throws {
        guard lr.isFinite, eps.isFinite, eps > 0, weightDecay.isFinite, momentum.isFinite else {
            throw ValidationError("--lr, --eps, --weight-decay and --momentum must be finite (--eps positive)")
        }
        guard steps >= 1, batch >= 1, q >= 1, trainCount >= 1, devCount >= 1, evalEvery >= 0, sparsityEvery >= 1,
              (0...1).contains(sparsity) else {
            throw ValidationError("--steps, --batch, --q, --train-count, --dev-count and --sparsity-every must be at least 1, --sparsity in [0, 1]")
        }
    }

    func run() throws {
        common.apply()
        guard let opt = ZOOptimizer(rawValue: optimizer) else { throw ValidationError("unknown --optimizer \(optimizer)") }
        let spec = try task.spec(seed: common.seed)
        let model = load({ try buildTask(spec) }, path: task.model)
        let trainSet: [Example], devSet: [Example]
        do { trainSet = sample(try loadExamples(train), count: trainCount, seed: common.seed, stream: 1) } catch {
            fatalLoad(program: "zo", path: train, problem: "\(error)")
        }
        do { devSet = sample(try loadExamples(dev), count: devCount, seed: common.seed, stream: 2) } catch {
            fatalLoad(program: "zo", path: dev, problem: "\(error)")
        }
        var o = TrainOptions()
        o.rule = UpdateRule(optimizer: opt)
        (o.rule.weightDecay, o.rule.momentum) = (weightDecay, momentum)
        (o.lr, o.eps, o.steps, o.batch, o.q, o.oneSided, o.seed, o.evalEvery) = (lr, eps, steps, batch, q, oneSided, common.seed, evalEvery)
        guard let sch = LRSchedule.parse(schedule, warmup: 0, total: steps) else { throw ValidationError("bad --schedule \(schedule)") }
        o.schedule = sch
        if let b = blockwise {
            guard let g = BlockGranularity(rawValue: b) else { throw ValidationError("--blockwise must be block, module or linear") }
            o.blockwise = g
        }
        (o.sparsity, o.sparsityMagnitude, o.sparsityEvery, o.hybridLayers) = (sparsity, sparsityMagnitude, sparsityEvery, hybridLayers)
        o.maxCPUSeconds = maxCpu
        let config = TrainRunConfig(spec: spec, options: o, schedule: schedule, trainPath: train, devPath: dev,
                                    trainCount: trainCount, devCount: devCount)
        if distributed, let why = Trainer.distributable(o) { throw ValidationError(why) }
        let mpi = distributed ? MPICollective() : nil
        let collective: Collective = mpi ?? SoloCollective()
        // Messages name the rank in a job of several; a rank that fails ends the whole job.
        let program = collective.size > 1 ? "zo[rank \(collective.rank)]" : "zo"
        // `everywhere`: every rank stops at the same point (a non-finite loss is the same sum on all);
        // otherwise this rank alone failed and takes the job down, or the others would wait forever.
        func fail(_ status: Int32, everywhere: Bool = false) -> Never {
            if let mpi, mpi.size > 1, !everywhere { mpi.abort(status) }
            mpi?.finish()
            Foundation.exit(status)
        }
        do {
            try trainRun(model, config: config, train: trainSet, dev: devSet, directory: directory,
                         progress: collective.rank == 0 && common.showsProgress(), collective: collective)
        } catch let e as LoadError {
            printError(program: program, "\(e)")
            fail(ExitStatus.cannotLoad)
        } catch let stop as TrainingStopped {
            printError(program: program, "\(stop)")
            fail(ExitStatus.badRecords, everywhere: true)
        } catch {
            printError(program: program, "\(error)")
            fail(ExitStatus.badRecords)
        }
        mpi?.finish()
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rebuild a ZO run's weights from the base model and its trajectory, bit for bit.")
    @Option(help: "The base model the run started from.") var base: String
    @Option(help: "The run's trajectory.jsonl.") var log: String
    @Option(help: "Output directory.") var out: String
    @OptionGroup var common: RunOptions

    func run() throws {
        common.apply()
        let trajectory: (header: TrajectoryHeader, steps: [TrajectoryStep])
        do { trajectory = try readTrajectory(log) } catch { fatalLoad(program: "zo", path: log, problem: "\(error)") }
        var spec = trajectory.header.spec
        spec.base = base
        let task = load({ try buildTask(spec) }, path: base)
        do { try replay(task, header: trajectory.header, steps: trajectory.steps) } catch {
            fatalLoad(program: "zo", path: log, problem: "\(error)")
        }
        try saveRun(task, spec: spec, to: out, extra: ["replayed_from": .string(log)])
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Accuracy of a model (a zo run's --out, or a base model zero-shot) on labeled data.")
    @OptionGroup var task: TaskOptions
    @Option(help: "Labeled data (JSONL).") var data: String
    @Option(help: "Examples sampled (default: all).") var count: Int?
    @Option(help: "Write each example's prediction as JSONL here.") var predictions: String?
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let fallback = try task.spec(seed: common.seed)
        let model: TaskModel, spec: RunSpec
        do { (model, spec) = try loadRun(task.model, fallback: fallback) } catch {
            fatalLoad(program: "zo", path: task.model, problem: "\(error)")
        }
        let examples: [Example]
        do { examples = sample(try loadExamples(data), count: count, seed: common.seed, stream: 2) } catch {
            fatalLoad(program: "zo", path: data, problem: "\(error)")
        }
        let classes = examples.first?.options.isEmpty == false ? examples[0].options.count
            : (model is CausalTask ? spec.verbalizer.count : spec.classes)
        let result: EvalResult
        do { result = try evaluate(model, examples, classes: classes, batch: common.batch) } catch {
            fatalLoad(program: "zo", path: data, problem: "\(error)")
        }
        if let predictions {
            do { try writeFile(result.predictions.map { $0.jsonText + "\n" }.joined(), to: predictions) } catch {
                fatalLoad(program: "zo", path: predictions, problem: "\(error)")
            }
        }
        var r = Record()
        r.set("examples", int: result.examples)
        try r.set("accuracy", double: result.accuracy)
        StandardOutput.line(r.jsonText, program: "zo")
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize runs: a Markdown table (best and last dev accuracy, steps, CPU time) and a plot (PNG and SVG) of dev accuracy.")
    @Argument(help: "Run directories (each with log.jsonl), as NAME=DIR or DIR.") var runs: [String]
    @Option(help: "Plot file (PNG; an SVG is written beside it).") var plot: String?
    @Option(help: "Plot against: steps or cpu (CPU seconds).") var x = "cpu"
    @Option(help: "Reference lines (NAME=ACCURACY), e.g. zero-shot=0.51.") var reference: [String] = []
    @Option(help: "Plot title.") var title = "dev accuracy"

    func run() throws {
        let summaries = runs.map { spec -> RunSummary in
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            let (name, dir) = parts.count == 2 ? (parts[0], parts[1]) : ((parts[0] as NSString).lastPathComponent, parts[0])
            do { return try summarizeRun(name: name, directory: dir) } catch { fatalLoad(program: "zo", path: dir, problem: "\(error)") }
        }
        StandardOutput.line(RunSummary.tableHeader, program: "zo")
        for s in summaries { StandardOutput.line(s.tableRow, program: "zo") }
        guard let plot else { return }
        let refs = try reference.map { r -> (y: Double, label: String) in
            let p = r.split(separator: "=", maxSplits: 1)
            guard p.count == 2, let v = Double(p[1]), v.isFinite else { throw ValidationError("--reference must be NAME=ACCURACY, got '\(r)'") }
            return (v, String(p[0]))
        }
        do { try accuracyPlot(summaries, againstSteps: x == "steps", references: refs, title: title).write(to: plot) } catch {
            fatalLoad(program: "zo", path: plot, problem: "\(error)")
        }
    }
}

ZO.main()
