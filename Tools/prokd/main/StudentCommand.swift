// `prokd student`: TSL's student distilled from a teacher on unlabelled target sentences, with --pst
// ProKD's prototypical self-training.
import ArgumentParser
import Foundation
import ProKDCore
import Runtime
import RuntimeCLI

struct Student: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Distil a teacher into a student on unlabelled target sentences (TSL); --pst adds prototypical self-training.",
        discussion: """
        The teacher's tag distributions of every target word (its first sub-token, eval mode) are the \
        soft targets; the student starts from the pretrained encoder (--model, default the teacher's \
        base; TSL) or from the teacher itself (--from-teacher) and minimises the mean squared error \
        between its softmax and the teacher's (TSL's L2 distillation). Target tags are never read. \
        Recipe as TSL's: lr 1e-4, the rest as `prokd teacher`.

        --pst [reconstruction]: from epoch --pst-from-epoch on, the target words' prototypes in the \
        student's feature space are computed when each epoch starts (mean final hidden states per \
        class of the teacher's argmax, --prototypes classes); each word's distances d to them (--pst-distance \
        cosine: 1 − cos; l2: squared Euclidean) weight the teacher's distribution, q_t ∝ \
        softmax(−d/τ)[class(t)] · p_t (τ: --pst-temperature), and words with max q ≥ --pst-threshold add \
        --pst-weight × cross-entropy towards argmax q.

        More rounds: a student directory is a teacher too (`prokd student --teacher s1 … --out s2`).
        The last epoch is kept (no target labels to choose by).
        """)

    @Option(help: "A directory written by `prokd teacher` (or `prokd student`).")
    var teacher: String

    @Option(help: ArgumentHelp("Unlabelled target sentences (tags never read).", valueName: "file"))
    var target: String

    @Option(help: "The student's base encoder (default: the teacher's).")
    var model: String?

    @Option(help: "The teacher's base model, if it moved since training.")
    var base: String?

    @Flag(help: "Start the student from the teacher's weights instead of the pretrained encoder.")
    var fromTeacher = false

    @Option(help: "Use the first N target sentences only (0: all).")
    var maxTarget = 0

    @Option(help: "Learning rate (TSL's distillation default: 1e-4).")
    var lr: Float = 1e-4

    @Option(help: "Embeddings and the layers below this index stay frozen (default: the teacher's).")
    var freezeBottom: Int?

    @Flag(help: "Prototypical self-training on rectified pseudo-labels (ProKD's student).")
    var pst = false

    @Option(help: "λ_PST: the self-training loss's weight.")
    var pstWeight: Float = 1.0

    @Option(help: "τ of the prototype assignment softmax(−d/τ).")
    var pstTemperature: Float = 0.1

    @Option(help: "Words are self-trained when the rectified label's probability reaches this.")
    var pstThreshold: Float = 0.9

    @Option(help: "Distance to a prototype: cosine (1 − cos) or l2 (squared Euclidean).")
    var pstDistance: PrototypeDistance = .cosine

    @Option(help: "The first epoch (1-based) with self-training; earlier epochs distil only.")
    var pstFromEpoch = 2

    @Option(help: "Prototype classes: types (O, PER, ORG, LOC, MISC) or tags (every IOB2 tag).")
    var prototypes: PrototypeGranularity = .types

    @OptionGroup var flags: TrainingFlags
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard lr > 0, lr.isFinite, freezeBottom.map({ $0 >= 0 }) ?? true else { throw ValidationError("--lr must be positive, --freeze-bottom not negative") }
        guard maxTarget >= 0 else { throw ValidationError("--max-target must not be negative") }
        if pst && pstFromEpoch > flags.epochs { throw ValidationError("--pst-from-epoch \(pstFromEpoch) is past the last epoch (\(flags.epochs)): self-training would never start") }
        if pst {
            guard pstWeight >= 0, pstTemperature > 0, (0...1).contains(pstThreshold), pstFromEpoch >= 1 else {
                throw ValidationError("--pst-weight ≥ 0, --pst-temperature > 0, --pst-threshold in [0, 1], --pst-from-epoch ≥ 1")
            }
        }
        if fromTeacher && (model != nil || freezeBottom != nil) { throw ValidationError("--from-teacher takes the teacher's model and frozen layers: drop --model and --freeze-bottom") }
    }

    func run() throws {
        common.apply()
        let sentences = readSentences(target, tags: false, limit: maxTarget)
        let teacherBundle: TaggerBundle
        do { teacherBundle = try TaggerFiles.load(directory: teacher, base: base) } catch {
            fatalLoad(program: "prokd", path: teacher, problem: "\(error)", hint: "give a directory written by `prokd teacher`")
        }
        try exitOnError(directory.out) {
            // The teacher's distribution of every target word it sees (its own tokenizer and max_length).
            let teacherExamples = try sentences.enumerated().map { i, s in try wrapInput(target, sentence: i) { try teacherBundle.encoder.encode(s, labelled: false) } }
            let dists = wordDistributions(teacherBundle.tagger, teacherExamples, padId: teacherBundle.padId, batch: common.batch)
            let byWord: [[Int: [Float]]] = zip(teacherExamples, dists).map { e, d in Dictionary(uniqueKeysWithValues: zip(e.words, d)) }
            var config = teacherBundle.config
            (config.role, config.maxLength) = (.student, flags.maxLength)
            if let model { config.baseModel = model }
            if let freezeBottom { config.freezeBottom = freezeBottom }
            let bundle: TaggerBundle
            if fromTeacher {
                bundle = TaggerBundle(tagger: teacherBundle.tagger.copy(role: .student, maxLength: flags.maxLength), tokenizer: teacherBundle.tokenizer)
            } else {
                do { bundle = try TaggerFiles.fresh(config, seed: common.seed) } catch { fail(model ?? config.baseModel, error) }
            }
            // The student's words that the teacher also saw (truncation may differ between tokenizers).
            // (encode(_:labelled:) would drop sentences without words and misalign them with the
            // teacher's; sentence by sentence here.)
            var examples: [TaggerExample] = [], probs: [[[Float]]] = []
            for (i, s) in sentences.enumerated() {
                var e = try wrapInput(target, sentence: i) { try bundle.encoder.encode(s, labelled: false) }
                let keep = e.words.indices.filter { byWord[i][e.words[$0]] != nil }
                (e.firstTokens, e.words) = (keep.map { e.firstTokens[$0] }, keep.map { e.words[$0] })
                guard !e.words.isEmpty else { continue }
                examples.append(e)
                probs.append(e.words.map { byWord[i][$0]! })
            }
            var pstOptions: PSTOptions? = nil
            var id: [(String, JSONValue)] = [("config", bundle.config.json), ("teacher_digest", .string(String(weightDigest(teacherBundle.tagger.trainedTensors().map(\.1)), radix: 16))),
                                            ("from_teacher", .bool(fromTeacher)), ("target", .number(JSONNumber(examples.count))),
                                            ("lr", .finite(Double(lr))), ("seed", .number(JSONNumber(Int(common.seed & ((1 << 53) - 1)))))] + flags.json
            if pst {
                var p = PSTOptions()
                (p.weight, p.temperature, p.threshold, p.distance, p.fromEpoch, p.granularity) = (pstWeight, pstTemperature, pstThreshold, pstDistance, pstFromEpoch, prototypes)
                pstOptions = p
                id += [("pst_weight", .finite(Double(p.weight))), ("pst_temperature", .finite(Double(p.temperature))), ("pst_threshold", .finite(Double(p.threshold))),
                       ("pst_distance", .string(p.distance.rawValue)), ("pst_from_epoch", .number(JSONNumber(p.fromEpoch))), ("prototypes", .string(p.granularity.rawValue))]
            }
            let run = try RunDirectory(directory, program: "prokd", files: [TaggerFiles.configName, TaggerFiles.weightsName, "log.jsonl"], runOptions: identity(id))
            let training = try StudentTraining(tagger: bundle.tagger, padId: bundle.padId, target: examples, teacherProbs: probs, pst: pstOptions,
                                               options: flags.options(lr: lr, seed: common.seed), inferenceBatch: common.batch)
            if !common.quiet {
                let trained = bundle.tagger.trainedTensors().reduce(0) { $0 + $1.1.count }
                printError(program: "prokd", "student: \(examples.count) target sentences (\(probs.reduce(0) { $0 + $1.count }) words), \(trained) trained parameters, \(training.totalSteps) steps")
            }
            try trainToEnd(training, step: training.step, bundle: bundle, dev: [], run: run, every: directory.checkpointEvery, common: common)
        }
    }
}
