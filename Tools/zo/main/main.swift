// zo: zeroth-order fine-tuning in inference-sized memory (ZO-Bench's optimizers, MeZO), with
// forward-gradient and first-order baselines; replay of a run from its few-kilobyte trajectory.
import ArgumentParser
import Foundation
import Runtime
import RuntimeCLI
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
    static let configuration = CommandConfiguration(abstract: "Fine-tune; writes the model (or adapter), the log and the replayable trajectory into --out.")
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
    @Option(help: "Output directory.") var out: String
    @OptionGroup var common: RunOptions

    func run() throws {
        common.apply()
        guard let opt = ZOOptimizer(rawValue: optimizer) else { throw ValidationError("unknown --optimizer \(optimizer)") }
        let spec = try task.spec(seed: common.seed)
        let model = load({ try buildTask(spec) }, path: task.model)
        let trainSet: [Example], devSet: [Example]
        do {
            trainSet = sample(try loadExamples(train), count: trainCount, seed: common.seed, stream: 1)
            devSet = sample(try loadExamples(dev), count: devCount, seed: common.seed, stream: 2)
        } catch { fatalLoad(program: "zo", path: train, problem: "\(error)") }
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
        let trainer = Trainer(task: model, options: o)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: out + "/log.jsonl", contents: nil)
        let logFile = FileHandle(forWritingAtPath: out + "/log.jsonl")!
        let progress = common.showsProgress()
        trainer.run(train: trainSet, dev: devSet) { e in
            var r = Record()
            r.set("step", int: e.step)
            try? r.set("loss", float: e.loss)
            try? r.set("projected_grad", floats: e.projected)
            try? r.set("lr", float: e.lr)
            try? r.set("seconds", double: (e.seconds * 100).rounded() / 100)
            try? r.set("cpu_seconds", double: (e.cpuSeconds * 100).rounded() / 100)
            if let a = e.devAccuracy { try? r.set("dev_accuracy", double: a) }
            logFile.write(Data((r.jsonText + "\n").utf8))
            if progress && (e.step % 10 == 0 || e.devAccuracy != nil) {
                FileHandle.standardError.write(Data("\rzo: step \(e.step)/\(o.steps) loss \(String(format: "%.4f", e.loss))\(e.devAccuracy.map { String(format: " dev %.3f", $0) } ?? "")   ".utf8))
            }
        }
        if progress { FileHandle.standardError.write(Data("\n".utf8)) }
        // The trajectory: a header (everything replay needs), then one line per step.
        var header = spec.json.objectValue!
        let extra: [String: JSONValue] = [
            "optimizer": .string(optimizer), "weight_decay": .number(JSONNumber(weightDecay)!), "momentum": .number(JSONNumber(momentum)!),
            "beta1": .number(JSONNumber(o.rule.beta1)!), "beta2": .number(JSONNumber(o.rule.beta2)!), "adam_eps": .number(JSONNumber(o.rule.adamEps)!),
            "trained": .array(trainer.params.named.map { .string($0.0) }),
            "blocks": .array(trainer.blockIndices.map { .array($0.map { .number(JSONNumber($0)) }) }),
            "hybrid_layers": hybridLayers.map { .number(JSONNumber($0)) } ?? .null,
        ]
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { header.members.append(.init(key: k, value: v)) }
        if let sp = trainer.params.sparsity {
            header.members.append(.init(key: "sparsity_fractions", value: .array(sp.fraction.map { .number(JSONNumber($0)!) })))
            header.members.append(.init(key: "sparsity_every", value: .number(JSONNumber(sp.every))))
            header.members.append(.init(key: "sparsity_seed", value: .number(JSONNumber(Int(sp.seed & ((1 << 53) - 1))))))
        }
        var lines = [JSONValue.object(["zo_trajectory": .object(header)]).jsonText]
        lines += trainer.trajectory.map(\.jsonText)
        try (lines.joined(separator: "\n") + "\n").write(toFile: out + "/trajectory.jsonl", atomically: true, encoding: .utf8)
        try saveRun(model, spec: spec, to: out, extra: ["optimizer": .string(optimizer), "steps": .number(JSONNumber(steps))])
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rebuild a ZO run's weights from the base model and its trajectory, bit for bit.")
    @Option(help: "The base model the run started from.") var base: String
    @Option(help: "The run's trajectory.jsonl.") var log: String
    @Option(help: "Output directory.") var out: String
    @Option(help: "Threads.") var threads: Int?

    func run() throws {
        Threads.set(threads ?? Threads.physicalCores())
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { fatalLoad(program: "zo", path: log, problem: "cannot read") }
        let lines = try text.split(separator: "\n").map { try JSONValue(parsing: [UInt8]($0.utf8)) }
        guard let header = lines.first?["zo_trajectory"] else { fatalLoad(program: "zo", path: log, problem: "no zo_trajectory header line") }
        var spec = try RunSpec(json: header)
        spec.base = base
        let task = load({ try buildTask(spec) }, path: base)
        try replay(task, header: header, steps: Array(lines.dropFirst()))
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
        let model: TaskModel
        do { (model, _) = try loadRun(task.model, fallback: fallback) } catch {
            fatalLoad(program: "zo", path: task.model, problem: "\(error)")
        }
        let examples: [Example]
        do { examples = sample(try loadExamples(data), count: count, seed: common.seed, stream: 2) } catch {
            fatalLoad(program: "zo", path: data, problem: "\(error)")
        }
        var correct = 0
        var lines: [String] = []
        for start in stride(from: 0, to: examples.count, by: common.batch) {
            let chunk = Array(examples[start..<min(start + common.batch, examples.count)])
            for (e, p) in zip(chunk, model.predict(chunk)) {
                if p == e.label { correct += 1 }
                var r = Record()
                r.set("text", string: e.text)
                r.set("label", int: e.label)
                r.set("prediction", int: p)
                lines.append(r.jsonText)
            }
        }
        if let predictions { try (lines.joined(separator: "\n") + "\n").write(toFile: predictions, atomically: true, encoding: .utf8) }
        var r = Record()
        r.set("examples", int: examples.count)
        try r.set("accuracy", double: Double(correct) / Double(max(examples.count, 1)))
        print(r.jsonText)
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarize runs: a Markdown table (best and last dev accuracy, steps, CPU time) and a PNG plot of dev accuracy.")
    @Argument(help: "Run directories (each with log.jsonl), as NAME=DIR or DIR.") var runs: [String]
    @Option(help: "Plot file (PNG; an SVG is written beside it).") var plot: String?
    @Option(help: "Plot against: steps or cpu (CPU seconds).") var x = "cpu"
    @Option(help: "Reference lines (NAME=ACCURACY), e.g. zero-shot=0.51.") var reference: [String] = []
    @Option(help: "Plot title.") var title = "dev accuracy"

    func run() throws {
        var series: [PlotSeries] = []
        print("| run | best dev acc. | last dev acc. | steps | CPU time |")
        print("|---|---|---|---|---|")
        for spec in runs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            let (name, dir) = parts.count == 2 ? (parts[0], parts[1]) : ((parts[0] as NSString).lastPathComponent, parts[0])
            guard let text = try? String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8) else {
                fatalLoad(program: "zo", path: dir + "/log.jsonl", problem: "cannot read")
            }
            let rows = text.split(separator: "\n").compactMap { try? Record(parsing: String($0)) }
            let evals = rows.compactMap { r -> (step: Double, cpu: Double, acc: Double)? in
                guard let a = try? r.double("dev_accuracy") else { return nil }
                return (Double((try? r.int("step")) ?? 0), (try? r.double("cpu_seconds")) ?? 0, a)
            }
            let best = evals.map(\.acc).max(), lastRow = rows.last
            let cpu = (try? lastRow?.double("cpu_seconds")) ?? nil
            print("| \(name) | \(best.map { String(format: "%.3f", $0) } ?? "-") | \(evals.last.map { String(format: "%.3f", $0.acc) } ?? "-") | "
                  + "\((try? lastRow?.int("step")).flatMap { $0 }.map(String.init) ?? "-") | \(cpu.map { String(format: "%.0f s", $0) } ?? "-") |")
            series.append(PlotSeries(name: name, points: evals.map { (x == "steps" ? $0.step : $0.cpu / 60, $0.acc) }))
        }
        guard let plot else { return }
        var chart = LinePlot(title: title, xLabel: x == "steps" ? "steps" : "CPU minutes", yLabel: "dev accuracy", series: series)
        for r in reference {
            let p = r.split(separator: "=", maxSplits: 1)
            if p.count == 2, let v = Double(p[1]) { chart.references.append((y: v, label: String(p[0]))) }
        }
        try chart.write(to: plot)
    }
}

ZO.main()
