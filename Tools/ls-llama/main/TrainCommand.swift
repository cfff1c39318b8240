// `ls-llama train`: LoRA + a linear head on a decoder (or encoder), the reference's recipe per variant.
import ArgumentParser
import Foundation
import LSLlamaCore
import Runtime
import RuntimeCLI

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a decoder (or an encoder) with LoRA and a classification head on labelled data.",
        discussion: """
        --task seq reads {"text", "label"} JSON Lines (or a TSV with a header, e.g. GLUE's SST-2); --task \
        token reads {"tokens": [...], "tags": [...]} JSON Lines or CoNLL column files (IOB1 rewritten as \
        IOB2). No prompt: the raw text goes in, as in the reference.

        Defaults are the reference scripts': LoRA r 12, α 32, dropout 0.1 on q_proj/v_proj (an \
        encoder's query/value), the head fully trained; AdamW with weight decay 0.01, linear decay to 0 \
        without warm-up, gradient norm clipped to 1, batches of 8; causal sequence classification 10 \
        epochs at 5e-5 (llama_seq_clf.py), unmasked 20 epochs at 1e-4 (unllama_seq_clf.py), token \
        classification 10 epochs at 1e-4; max length 64 for texts (512 for sentences, so test sets are \
        not cut). The dev set (--dev, or --dev-split of the training data; never the test split, unlike \
        the reference) is scored after every epoch (or every --eval-every steps) and the best model by \
        accuracy (seq) or entity F1 (token) is what --out holds (--select loss: the lowest dev loss, as \
        the reference's Trainer picks).

        --unmasked removes the causal mask (LS-unLLaMA) and keeps the padding mask and masked pooling \
        (the reference drops both: --reference-mask reproduces that); --bidirectional-from L keeps \
        layers below L causal (BiLLM).

        Writes to --out the adapter and head in PEFT's format (adapter_config.json, \
        adapter_model.safetensors) and ls_llama.json; log.jsonl (a line per step and per evaluation) \
        and a checkpoint every --checkpoint-every steps: after a kill, --resume reaches the weights of \
        a run never interrupted.

        Example:
          ls-llama train --task seq --model data/models/SmolLM2-135M-Instruct --data train.jsonl \\
            --dev dev.jsonl --out sst2-ls
        """)

    @Option(help: "seq (one label per text) or token (one tag per word).")
    var task: LSTask = .seq

    @Option(help: "The base model: a model directory or a .gguf (any decoder or encoder the registry reads).")
    var model: String

    @Option(help: ArgumentHelp("Training data ('-': stdin).", valueName: "file"))
    var data = "-"

    @Option(help: ArgumentHelp("Dev data for model selection.", valueName: "file"))
    var dev: String?

    @Option(help: "Share of the training data held out as the dev set when --dev is not given (0: none; the last model is kept).")
    var devSplit: Double = 0.1

    @Option(help: "The labels in head order: a file (one per line) or a comma-separated list (default: those of the data; integers in the data index this list).")
    var labels: String?

    @Option(help: "Sequence pooling of the per-position logits: last, mean, max (cls: first token, for encoders). Default: last (decoders), cls (encoders).")
    var pooling: PoolingMode?

    @Flag(help: "LS-unLLaMA: remove the causal mask of a decoder.")
    var unmasked = false

    @Flag(help: "With --unmasked: also drop the padding mask and pool mean/max over the pads, as the reference does (results then depend on the padding).")
    var referenceMask = false

    @Option(help: "With --unmasked: layers below this index stay causal (BiLLM's start layer).")
    var bidirectionalFrom: Int?

    @Option(help: "Passes over the training data (default: 10; 20 for --unmasked --task seq).")
    var epochs: Int?

    @Option(help: "Learning rate (default: 5e-5 for causal seq, 1e-4 otherwise).")
    var lr: Float?

    @Option(help: "Examples per optimizer step.")
    var trainBatch = 8

    @Option(help: "AdamW weight decay (not on biases).")
    var weightDecay: Float = 0.01

    @Option(help: "Share of the steps spent warming the learning rate up.")
    var warmupRatio: Double = 0

    @Option(help: "Clip the gradients to this global norm.")
    var maxGradNorm: Float = 1.0

    @Option(help: "Tokens per input, special tokens included (default: 64 for seq, 512 for token).")
    var maxLength: Int?

    @Option(help: "LoRA rank.")
    var loraR = 12

    @Option(help: "LoRA α (scaling α/r).")
    var loraAlpha: Float = 32

    @Option(help: "LoRA dropout.")
    var loraDropout: Float = 0.1

    @Option(help: "LoRA target modules, comma-separated name suffixes (default: the model's query and value projections).")
    var loraTargets: String?

    @Option(help: "Train on the first N examples only (0: all).")
    var maxExamples = 0

    @Option(help: "Evaluate on the dev set every N steps (0: after every epoch).")
    var evalEvery = 0

    @Option(help: "Model selection on the dev set: metric (accuracy or entity F1) or loss.")
    var select = "metric"

    @OptionGroup var fields: FieldOptions
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard trainBatch >= 1, epochs.map({ $0 >= 1 }) ?? true else { throw ValidationError("--train-batch and --epochs must be at least 1") }
        guard lr.map({ $0 > 0 && $0.isFinite }) ?? true else { throw ValidationError("--lr must be a positive number") }
        guard (0..<1).contains(devSplit), (0...1).contains(warmupRatio) else { throw ValidationError("--dev-split must be in [0, 1) and --warmup-ratio in [0, 1]") }
        guard maxGradNorm > 0, loraR >= 1, loraAlpha > 0, (0..<1).contains(loraDropout) else { throw ValidationError("--max-grad-norm, --lora-r and --lora-alpha must be positive, --lora-dropout in [0, 1)") }
        guard maxLength.map({ $0 >= 2 }) ?? true, maxExamples >= 0, evalEvery >= 0 else { throw ValidationError("--max-length must be at least 2") }
        guard ["metric", "loss"].contains(select) else { throw ValidationError("--select must be metric or loss") }
        if referenceMask && !unmasked { throw ValidationError("--reference-mask applies to --unmasked models only") }
        if bidirectionalFrom != nil && !unmasked { throw ValidationError("--bidirectional-from applies to --unmasked models only") }
        if pooling != nil && task == .token { throw ValidationError("--pooling applies to --task seq only") }
    }

    var defaultEpochs: Int { epochs ?? (task == .seq && unmasked ? 20 : 10) }
    var defaultLR: Float { lr ?? (task == .seq && !unmasked ? 5e-5 : 1e-4) }

    /// What the run's result depends on (a checkpoint of other options is not resumed).
    func identity(_ config: LSConfig, examples: Int, devCount: Int) -> JSONValue {
        .object(["config": config.json, "examples": .number(JSONNumber(examples)), "dev": .number(JSONNumber(devCount)),
                 "epochs": .number(JSONNumber(defaultEpochs)), "lr": JSONValue.finite(Double(defaultLR)), "train_batch": .number(JSONNumber(trainBatch)),
                 "weight_decay": JSONValue.finite(Double(weightDecay)), "warmup_ratio": JSONValue.finite(warmupRatio), "max_grad_norm": JSONValue.finite(Double(maxGradNorm)),
                 "eval_every": .number(JSONNumber(evalEvery)), "select": .string(select), "seed": .number(JSONNumber(Int(common.seed & ((1 << 53) - 1))))])
    }

    func run() throws {
        common.apply()
        let given = labels.map(readNameList)
        var (seqs, sents) = readData(data, task: task, fields: fields.names, labels: given)
        var (devSeqs, devSents): ([SequenceExample], [TaggedSentence]) = ([], [])
        if let dev {
            (devSeqs, devSents) = readData(dev, task: task, fields: fields.names, labels: given)
        } else if devSplit > 0 {
            let n = task == .seq ? seqs.count : sents.count
            let order = RandomGenerator(seed: common.seed, stream: 0xDE5).permutation(n)
            let held = Int((Double(n) * devSplit).rounded(.down))
            if held > 0 {
                if task == .seq { devSeqs = order.suffix(held).map { seqs[$0] }; seqs = order.prefix(n - held).map { seqs[$0] } }
                else { devSents = order.suffix(held).map { sents[$0] }; sents = order.prefix(n - held).map { sents[$0] } }
            }
        }
        if maxExamples > 0 { seqs = Array(seqs.prefix(maxExamples)); sents = Array(sents.prefix(maxExamples)) }
        let found = task == .seq ? seqs.compactMap(\.label) : sents.flatMap { $0.tags ?? [] }
        guard !found.isEmpty else { fatalLoad(program: "ls-llama", path: data, problem: "no labelled training data") }
        // Labels of the dev part too: one seen only there must still have a row in the head.
        let devFound = task == .seq ? devSeqs.compactMap(\.label) : devSents.flatMap { $0.tags ?? [] }
        let labelList = given ?? collectLabels(found + devFound, tags: task == .token)
        var config = LSConfig(task: task, labels: labelList, baseModel: model, maxLength: maxLength ?? (task == .seq ? 64 : 512))
        (config.unmasked, config.referenceMask, config.bidirectionalFrom) = (unmasked, referenceMask, bidirectionalFrom)
        (config.loraRank, config.loraAlpha, config.loraDropout) = (loraR, loraAlpha, loraDropout)
        if let t = loraTargets { config.loraTargets = t.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let bundle: LSBundle
        do {
            // The pooling default depends on the model's kind, known once it is read.
            bundle = try LSModelFiles.fresh(config, seed: common.seed) { c, kind in c.pooling = pooling ?? (kind == .decoder ? .last : .cls) }
        } catch {
            fatalLoad(program: "ls-llama", path: model, problem: "\(error)")
        }
        var options = LSTrainOptions()
        (options.epochs, options.lr, options.batch, options.weightDecay) = (defaultEpochs, defaultLR, trainBatch, weightDecay)
        (options.warmupRatio, options.maxGradNorm, options.seed) = (warmupRatio, maxGradNorm, common.seed)
        do {
            let examples = try encodeTrainingExamples(bundle, sequences: seqs, sentences: sents)
            let devExamples = try encodeTrainingExamples(bundle, sequences: devSeqs, sentences: devSents)
            let devCount = task == .seq ? devSeqs.count : devSents.count
            let run = try RunDirectory(directory, program: "ls-llama",
                                       files: [LSModelFiles.configName, "adapter_model.safetensors", "adapter_config.json", "log.jsonl"],
                                       runOptions: identity(bundle.config, examples: examples.count, devCount: devCount))
            let training = try LSTraining(bundle: bundle, examples: examples, options: options)
            var best = -Double.infinity, bestStep = 0
            if let (info, tensors) = run.resumed {
                do { try training.loadState(tensors, steps: info.step) } catch {
                    throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "\(error)")
                }
                if let b = try info.extra["best"]?.numberValue?.double() { best = b }
                if let s = try info.extra["best_step"]?.numberValue?.int() { bestStep = s }
            }
            let log = try RunLog(path: run.file("log.jsonl"), keep: run.keptLines("log.jsonl"), program: "ls-llama", progress: common.showsProgress())
            func checkpoint() throws {
                try log.file.sync()
                try run.saveCheckpoint(training.stateTensors(), info: CheckpointInfo(step: training.stepsDone, lines: ["log.jsonl": log.lines],
                                                                                     extra: ["best": JSONValue.finite(best), "best_step": .number(JSONNumber(bestStep))]))
            }
            if !common.quiet {
                let trained = bundle.model.trainedTensors().reduce(0) { $0 + $1.1.count }
                printError(program: "ls-llama", "\(examples.count) examples, \(devCount) dev, \(labelList.count) labels, \(trained) trained parameters, \(training.totalSteps) steps")
            }
            let every = evalEvery > 0 ? evalEvery : training.stepsPerEpoch
            while training.stepsDone < training.totalSteps {
                let r = try training.step()
                var e = LogEntry()
                e.set("step", int: r.step)
                e.set("epoch", int: r.epoch)
                e.set("loss", r.loss)
                e.set("grad_norm", r.gradNorm)
                e.set("lr", r.lr)
                try log.write(e, progress: "step \(r.step)/\(training.totalSteps) epoch \(r.epoch) loss \(String(format: "%.4f", r.loss))")
                let last = r.step == training.totalSteps
                if devCount > 0 && (r.step % every == 0 || last) {
                    var m = LogEntry()
                    m.set("step", int: r.step)
                    m.set("epoch", int: r.epoch)
                    let devLoss = meanLoss(bundle, devExamples, batch: common.batch)
                    m.set("dev_loss", devLoss)
                    let scores = try scoresRecord(bundle, seqs: devSeqs, sents: devSents, batch: common.batch, aggregate: .first)
                    let metricName = task == .seq ? "accuracy" : "f1"
                    let metric = try scores.double(metricName)
                    for k in ["accuracy", "macro_f1", "precision", "recall", "f1"] where scores.has(k) { m.set("dev_" + k, try scores.double(k)) }
                    let value = select == "loss" ? -Double(devLoss) : metric
                    if value > best {
                        (best, bestStep) = (value, r.step)
                        try LSModelFiles.save(bundle, to: run.path)
                        m.set("best", int: 1)
                    }
                    try log.write(m, progress: "step \(r.step): dev \(metricName) \(String(format: "%.4f", metric)) loss \(String(format: "%.4f", devLoss))")
                    bundle.model.train()
                }
                if r.step % directory.checkpointEvery == 0 { try checkpoint() }
            }
            log.finish()
            try checkpoint()
            if devCount == 0 { try LSModelFiles.save(bundle, to: run.path) }
            if !common.quiet && devCount > 0 {
                printError(program: "ls-llama", "kept step \(bestStep) (dev \(select == "loss" ? "loss \(-best)" : "\(task == .seq ? "accuracy" : "F1") \(best)"))")
            }
        } catch let e as LoadError {
            fatalLoad(program: "ls-llama", e)
        } catch let e as LSLlamaError {
            printError(program: "ls-llama", "\(e)")
            throw ExitCode(1)
        } catch {
            fatalLoad(program: "ls-llama", path: directory.out, problem: "cannot write: \(error)")
        }
    }
}

/// The mean loss over labelled examples (eval mode, no dropout).
func meanLoss(_ bundle: LSBundle, _ examples: [EncodedExample], batch: Int) -> Float {
    bundle.model.eval()
    var total: Double = 0, count = 0
    withoutGrad {
        for start in stride(from: 0, to: examples.count, by: batch) {
            let chunk = Array(examples[start..<min(start + batch, examples.count)])
            let (tokens, targets) = LSTraining.batch(chunk, task: bundle.config.task, padId: bundle.padId)
            let n = bundle.config.task == .seq ? chunk.count : targets.filter { $0 != -100 }.count
            guard n > 0 else { continue }
            total += Double(bundle.model.loss(tokens, targets: targets).item()) * Double(n)
            count += n
        }
    }
    return count == 0 ? 0 : Float(total / Double(count))
}
