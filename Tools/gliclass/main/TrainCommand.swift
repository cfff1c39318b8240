// `gliclass train`: fine-tune a GLiClass model, or build one on a plain encoder, as the reference's
// train.py does (same defaults), with a durable run directory (checkpoints, --resume).
import ArgumentParser
import Foundation
import GLiClassCore
import Runtime
import RuntimeCLI

extension TextPooling: ExpressibleByArgument {}
extension ClassPooling: ExpressibleByArgument {}
extension ScorerType: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a GLiClass model on labelled texts (from a plain encoder, or continue a GLiClass model).",
        discussion: """
        Items are the reference's format, a JSON array or JSON Lines: {"text", "all_labels": [...], \
        "true_labels": [...] or {label: weight}} (optional "examples", "prompt"). With --model a plain \
        encoder directory (BERT, DeBERTa-v2/v3, RoBERTa, ...), <<LABEL>>, <<SEP>> and <<EXAMPLE>> are \
        added to its tokenizer and embeddings and new heads are drawn from --seed; with a GLiClass \
        directory training continues from it (its architecture options are then its own).

        As train.py: AdamW with the encoder at --encoder-lr and the heads at --lr (weight decay 0.01, \
        none on biases and norms), linear schedule with 5% warm-up, gradients clipped to norm 1, 3 \
        epochs of batches of 8, augmentation on (label removal/addition, text addition, few-shot \
        examples), 10% of the items held out (--eval-split) and scored after every epoch (micro/macro \
        F1 in log.jsonl). Writes the model to --out as the reference's save_pretrained does (it loads \
        in Python with GLiClassModel.from_pretrained), log.jsonl (one line per step and per evaluation) \
        and a checkpoint every --checkpoint-every steps: after a kill, --resume reaches the weights of \
        a run never interrupted. The saved model loads in the reference package; its pipeline pools as \
        the reference does (over padding and label tokens), so Python's scores are this program's with \
        --reference-pooling --reference-segments --batch 1: train with those flags for a model meant to \
        be served from Python.

        Example:
          gliclass train --model data/models/deberta-v3-small --data train.json --out my-gliclass
        """)

    @Option(help: "A plain encoder directory (a new GLiClass model) or a GLiClass model directory (continue training).")
    var model: String

    @Option(help: ArgumentHelp("Training items: a JSON array or JSON Lines ('-': stdin).", valueName: "file"))
    var data = "-"

    @Option(help: ArgumentHelp("Held-out items scored after every epoch (default: --eval-split of --data).", valueName: "file"))
    var eval: String?

    @Option(help: "Share of the items held out for evaluation when --eval is not given (0: none).")
    var evalSplit: Double = 0.1

    @Option(help: "Passes over the training items.")
    var epochs = 3

    @Option(help: "Items per optimizer step.")
    var trainBatch = 8

    @Option(help: "Learning rate of the heads (the reference's others_lr).")
    var lr: Float = 3e-5

    @Option(help: "Learning rate of the encoder.")
    var encoderLr: Float = 1e-5

    @Option(help: "Weight decay of the heads.")
    var weightDecay: Float = 0.01

    @Option(help: "Weight decay of the encoder.")
    var encoderWeightDecay: Float = 0.01

    @Option(help: "Share of the steps spent warming the learning rate up (linear schedule).")
    var warmupRatio: Double = 0.05

    @Option(help: "Clip the gradients to this global norm.")
    var maxGradNorm: Float = 1.0

    @Option(help: "Tokens per input (special tokens included; capped at the encoder's positions).")
    var maxLength = 1024

    @Flag(help: "Train the heads only (the encoder stays as it is).")
    var freezeEncoder = false

    @Option(help: "Multi-label decision threshold for the evaluation.")
    var threshold: Float = 0.5

    // A new model's architecture (the reference's train.py defaults).
    @Option(help: "New model: text pooling (first, last, avg, max, sum, rms, abs_max, abs_avg, pass).")
    var pooling: TextPooling = .avg

    @Option(help: "New model: scorer (simple, weighted-dot, mlp, hopfield, cross-attn).")
    var scorer: ScorerType = .simple

    @Option(help: "New model: label read-out (first: the <<LABEL>> token; average: its label's tokens).")
    var classTokenPooling: ClassPooling = .first

    @Option(help: "New model: the labels before the text (true) or after it (false).")
    var promptFirst = true

    @Option(help: "New model: dropout on the pooled text.")
    var dropout: Float = 0.3

    @Flag(help: "New model: one label per text, cross-entropy over its labels (default: multi-label, BCE per label).")
    var singleLabel = false

    @Option(help: "New model: focal loss α (−1: none).")
    var focalAlpha: Float = -1

    @Option(help: "New model: focal loss γ (−1: none).")
    var focalGamma: Float = -1

    @Option(help: "New model: weight of the label-contrastive loss.")
    var contrastiveCoef: Float = 0

    @Flag(help: "New model: L2-normalize text and label vectors and scale by a learned logit scale.")
    var normalizeFeatures = false

    @Flag(help: "New model: pool the text from the tokens after <<SEP>> only.")
    var extractTextFeatures = false

    @Flag(help: "New model: add learned segment embeddings (labels, text, examples).")
    var segmentEmbeddings = false

    @Flag(help: "New model: loss summed over every encoder layer's states.")
    var layerWise = false

    @Flag(help: "New model: a learned mix of the encoder's layers instead of the last.")
    var squeezeLayers = false

    @Option(help: "New model: read this encoder layer instead of the last (−1: the last).")
    var encoderLayerId = -1

    // Augmentation (train.py's probabilities).
    @Flag(help: "No augmentation (labels keep their order).")
    var noAugment = false

    @Option(help: "Probability of dropping some of an item's labels.")
    var labelRemoval: Float = 0.05

    @Option(help: "Probability of adding labels from the rest of the data.")
    var labelAddition: Float = 0.05

    @Option(help: "Probability of gluing another item's text (with disjoint labels) to this one's.")
    var textAddition: Float = 0.05

    @Option(help: "Probability of adding 1-2 few-shot examples that share a true label.")
    var addExamples: Float = 0.1

    @Option(help: "Candidates considered for few-shot examples.")
    var maxExamples = 5

    // The reference's RL trainer (RLTraining.swift).
    @Flag(help: "Train with the reference's PPO trainer: labels drawn as Bernoulli actions, per-text F1 as the reward, batch-mean baseline, clipped ratio (constant learning rate).")
    var rl = false

    @Option(help: "RL: PPO clip range.")
    var rlClip: Float = 0.2

    @Option(help: "RL: PPO updates per batch (1-8).")
    var rlIterations = 3

    @Option(help: "RL: weight of the KL term to the start model (≤ 0: off; the start model is kept in memory).")
    var klBeta: Float = -1

    @Option(help: "RL: weight of the mean label entropy added to the loss (≤ 0: off; positive values sharpen, as the reference's sign).")
    var entropyBeta: Float = -1

    @OptionGroup var quirkOptions: QuirkOptions
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard epochs >= 1, trainBatch >= 1, trainBatch <= 255 else { throw ValidationError("--epochs must be at least 1 and --train-batch 1-255") }
        guard lr > 0, encoderLr >= 0, lr.isFinite, encoderLr.isFinite else { throw ValidationError("--lr must be positive and --encoder-lr not negative") }
        guard (0..<1).contains(evalSplit) else { throw ValidationError("--eval-split must be in [0, 1)") }
        guard (0...1).contains(warmupRatio) else { throw ValidationError("--warmup-ratio must be in [0, 1]") }
        guard (1...8).contains(rlIterations), rlClip > 0 else { throw ValidationError("--rl-iterations must be 1-8 and --rl-clip positive") }
        guard maxGradNorm > 0, maxLength >= 8, maxExamples >= 0 else { throw ValidationError("--max-grad-norm must be positive, --max-length at least 8") }
        for (name, p) in [("label-removal", labelRemoval), ("label-addition", labelAddition), ("text-addition", textAddition), ("add-examples", addExamples)] {
            guard (0...1).contains(p) else { throw ValidationError("--\(name) must be a probability") }
        }
    }

    var augment: AugmentOptions {
        if noAugment { return .none }
        var a = AugmentOptions()
        (a.removal, a.addition, a.text, a.examples, a.maxExamples) = (labelRemoval, labelAddition, textAddition, addExamples, maxExamples)
        return a
    }

    func configure(_ c: inout GLiClassConfig) {
        c.poolingStrategy = pooling
        c.scorerType = scorer
        c.classTokenPooling = classTokenPooling
        c.promptFirst = promptFirst
        c.dropout = dropout
        c.problemType = singleLabel ? .singleLabel : .multiLabel
        c.focalLossAlpha = focalAlpha
        c.focalLossGamma = focalGamma
        c.contrastiveLossCoef = contrastiveCoef
        c.normalizeFeatures = normalizeFeatures
        c.extractTextFeatures = extractTextFeatures
        c.useSegmentEmbeddings = segmentEmbeddings
        c.layerWise = layerWise
        c.squeezeLayers = squeezeLayers
        c.encoderLayerId = encoderLayerId
    }

    /// What the run's result depends on (a checkpoint of other options is not resumed).
    func identity(items: Int, evalItems: Int, continuing: Bool) -> JSONValue {
        func n(_ x: Float) -> JSONValue { .number(JSONNumber(x) ?? JSONNumber(0)) }
        func n(_ x: Double) -> JSONValue { .number(JSONNumber(x) ?? JSONNumber(0)) }
        func n(_ x: Int) -> JSONValue { .number(JSONNumber(x)) }
        var o: [String: JSONValue] = [
            "model": .string(model), "continuing": .bool(continuing), "items": n(items), "eval_items": n(evalItems),
            "epochs": n(epochs), "train_batch": n(trainBatch), "lr": n(lr), "encoder_lr": n(encoderLr),
            "weight_decay": n(weightDecay), "encoder_weight_decay": n(encoderWeightDecay), "warmup_ratio": n(warmupRatio),
            "max_grad_norm": n(maxGradNorm), "max_length": n(maxLength), "freeze_encoder": .bool(freezeEncoder),
            "seed": n(Int(common.seed & ((1 << 53) - 1))),
            "rl": .array([.bool(rl), n(rlClip), n(rlIterations), n(klBeta), n(entropyBeta)]),
            "reference": .array([.bool(quirkOptions.referencePooling), .bool(quirkOptions.referenceSegments), .bool(quirkOptions.referenceTruncation)]), "augment": .array([n(augment.removal), n(augment.addition), n(augment.text), n(augment.examples), n(augment.maxExamples)]),
        ]
        if !continuing {
            o["architecture"] = .array([pooling.rawValue, scorer.rawValue, classTokenPooling.rawValue, "\(promptFirst)", "\(dropout)", "\(singleLabel)",
                                        "\(focalAlpha)", "\(focalGamma)", "\(contrastiveCoef)", "\(normalizeFeatures)", "\(extractTextFeatures)",
                                        "\(segmentEmbeddings)", "\(layerWise)", "\(squeezeLayers)", "\(encoderLayerId)"].map { .string($0) })
        }
        return .object(JSONObject(o.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) }))
    }

    func run() throws {
        common.apply()
        var items = loadOrExit(data) { try readTrainingItems(path: data == "-" ? "/dev/stdin" : data) }
        guard !items.isEmpty else { fatalLoad(program: "gliclass", path: data, problem: "no training items") }
        var evalItems: [TrainingItem] = []
        if let eval {
            evalItems = loadOrExit(eval) { try readTrainingItems(path: eval) }
        } else if evalSplit > 0 && items.count >= 10 {
            // As train.py: shuffle, then the last share is held out.
            let order = RandomGenerator(seed: common.seed, stream: 0x5E11).permutation(items.count)
            let held = Int((Double(items.count) * evalSplit).rounded(.down))
            evalItems = order.suffix(held).map { items[$0] }
            items = order.prefix(items.count - held).map { items[$0] }
        }
        let continuing = GLiClassCheckpoint.isGLiClass(model)
        let bundle: GLiClassBundle
        do {
            bundle = continuing ? try GLiClassCheckpoint.load(directory: model)
                                : try GLiClassCheckpoint.fresh(encoder: model, seed: common.seed) { configure(&$0) }
        } catch {
            fatalLoad(program: "gliclass", path: model, problem: "\(error)", hint: "give a plain encoder directory or a GLiClass model directory")
        }
        bundle.model.setQuirks(quirkOptions.quirks)
        var options = TrainOptions()
        options.referenceTruncation = quirkOptions.referenceTruncation
        (options.epochs, options.batch, options.lr, options.encoderLR) = (epochs, trainBatch, lr, encoderLr)
        (options.weightDecay, options.encoderWeightDecay, options.warmupRatio, options.maxGradNorm) = (weightDecay, encoderWeightDecay, warmupRatio, maxGradNorm)
        (options.maxLength, options.seed, options.augment) = (effectiveMaxLength(maxLength, bundle: bundle), common.seed, augment)
        options.freeze = freezeEncoder ? "model.encoder_model." : nil
        if rl {
            var r = RLOptions()
            (r.clip, r.iterations, r.klBeta, r.entropyBeta) = (rlClip, rlIterations, klBeta, entropyBeta)
            (r.alpha, r.gamma) = (focalAlpha, focalGamma)
            options.rl = r
        }
        do {
            let run = try RunDirectory(directory, program: "gliclass", files: ["config.json", "model.safetensors", "tokenizer.json", "log.jsonl"],
                                       runOptions: identity(items: items.count, evalItems: evalItems.count, continuing: continuing))
            let training = try GLiClassTraining(bundle: bundle, items: items, options: options)
            if rl && klBeta > 0 {
                // The start model, frozen (a fresh one is drawn from the same seed, so it is the same).
                let start = continuing ? try GLiClassCheckpoint.load(directory: model)
                                       : try GLiClassCheckpoint.fresh(encoder: model, seed: common.seed) { configure(&$0) }
                start.model.setQuirks(quirkOptions.quirks)
                training.referenceModel = start.model
            }
            if let (info, tensors) = run.resumed {
                do { try training.loadState(tensors, steps: info.step) } catch {
                    throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "\(error)")
                }
            }
            let log = try RunLog(path: run.file("log.jsonl"), keep: run.keptLines("log.jsonl"), program: "gliclass", progress: common.showsProgress())
            func checkpoint() throws {
                try log.file.sync()
                try run.saveCheckpoint(training.stateTensors(), info: CheckpointInfo(step: training.stepsDone, lines: ["log.jsonl": log.lines]))
            }
            while training.stepsDone < training.totalSteps {
                let r = try training.step()
                var e = LogEntry()
                e.set("step", int: r.step)
                e.set("epoch", int: r.epoch)
                e.set("loss", r.loss)
                e.set("grad_norm", r.gradNorm)
                e.set("lr", r.lr)
                if let reward = r.reward { e.set("reward", reward) }
                try log.write(e, progress: "step \(r.step)/\(training.totalSteps) epoch \(r.epoch) loss \(String(format: "%.4f", r.loss))")
                if r.step % training.stepsPerEpoch == 0 && !evalItems.isEmpty {
                    let s = evaluate(bundle, items: evalItems, maxLength: options.maxLength, threshold: threshold, batch: common.batch)
                    var m = LogEntry()
                    m.set("step", int: r.step)
                    m.set("epoch", int: r.epoch)
                    m.set("eval_items", int: s.records)
                    for (k, v) in s.named { m.set("eval_" + k, v) }
                    try log.write(m, progress: "epoch \(r.epoch): eval micro F1 \(String(format: "%.4f", s.microF1)) macro F1 \(String(format: "%.4f", s.macroF1))")
                }
                if r.step % directory.checkpointEvery == 0 { try checkpoint() }
            }
            log.finish()
            try checkpoint()
            try GLiClassCheckpoint.save(bundle, to: run.path, metadata: ["producer": "gliclass train"])
        } catch let e as LoadError {
            fatalLoad(program: "gliclass", e)
        } catch let e as GLiClassError {
            printError(program: "gliclass", "\(e)")
            throw ExitCode(1)
        } catch {
            fatalLoad(program: "gliclass", path: directory.out, problem: "cannot write: \(error)")
        }
    }
}
