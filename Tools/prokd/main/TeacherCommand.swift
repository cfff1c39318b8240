// `prokd teacher`: a token classifier on labelled source sentences (TSL's teacher), with --cpa
// ProKD's contrastive prototype alignment against pseudo-labelled target sentences.
import ArgumentParser
import Foundation
import ProKDCore
import Runtime
import RuntimeCLI

struct Teacher: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the teacher on labelled source sentences (direct transfer); --cpa adds contrastive prototype alignment with unlabelled target sentences.",
        discussion: """
        Data: CoNLL column files (word first, tag last; CoNLL-2003's IOB1 rewritten as IOB2, -DOCSTART- \
        lines skipped) or JSON Lines {"tokens": [...], "tags": [...]}. The target file's tags, if it has \
        any, are never read. The tags are those of the source (and --dev), "O" first.

        TSL's recipe by default: a dropout and Linear(C, K) on the words' first sub-tokens, cross-entropy; \
        embeddings and the bottom --freeze-bottom 3 layers frozen; AdamW lr 5e-5, weight decay 0.01, \
        10% linear warm-up then linear decay, gradient norm 1, batch 32, 3 epochs, 128 tokens.

        --cpa [reconstruction]: after --cpa-warmup-epochs of cross-entropy alone, every step also takes a \
        target batch, pseudo-tags its words with the current teacher (those with confidence ≥ \
        --cpa-threshold), and adds --cpa-weight × the symmetric InfoNCE between the source and target \
        class prototypes (batch means of the final hidden states; a class absent from a batch uses a \
        moving average with --cpa-momentum) at --cpa-temperature, over --prototypes classes (types: O, \
        PER, ORG, LOC, MISC; tags: the 9 IOB2 tags).

        Model selection never uses target labels: the last epoch is kept, or with --dev (source-language \
        dev data, e.g. eng.testa) the epoch of the best entity F1 there.

        Writes to --out prokd.json, model.safetensors (the trained tensors only; the base model is read \
        from its path), log.jsonl and a checkpoint every --checkpoint-every steps (--resume continues).
        """)

    @Option(help: "The base encoder: a model directory or .gguf the registry reads (e.g. data/models/multilingual-e5-small).")
    var model: String

    @Option(help: ArgumentHelp("Labelled source sentences.", valueName: "file"))
    var source: String

    @Option(help: ArgumentHelp("Unlabelled target sentences (read by --cpa; tags never read).", valueName: "file"))
    var target: String?

    @Option(help: ArgumentHelp("Labelled source-language dev sentences for choosing the epoch.", valueName: "file"))
    var dev: String?

    @Option(help: "Use the first N source sentences only (0: all).")
    var maxSource = 0

    @Option(help: "Use the first N target sentences only (0: all).")
    var maxTarget = 0

    @Option(help: "Learning rate (TSL: 5e-5).")
    var lr: Float = 5e-5

    @Option(help: "Embeddings and the layers below this index stay frozen (TSL: 3).")
    var freezeBottom = 3

    @Flag(help: "Contrastive prototype alignment between source and target class prototypes (ProKD's teacher).")
    var cpa = false

    @Option(help: "λ_CPA: the alignment loss's weight.")
    var cpaWeight: Float = 0.1

    @Option(help: "τ of the alignment's cosine similarities.")
    var cpaTemperature: Float = 0.1

    @Option(help: "Momentum of the prototypes' moving averages.")
    var cpaMomentum: Float = 0.9

    @Option(help: "Target words take part when the teacher's confidence reaches this.")
    var cpaThreshold: Float = 0.9

    @Option(help: "Epochs of cross-entropy alone before the alignment starts.")
    var cpaWarmupEpochs = 1

    @Option(help: "Prototype classes: types (O, PER, ORG, LOC, MISC) or tags (every IOB2 tag).")
    var prototypes: PrototypeGranularity = .types

    @OptionGroup var flags: TrainingFlags
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard lr > 0, lr.isFinite, freezeBottom >= 0 else { throw ValidationError("--lr must be positive, --freeze-bottom not negative") }
        guard maxSource >= 0, maxTarget >= 0 else { throw ValidationError("--max-source and --max-target must not be negative") }
        if !cpa && target != nil { throw ValidationError("--target is read by --cpa only: add --cpa, or drop --target for direct transfer") }
        if cpa {
            guard target != nil else { throw ValidationError("--cpa needs --target (unlabelled target-language sentences)") }
            guard cpaWarmupEpochs < flags.epochs else { throw ValidationError("--cpa-warmup-epochs \(cpaWarmupEpochs) leaves none of the \(flags.epochs) epochs for the alignment") }
            guard cpaWeight >= 0, cpaTemperature > 0, (0..<1).contains(cpaMomentum), (0...1).contains(cpaThreshold), cpaWarmupEpochs >= 0 else {
                throw ValidationError("--cpa-weight ≥ 0, --cpa-temperature > 0, --cpa-momentum in [0, 1), --cpa-threshold in [0, 1], --cpa-warmup-epochs ≥ 0")
            }
        }
    }

    func run() throws {
        common.apply()
        let sourceSentences = readSentences(source, tags: true, limit: maxSource)
        let devSentences = dev.map { readSentences($0, tags: true) } ?? []
        let targetSentences = cpa ? readSentences(target!, tags: false, limit: maxTarget) : []
        if let i = sourceSentences.firstIndex(where: { $0.tags == nil }) { fail(source, ProKDError("sentence \(i + 1) has no tags")) }
        let tags = collectTags(sourceSentences.flatMap { $0.tags ?? [] } + devSentences.flatMap { $0.tags ?? [] })
        guard tags.count >= 2 else { fail(source, ProKDError("the source sentences have \(tags.count) tag(s): \(tags); a tagger needs at least 2")) }
        let config = ProKDConfig(tags: tags, baseModel: model, maxLength: flags.maxLength, freezeBottom: freezeBottom, role: .teacher)
        let bundle: TaggerBundle
        do { bundle = try TaggerFiles.fresh(config, seed: common.seed) } catch { fail(model, error) }
        var cpaOptions: CPAOptions? = nil
        if cpa {
            var c = CPAOptions()
            (c.weight, c.temperature, c.momentum, c.threshold, c.warmupEpochs, c.granularity) = (cpaWeight, cpaTemperature, cpaMomentum, cpaThreshold, cpaWarmupEpochs, prototypes)
            cpaOptions = c
        }
        try exitOnError(directory.out) {
            let encoder = bundle.encoder
            let sourceExamples = try wrapInput(source) { try encoder.encode(sourceSentences, labelled: true) }
            let targetExamples = try wrapInput(target ?? "-") { try encoder.encode(targetSentences, labelled: false) }
            var id: [(String, JSONValue)] = [("config", bundle.config.json), ("source", .number(JSONNumber(sourceExamples.count))),
                                            ("target", .number(JSONNumber(targetExamples.count))), ("dev", .number(JSONNumber(devSentences.count))),
                                            ("lr", .finite(Double(lr))), ("seed", .number(JSONNumber(Int(common.seed & ((1 << 53) - 1)))))] + flags.json
            if let c = cpaOptions {
                id += [("cpa_weight", .finite(Double(c.weight))), ("cpa_temperature", .finite(Double(c.temperature))), ("cpa_momentum", .finite(Double(c.momentum))),
                       ("cpa_threshold", .finite(Double(c.threshold))), ("cpa_warmup_epochs", .number(JSONNumber(c.warmupEpochs))), ("prototypes", .string(c.granularity.rawValue))]
            }
            let run = try RunDirectory(directory, program: "prokd", files: [TaggerFiles.configName, TaggerFiles.weightsName, "log.jsonl"], runOptions: identity(id))
            let training = try TeacherTraining(tagger: bundle.tagger, padId: bundle.padId, source: sourceExamples, target: targetExamples,
                                               cpa: cpaOptions, options: flags.options(lr: lr, seed: common.seed))
            if !common.quiet {
                let trained = bundle.tagger.trainedTensors().reduce(0) { $0 + $1.1.count }
                printError(program: "prokd", "teacher: \(sourceExamples.count) source sentences, \(targetExamples.count) target, \(devSentences.count) dev, \(tags.count) tags, \(trained) trained parameters, \(training.totalSteps) steps")
            }
            try trainToEnd(training, step: training.step, bundle: bundle, dev: devSentences, run: run, every: directory.checkpointEvery, common: common)
        }
    }
}
