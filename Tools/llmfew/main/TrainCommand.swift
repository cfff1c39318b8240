// `llmfew train`: PTCEnc + a LoRA-adapted decoder + a head, trained on K shots per class.
import ArgumentParser
import Foundation
import LLMFewCore
import Runtime
import RuntimeCLI

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an LLMFew classifier on K labelled series per class.",
        discussion: """
        Reads series records ({"series": [[…], …], "label": …}, or a UEA .ts file). Defaults are the \
        reference's (main.py): 1 shot per class (--shots 0: every training series), patches of 16 steps \
        every 8, PTCEnc with 256 channels, depth 3, reduced size 128, kernel 3, dropout 0.1; Adam at 1e-3 \
        without weight decay, the rate ×0.8 every 50 epochs, 200 epochs, batches of 4. LoRA r 8, α 32, \
        dropout as --dropout, on the decoder's query and value projections, is our choice: the \
        original's LoRA settings are not published.

        Classes are the training labels sorted as strings (numpy.unique of string labels, as the \
        reference). Series shorter than --length (default: the longest series of the files given) are \
        zero-padded at the end; longer ones are errors at prediction time.

        Model selection: --val-split of each class is held out before the shots are drawn (or \
        --validation FILE) and the epoch with the best validation accuracy (then lowest loss) is kept; \
        with no validation set the last epoch is kept. --reference-selection instead keeps the first \
        epoch with the best *test* macro accuracy (--test FILE, after epochs 1, 3, 5, …), with the shots \
        drawn from the whole training set, as the reference does: its figure is a maximum over many \
        test evaluations and overstates what a user gets.

        The head returns logits and the loss applies one softmax; --reference-head restores the \
        reference's Dropout on the logits and the Softmax before CrossEntropyLoss (a double softmax). \
        Ablations: --llm frozen (no LoRA), --llm none (PTCEnc and the head only; width from --model or \
        --width).

        Writes to --out llmfew.json, model.safetensors (PTCEnc, LayerNorm and head under the \
        reference's names) and the adapter in PEFT's format; log.jsonl (a line per step and per \
        evaluation) and a checkpoint every --checkpoint-every steps: --resume continues a killed run to \
        the weights of one never stopped.

        Example:
          llmfew convert --ts BasicMotions_TRAIN.ts > bm-train.jsonl
          llmfew train --model data/models/SmolLM2-135M-Instruct --data bm-train.jsonl --shots 0 --out bm
        """)

    @Option(help: "The decoder: a model directory or a .gguf (any decoder the registry reads).")
    var model: String?

    @Option(help: ArgumentHelp("Training series (JSON Lines, '-': stdin, or a .ts file).", valueName: "file"))
    var data = "-"

    @Option(help: "Series per class to train on (0: all).")
    var shots = 1

    @Option(help: ArgumentHelp("Validation series for model selection (instead of --val-split).", valueName: "file"))
    var validation: String?

    @Option(name: .customLong("val-split"), help: "Share of each class held out for validation before the shots are drawn (0: none, the last epoch is kept; default 0.2, 0 with --reference-selection).")
    var valSplitOption: Double?

    var valSplit: Double { valSplitOption ?? 0.2 }
    /// The share held out in this run: none with --validation, none by default with --reference-selection.
    var effectiveValSplit: Double { validation != nil ? 0 : (referenceSelection && valSplitOption == nil ? 0 : valSplit) }

    @Option(help: ArgumentHelp("Test series, read only with --reference-selection.", valueName: "file"))
    var test: String?

    @Flag(help: "Keep the epoch with the best test macro accuracy, as the reference does (needs --test; inflates the result).")
    var referenceSelection = false

    @Option(help: "The classes in head order: a file (one per line) or a comma-separated list (default: the training labels, sorted).")
    var classes: String?

    @Option(help: "Series length the model takes (default: the longest training/validation series).")
    var length: Int?

    @Option(help: "Steps per patch.")
    var patchLen = 16
    @Option(help: "Steps between patch starts.")
    var stride = 8
    @Option(help: "PTCEnc channels.")
    var channels = 256
    @Option(help: "PTCEnc blocks before the reducing one (dilations 1, 2, 4, …).")
    var depth = 3
    @Option(help: "PTCEnc output channels before the projection.")
    var reducedSize = 128
    @Option(help: "PTCEnc kernel size.")
    var kernelSize = 3
    @Option(help: "Dropout on the patch embeddings (also the LoRA dropout unless --lora-dropout, and on the logits with --reference-head).")
    var dropout: Float = 0.1

    @Option(help: "lora (LLMFew), frozen (decoder without adapters) or none (no decoder).")
    var llm: LLMMode = .lora
    @Option(help: "Embedding width with --llm none and no --model.")
    var width: Int?
    @Option(help: "LoRA rank.")
    var loraR = 8
    @Option(help: "LoRA α (scaling α/r).")
    var loraAlpha: Float = 32
    @Option(help: "LoRA dropout (default: --dropout, as the reference sets it).")
    var loraDropout: Float?
    @Option(help: "LoRA target modules, comma-separated name suffixes (default: the decoder's query and value projections).")
    var loraTargets: String?
    @Flag(help: "The reference's head: Dropout on the logits and a Softmax before the cross-entropy.")
    var referenceHead = false

    @Option(help: "Passes over the training series.")
    var epochs = 200
    @Option(help: "Series per optimizer step.")
    var trainBatch = 4
    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3
    @Option(help: "Adam weight decay (L2, as torch.optim.Adam).")
    var weightDecay: Float = 0
    @Option(help: "Epochs between learning-rate decays (StepLR step_size).")
    var stepSize = 50
    @Option(help: "Learning-rate factor at each decay (StepLR gamma).")
    var gamma: Double = 0.8
    @Option(help: "Epochs between evaluations (validation, or test with --reference-selection); the last epoch is always evaluated.")
    var evalEvery = 2

    @OptionGroup var fields: SeriesFieldOptions
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard shots >= 0 else { throw ValidationError("--shots must be 0 (all) or more") }
        guard patchLen >= 1, stride >= 1, channels >= 1, reducedSize >= 1, kernelSize >= 1, (0...16).contains(depth) else {
            throw ValidationError("--patch-len, --stride, --channels, --reduced-size and --kernel-size must be at least 1, --depth in 0…16")
        }
        guard loraR >= 1, loraAlpha > 0 else { throw ValidationError("--lora-r must be at least 1 and --lora-alpha positive") }
        if let length, length < 1 { throw ValidationError("--length must be at least 1") }
        guard (0..<1).contains(valSplit) else { throw ValidationError("--val-split must be in [0, 1)") }
        guard epochs >= 1, epochs <= 1_000_000, trainBatch >= 1, evalEvery >= 1, stepSize >= 1 else {
            throw ValidationError("--epochs, --train-batch, --eval-every and --step-size must be at least 1")
        }
        guard lr > 0 && lr.isFinite, weightDecay >= 0, gamma > 0 else { throw ValidationError("--lr and --gamma must be positive, --weight-decay not negative") }
        guard (0..<1).contains(dropout), loraDropout.map({ (0..<1).contains($0) }) ?? true else { throw ValidationError("dropouts must be in [0, 1)") }
        if referenceSelection && test == nil { throw ValidationError("--reference-selection needs --test") }
        if test != nil && !referenceSelection { throw ValidationError("--test is read only with --reference-selection (test sets are for `llmfew eval`)") }
        if llm != .none && model == nil { throw ValidationError("--model is needed (or --llm none with --width)") }
        if llm == .none && model == nil && width == nil { throw ValidationError("--llm none needs --width or --model (whose width it takes)") }
        if let width, width < 1 { throw ValidationError("--width must be at least 1") }
    }

    func identity(_ config: LLMFewConfig, train: Int, validation: Int) -> JSONValue {
        func n(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }
        return .object(["config": config.json, "train": n(train), "validation": n(validation), "shots": n(shots),
                        "val_split": JSONValue.finite(effectiveValSplit), "epochs": n(epochs), "train_batch": n(trainBatch),
                        "lr": JSONValue.finite(Double(lr)), "weight_decay": JSONValue.finite(Double(weightDecay)),
                        "step_size": n(stepSize), "gamma": JSONValue.finite(gamma), "eval_every": n(evalEvery),
                        "reference_selection": .bool(referenceSelection), "seed": n(Int(common.seed & ((1 << 53) - 1)))])
    }

    func run() throws {
        common.apply()
        let all = readSeriesOrExit(data, fields: fields)
        guard !all.isEmpty else { fatalLoad(program: "llmfew", path: data, problem: "no series") }
        let given = validation.map { readSeriesOrExit($0, fields: fields) }
        let testSet = test.map { readSeriesOrExit($0, fields: fields) }
        let labels = all.compactMap(\.label) + (given ?? []).compactMap(\.label)
        let classList = classes.map(readNameList) ?? sortedClasses(labels)
        do {
            // --reference-selection draws the shots from the whole training set, as the reference does,
            // unless --val-split is given.
            let (trainSet, heldOut) = try selectTrainingSet(all, classes: classList, validationSplit: effectiveValSplit,
                                                            shots: shots, seed: common.seed)
            let valSet = given ?? heldOut
            let m = all[0].dimensions
            let every = all + (given ?? []) + (testSet ?? [])
            if let bad = every.first(where: { $0.dimensions != m }) {
                throw LLMFewError("series with \(bad.dimensions) and \(m) channels: every series needs the same channels")
            }
            // The longest series of every file given (not of the shots drawn: a model must take the
            // lengths its data has, whatever the seed).
            var config = LLMFewConfig(classes: classList, dimensions: m,
                                      length: length ?? every.map(\.length).max()!, width: width ?? 1)
            (config.patchLen, config.stride, config.channels, config.depth) = (patchLen, stride, channels, depth)
            (config.reduced, config.kernel, config.dropout) = (reducedSize, kernelSize, dropout)
            (config.llm, config.baseModel, config.referenceHead) = (llm, model, referenceHead)
            (config.loraRank, config.loraAlpha, config.loraDropout) = (loraR, loraAlpha, loraDropout ?? dropout)
            if let t = loraTargets { config.loraTargets = t.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            if llm == .none, width == nil, let model {
                // The width of the decoder the LLM runs would use, for a like-for-like ablation.
                config.width = try LLMFewFiles.decoderWidth(model)
                config.baseModel = nil
            }
            let net: LLMFewModel
            do { net = try LLMFewFiles.fresh(config, seed: common.seed) } catch let e as LLMFewError { throw e } catch {
                fatalLoad(program: "llmfew", path: model ?? "", problem: "\(error)")
            }
            try trainLoop(net, trainSet: trainSet, valSet: valSet, testSet: testSet)
        } catch let e as LoadError {
            fatalLoad(program: "llmfew", e)
        } catch let e as LLMFewError {
            printError(program: "llmfew", "\(e)")
            throw ExitCode(1)
        } catch let e as ExitCode {
            throw e
        } catch {
            fatalLoad(program: "llmfew", path: directory.out, problem: "cannot write: \(error)")
        }
    }

    func trainLoop(_ net: LLMFewModel, trainSet: [Series], valSet: [Series], testSet: [Series]?) throws {
        var options = LLMFewTrainOptions()
        (options.epochs, options.batch, options.lr, options.weightDecay) = (epochs, trainBatch, lr, weightDecay)
        (options.stepSize, options.gamma, options.seed) = (stepSize, gamma, common.seed)
        let training = try LLMFewTraining(model: net, series: trainSet, targets: try classTargets(trainSet, classes: net.config.classes), options: options)
        let selectOn: [Series]? = referenceSelection ? testSet : (valSet.isEmpty ? nil : valSet)
        // Validate labels of the selection set up front (a bad label is an error now, not at epoch 2).
        if let selectOn { _ = try classTargets(selectOn, classes: net.config.classes) }
        _ = try patchValues(trainSet + valSet + (testSet ?? []), dimensions: net.config.dimensions, length: net.config.length,
                            patch: net.config.patchLen, stride: net.config.stride)
        let run = try RunDirectory(directory, program: "llmfew",
                                   files: [LLMFewFiles.configName, LLMFewFiles.weightsName, "adapter_model.safetensors", "adapter_config.json", "log.jsonl"],
                                   runOptions: identity(net.config, train: trainSet.count, validation: valSet.count))
        var best = (metric: -Double.infinity, loss: Double.infinity), bestEpoch = 0
        if let (info, tensors) = run.resumed {
            do { try training.loadState(tensors, steps: info.step) } catch {
                throw LoadError(path: run.file(RunDirectory.checkpointName), problem: "\(error)")
            }
            if let b = try info.extra["best"]?.numberValue?.double() { best.metric = b }
            if let b = try info.extra["best_loss"]?.numberValue?.double() { best.loss = b }
            if let e = try info.extra["best_epoch"]?.numberValue?.int() { bestEpoch = e }
        }
        let log = try RunLog(path: run.file("log.jsonl"), keep: run.keptLines("log.jsonl"), program: "llmfew", progress: common.showsProgress())
        func checkpoint() throws {
            try log.file.sync()
            try run.saveCheckpoint(training.stateTensors(), info: CheckpointInfo(
                step: training.stepsDone, lines: ["log.jsonl": log.lines],
                extra: ["best": JSONValue.finite(best.metric), "best_loss": JSONValue.finite(best.loss), "best_epoch": .number(JSONNumber(bestEpoch))]))
        }
        if !common.quiet {
            let trained = trainedTensors(net).reduce(0) { $0 + $1.1.count }
            printError(program: "llmfew", "\(trainSet.count) training series, \(valSet.count) validation, \(net.config.classes.count) classes, \(net.config.patches) patches of \(net.config.patchLen), \(trained) trained parameters, \(training.totalSteps) steps")
        }
        while training.stepsDone < training.totalSteps {
            let r = try training.step()
            var e = LogEntry()
            e.set("step", int: r.step)
            e.set("epoch", int: r.epoch)
            e.set("loss", r.loss)
            e.set("lr", r.lr)
            try log.write(e, progress: "step \(r.step)/\(training.totalSteps) epoch \(r.epoch) loss \(String(format: "%.4f", r.loss))")
            let epochEnd = r.step % training.stepsPerEpoch == 0
            // The reference tests after 0-based epochs 0, 2, 4, …: 1-based epochs 1, 3, 5, … (and not
            // necessarily the last); validation selection also scores the last epoch.
            let due = epochEnd && ((r.epoch - 1) % evalEvery == 0 || (!referenceSelection && r.step == training.totalSteps))
            if let selectOn, due {
                let (s, loss) = try evaluate(net, selectOn, batch: common.batch)
                let name = referenceSelection ? "test" : "val"
                var m = LogEntry()
                m.set("epoch", int: r.epoch)
                for (k, v) in s.named { m.set(name + "_" + k, v) }
                m.set(name + "_loss", loss)
                let metric = referenceSelection ? s.macroAccuracy : s.accuracy
                // The reference keeps the first epoch of the best test figure (strictly greater).
                if metric > best.metric || (!referenceSelection && metric == best.metric && loss < best.loss) {
                    best = (metric, loss)
                    bestEpoch = r.epoch
                    try LLMFewFiles.save(net, to: run.path)
                    m.set("best", int: 1)
                }
                try log.write(m, progress: "epoch \(r.epoch): \(name) accuracy \(String(format: "%.4f", s.accuracy)) loss \(String(format: "%.4f", loss))")
            }
            if r.step % directory.checkpointEvery == 0 || r.step == training.totalSteps { try checkpoint() }
        }
        log.finish()
        if selectOn == nil { try LLMFewFiles.save(net, to: run.path) }
        if !common.quiet {
            printError(program: "llmfew", selectOn == nil ? "kept the last epoch (no validation set)"
                       : "kept epoch \(bestEpoch) (\(referenceSelection ? "test macro accuracy" : "validation accuracy") \(String(format: "%.4f", best.metric)))")
        }
    }
}
