// `ptec train`: the soft prompt and head (ch), the soft prompt alone (lh), or a linear probe (probe).
import ArgumentParser
import Foundation
import PTECCore
import Runtime
import RuntimeCLI

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train PTEC (--head ch), the prompt-tuning baseline (lh) or a linear probe on frozen embeddings (probe).",
        discussion: """
        Data: JSON Lines with a text (--text-field) and its labels, as a list of names (--labels-field) \
        or, as in the reference's files, one 0/1 field per label.

        ch (PTEC): sp_len trained vectors in front of the text, the frozen decoder, Linear(C, K, no bias) \
        on the last token; BCE with pos_weight = max count / label count on the training labels. lh: the \
        same soft prompt, and the decoder's own LM head learns to write "label; label; …<eos>" (labels \
        by training frequency), the token loss of each example weighted by the sum of its labels' \
        pos_weight. probe (the reference's CH baseline): mean-pooled final states of the text, no soft \
        prompt, Linear(C, K) with a bias, Adam, BCE without pos_weight, batches of 128, clip 5.

        Defaults are the reference's (model.py): sp_len 100, prompt initialised from the label names' \
        tokens, lr 3e-3 (soft prompt), ch-lr 1e-5 (head), weight decay 0, transformers' AdamW (ε 1e-6), \
        32 examples per update, gradient norm clipped to 1, 10 epochs; schedule exponential (down to 1 % \
        of the rate at the last update, the PTEC command's) for ch and warmup (OneCycleLR, 30 %) for lh; \
        after every epoch the dev macro-F1 (σ > 0.5 for ch; trie-constrained generation for lh, as the \
        reference) picks the model kept in --out: a new best must beat the old by 0.005, 2 epochs \
        without one stop the run, and so does a dev macro-F1 ≤ the interrupt threshold (0.07, the \
        reference's CLI default; its BLOOM runs pass 0.01).

        Fixed against the reference (its behaviour reproducible where it changes numbers): the kept \
        model is a copy written when it is best (the reference's "best checkpoint" aliased the live \
        weights, so it tested the last model); the update's loss is the mean over its 32 examples \
        (--reference-loss-sum: the reference's sum of batch means, with --reference-batch 2); an epoch's \
        leftover examples make a last smaller update (the reference carried their gradients into the \
        next epoch); fp32 throughout (the reference: fp16 weights and optimizer states).

        Writes --out/ptec.json and ptec.safetensors, log.jsonl (a line per update and per evaluation), \
        and a checkpoint every --checkpoint-every updates and at each epoch's end: after a kill, --resume \
        reaches the weights of a run never interrupted.

        Example:
          ptec train --head ch --model data/models/SmolLM2-135M-Instruct --text-field prompt \\
            --data train_preprocessed.json --dev dev_preprocessed.json --out hate-ptec
        """)

    @Option(help: "ch (PTEC), lh (prompt tuning with the LM head) or probe (linear head on frozen mean-pooled states).")
    var head: HeadKind = .ch

    @Option(help: "The frozen base model: a model directory or a .gguf (a decoder for ch and lh; any backbone for probe).")
    var model: String

    @Option(help: ArgumentHelp("Training data ('-': stdin).", valueName: "file"))
    var data = "-"

    @Option(help: ArgumentHelp("Dev data for early stopping and model selection.", valueName: "file"))
    var dev: String?

    @Option(help: "Share of the training data held out as dev data when --dev is not given (0: none; the last model is kept).")
    var devSplit: Double = 0.1

    @Option(help: "The labels in head order: a file (one per line) or a comma-separated list (default: the data's).")
    var labels: String?

    @Option(help: "Soft-prompt vectors (ch, lh).")
    var spLen = 100

    @Option(help: "Soft-prompt initialisation: labels (the label names' token embeddings, then ids 1000…) or fixed (ids 1000…; the reference's 'random').")
    var promptInit: PromptInit = .labels

    @Option(help: "Passes over the training data (default: 10; 100 for probe).")
    var epochs: Int?

    @Option(help: "Learning rate of the soft prompt (probe: of the head). Default: 3e-3 (probe: 1e-3).")
    var lr: Float?

    @Option(help: "ch: learning rate of the classification head.")
    var chLr: Float = 1e-5

    @Option(help: "Weight decay (decoupled, AdamW; probe: L2, Adam).")
    var weightDecay: Float = 0

    @Option(help: "Examples per optimizer update (gradient_update_steps).")
    var updateExamples = 32

    @Option(help: "Examples per forward pass (memory against speed; the update's gradient is the same; probe: the batch, 128 by default).")
    var trainBatch: Int?

    @Option(help: "Clip the gradients to this global norm (probe: 5).")
    var maxGradNorm: Float?

    @Option(help: "Learning-rate schedule per update: warmup (OneCycleLR), exponential (to 1 %), linear, constant. Default: exponential for ch, warmup for lh.")
    var scheduler: ScheduleKind?

    @Option(help: "warmup: share of the updates spent rising.")
    var pctStart: Double = 0.3

    @Option(help: "Early stopping: epochs without a dev improvement before stopping (0: never stop early; the best epoch is still the one kept).")
    var earlyStop = 2

    @Option(help: "Early stopping: how much a dev macro-F1 must beat the best to count.")
    var minDelta: Double = 0.005

    @Option(help: "Stop when the dev macro-F1 is at or below this (--interrupt-threshold=-1: never).")
    var interruptThreshold: Double = 0.07

    @Option(help: "Tokens of text per input, special tokens included (longer texts are cut at the end).")
    var maxLength = 512

    @Option(help: "σ above this is a predicted label (dev scoring; saved as the model's threshold).")
    var threshold: Double = 0.5

    @Flag(help: "lh: score the dev set with unconstrained generation (default: with the trie, as the reference).")
    var devUnconstrained = false

    @Option(help: "lh: most tokens generated per text.")
    var maxNewTokens = 75

    @Flag(help: "The reference's loss scale: the sum of its batch means over an update (ch: ×update-examples/reference-batch) instead of the mean.")
    var referenceLossSum = false

    @Option(help: "With --reference-loss-sum: the reference's batch size.")
    var referenceBatch = 2

    @Option(help: "Train on the first N examples only (0: all).")
    var maxExamples = 0

    @OptionGroup var fields: DataFields
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard spLen >= 0, spLen > 0 || head != .lh else { throw ValidationError("--sp-len must be at least 1 for lh (0 allowed for ch)") }
        guard epochs.map({ $0 >= 1 }) ?? true, updateExamples >= 1, trainBatch.map({ $0 >= 1 }) ?? true else {
            throw ValidationError("--epochs, --update-examples and --train-batch must be at least 1")
        }
        for (name, v) in [("--lr", lr ?? 1), ("--ch-lr", chLr)] where !(v > 0 && v.isFinite) { throw ValidationError("\(name) must be a positive number") }
        guard weightDecay >= 0, weightDecay.isFinite, maxGradNorm.map({ $0 > 0 }) ?? true else { throw ValidationError("--weight-decay must be ≥ 0 and --max-grad-norm > 0") }
        guard (0..<1).contains(devSplit), pctStart > 0, pctStart < 1 else { throw ValidationError("--dev-split must be in [0, 1) and --pct-start in (0, 1)") }
        guard earlyStop >= 0, minDelta >= 0, maxLength >= 1, maxExamples >= 0, maxNewTokens >= 1, referenceBatch >= 1 else {
            throw ValidationError("--early-stop, --min-delta, --max-examples must be ≥ 0; --max-length, --max-new-tokens, --reference-batch ≥ 1")
        }
        guard threshold.isFinite else { throw ValidationError("--threshold must be a number") }
    }

    func run() throws {
        common.apply()
        let read = readOrExit(data, fields), columns = read.columns
        var train = read.texts
        var devTexts: [LabelledText] = []
        if let dev {
            devTexts = readOrExit(dev, fields).texts
        } else if devSplit > 0 {
            let order = RandomGenerator(seed: common.seed, stream: 0xDE5).permutation(train.count)
            let held = Int((Double(train.count) * devSplit).rounded(.down))
            if held > 0 { devTexts = order.suffix(held).map { train[$0] }; train = order.prefix(train.count - held).map { train[$0] } }
        }
        if maxExamples > 0 { train = Array(train.prefix(maxExamples)) }
        guard train.contains(where: { $0.labels != nil }) else { fatalLoad(program: "ptec", path: data, problem: "no labelled training data") }
        let labelList = labelOrder(given: labels.map(readNameList), columns: columns, texts: [train, devTexts])
        do { try checkDistinct(labelList) } catch { fatalLoad(program: "ptec", path: labels ?? data, problem: "\(error)") }
        let config = PTECConfig(head: head, labels: labelList, baseModel: model, spLen: head == .probe ? 0 : spLen,
                                posWeight: positiveWeights(train, labels: labelList), maxLength: maxLength)
        var withThreshold = config
        withThreshold.threshold = threshold
        do {
            let trainGold = try goldSets(train, labels: labelList, what: "training")
            let devGold = try goldSets(devTexts, labels: labelList, what: "dev")
            let bundle: PTECBundle
            do { bundle = try PTECModelFiles.fresh(withThreshold, promptInit: promptInit, seed: common.seed) } catch {
                fatalLoad(program: "ptec", path: model, problem: "\(error)")
            }
            if head == .probe {
                try trainProbe(bundle, train: train, trainGold: trainGold, dev: devTexts, devGold: devGold)
            } else {
                try trainPrompt(bundle, train: train, trainGold: trainGold, dev: devTexts, devGold: devGold)
            }
        } catch let e as LoadError {
            fatalLoad(program: "ptec", e)
        } catch let e as PTECError {
            printError(program: "ptec", "\(e)")
            throw ExitCode(1)
        } catch let e as ExitCode {
            throw e
        } catch {
            fatalLoad(program: "ptec", path: directory.out, problem: "cannot write: \(error)")
        }
    }

    var options: PTECTrainOptions {
        var o = PTECTrainOptions()
        (o.epochs, o.lr, o.chLR, o.weightDecay) = (epochs ?? 10, lr ?? 3e-3, chLr, weightDecay)
        (o.batch, o.updateExamples, o.maxGradNorm) = (trainBatch ?? 8, updateExamples, maxGradNorm ?? 1)
        (o.schedule, o.pctStart, o.seed) = (scheduler ?? (head == .ch ? .exponential : .warmup), pctStart, common.seed)
        (o.referenceLossSum, o.referenceBatch) = (referenceLossSum, referenceBatch)
        return o
    }

    /// What the run's result depends on (a checkpoint of other options is not resumed).
    func identity(_ config: PTECConfig, examples: Int, devCount: Int) -> JSONValue {
        let o = options
        return .object(["config": config.json, "examples": .number(JSONNumber(examples)), "dev": .number(JSONNumber(devCount)),
                        "epochs": .number(JSONNumber(o.epochs)), "lr": JSONValue.finite(Double(o.lr)), "ch_lr": JSONValue.finite(Double(o.chLR)),
                        "weight_decay": JSONValue.finite(Double(o.weightDecay)), "update_examples": .number(JSONNumber(o.updateExamples)),
                        "max_grad_norm": JSONValue.finite(Double(o.maxGradNorm)), "scheduler": .string(o.schedule.rawValue), "pct_start": JSONValue.finite(o.pctStart),
                        "reference_loss_sum": .bool(o.referenceLossSum), "reference_batch": .number(JSONNumber(o.referenceBatch)),
                        "early_stop": .number(JSONNumber(earlyStop)), "min_delta": JSONValue.finite(minDelta), "interrupt": JSONValue.finite(interruptThreshold),
                        "prompt_init": .string(promptInit.rawValue), "dev_unconstrained": .bool(devUnconstrained),
                        "max_new_tokens": .number(JSONNumber(maxNewTokens)),
                        "seed": .number(JSONNumber(Int(common.seed & ((1 << 53) - 1))))])
    }

    func trainPrompt(_ bundle: PTECBundle, train: [LabelledText], trainGold: [Set<Int>], dev: [LabelledText], devGold: [Set<Int>]) throws {
        let config = bundle.config, k = config.labels.count
        let order = frequencyOrder(train, labels: config.labels)
        let examples: [PTECExample] = try zip(train, trainGold).map { t, g in
            var e = PTECExample(ids: try bundle.encode(t.text), targets: (0..<k).map { g.contains($0) ? 1 : 0 })
            if config.head == .lh {
                e.query = try bundle.encodeQuery(t.text)
                e.target = try bundle.encodeTarget(g.map { config.labels[$0] }, order: order)
                e.weight = g.reduce(0) { $0 + config.posWeight[$1] }
            }
            return e
        }
        let devIds = try dev.map { try config.head == .lh ? bundle.encodeQuery($0.text) : bundle.encode($0.text) }
        let run = try RunDirectory(directory, program: "ptec", files: [PTECModelFiles.configName, PTECModelFiles.tensorsName, "log.jsonl"],
                                   runOptions: identity(config, examples: examples.count, devCount: dev.count))
        let training = try PTECTraining(model: bundle.model, examples: examples, options: options)
        var stopping = EarlyStopping()
        (stopping.minDelta, stopping.patience, stopping.interrupt) = (minDelta, earlyStop == 0 ? Int.max : earlyStop, interruptThreshold)
        var bestEpoch = 0, stopped = false
        if let (info, tensors) = run.resumed {
            do { try training.loadState(tensors, updates: info.step) } catch {
                throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "\(error)")
            }
            if let b = try info.extra["best"]?.numberValue?.double() { stopping.best = b }
            if let b = try info.extra["bad_epochs"]?.numberValue?.int() { stopping.badEpochs = b }
            if let e = try info.extra["best_epoch"]?.numberValue?.int() { bestEpoch = e }
            stopped = info.extra["stopped"]?.boolValue ?? false
        }
        let log = try RunLog(path: run.file("log.jsonl"), keep: run.keptLines("log.jsonl"), program: "ptec", progress: common.showsProgress())
        func checkpoint() throws {
            try log.file.sync()
            try run.saveCheckpoint(training.stateTensors(), info: CheckpointInfo(step: training.updatesDone, lines: ["log.jsonl": log.lines], extra: [
                "best": JSONValue.finite(stopping.best), "bad_epochs": .number(JSONNumber(stopping.badEpochs)),
                "best_epoch": .number(JSONNumber(bestEpoch)), "stopped": .bool(stopped)]))
        }
        if !common.quiet {
            let trained = bundle.model.trainedTensors.reduce(0) { $0 + $1.1.count }
            printError(program: "ptec", "\(examples.count) examples, \(dev.count) dev, \(k) labels, \(trained) trained parameters, up to \(training.totalUpdates) updates")
        }
        let generator = config.head == .lh ? try Generator(model: bundle.model, tokenizer: bundle.tokenizer, useTrie: !devUnconstrained, maxNewTokens: maxNewTokens) : nil
        while !stopped && training.updatesDone < training.totalUpdates {
            bundle.model.train()
            let r = try training.step()
            var e = LogEntry()
            e.set("update", int: r.update)
            e.set("epoch", int: r.epoch)
            e.set("loss", r.loss)
            e.set("grad_norm", r.gradNorm)
            e.set("lr", r.lr)
            try log.write(e, progress: "update \(r.update)/\(training.totalUpdates) epoch \(r.epoch) loss \(String(format: "%.4f", r.loss))")
            if r.endsEpoch && !dev.isEmpty {
                let predicted = devPredictions(bundle, devIds, generator: generator)
                let report = MultiLabelReport(labels: config.labels, gold: devGold, predicted: predicted)
                let (keep, stop) = stopping.observe(report.macro.f1)
                var m = LogEntry()
                m.set("epoch", int: r.epoch)
                m.set("update", int: r.update)
                for (name, v) in report.named where ["macro_f1", "micro_f1", "samples_f1", "jaccard_samples", "avg_n_predicted"].contains(name) { m.set("dev_" + name, v) }
                if keep {
                    bestEpoch = r.epoch
                    try PTECModelFiles.save(bundle, to: run.path)
                    m.set("best", int: 1)
                }
                if stop { stopped = true; m.set("stop", int: 1) }
                try log.write(m, progress: "epoch \(r.epoch): dev macro-F1 \(String(format: "%.4f", report.macro.f1))\(keep ? " (best)" : "")\(stop ? ", stopping" : "")")
            }
            if r.endsEpoch || r.update % directory.checkpointEvery == 0 { try checkpoint() }
        }
        log.finish()
        try checkpoint()
        // No dev data, or no epoch above a dev macro-F1 of 0 (every score under the threshold): the last
        // model is what there is (the reference would have no checkpoint to test).
        if dev.isEmpty || bestEpoch == 0 { try PTECModelFiles.save(bundle, to: run.path) }
        if !common.quiet {
            if dev.isEmpty { printError(program: "ptec", "kept the last model") }
            else if bestEpoch > 0 { printError(program: "ptec", "kept epoch \(bestEpoch) (dev macro-F1 \(String(format: "%.4f", stopping.best)))") }
            else {
                printError(program: "ptec", "no epoch scored a dev macro-F1 above \(minDelta) at σ > \(threshold): kept the last model; "
                           + "`ptec tune-thresholds` may find per-label thresholds that do (or train longer, or with a higher --ch-lr)")
            }
        }
    }

    func devPredictions(_ bundle: PTECBundle, _ ids: [[Int]], generator: Generator?) -> [Set<Int>] {
        bundle.model.eval()
        if let generator { return ids.map { Set(generator.generate($0).labels) } }
        return bundle.scores(ids, batch: common.batch).map { Set(bundle.decide($0)) }
    }

    func trainProbe(_ bundle: PTECBundle, train: [LabelledText], trainGold: [Set<Int>], dev: [LabelledText], devGold: [Set<Int>]) throws {
        let config = bundle.config, k = config.labels.count
        let run = try RunDirectory(directory, program: "ptec", files: [PTECModelFiles.configName, PTECModelFiles.tensorsName, "log.jsonl"],
                                   runOptions: identity(config, examples: train.count, devCount: dev.count))
        let log = try RunLog(path: run.file("log.jsonl"), keep: run.keptLines("log.jsonl"), program: "ptec", progress: common.showsProgress())
        if !common.quiet { printError(program: "ptec", "embedding \(train.count + dev.count) texts") }
        let x = featureRows(bundle, try train.map { try bundle.encode($0.text) }, batch: common.batch)
        let devX = featureRows(bundle, try dev.map { try bundle.encode($0.text) }, batch: common.batch)
        var o = ProbeOptions()
        (o.epochs, o.lr, o.weightDecay, o.batch, o.maxGradNorm, o.seed) = (epochs ?? 100, lr ?? 1e-3, weightDecay, trainBatch ?? 128, maxGradNorm ?? 5, common.seed)
        let history = try fitProbe(bundle.model.head, features: x, targets: trainGold.map { g in (0..<k).map { g.contains($0) ? 1 : 0 } },
                                     dev: dev.isEmpty ? nil : (devX, devGold), labels: config.labels, threshold: config.threshold, options: o) { epoch, loss, f1 in
            var e = LogEntry()
            e.set("epoch", int: epoch)
            e.set("loss", loss)
            if let f1 { e.set("dev_macro_f1", f1) }
            try log.write(e, progress: "epoch \(epoch) loss \(String(format: "%.4f", loss))")
        }
        log.finish()
        try PTECModelFiles.save(bundle, to: run.path)
        if !common.quiet, let best = history.max() {
            printError(program: "ptec", "kept epoch \(history.firstIndex(of: best)! + 1) (dev macro-F1 \(String(format: "%.4f", best)))")
        }
    }
}
