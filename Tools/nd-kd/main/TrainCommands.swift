// `nd-kd teacher` and `nd-kd train`: a teacher with its class means, and a student distilled from it.
import ArgumentParser
import Foundation
import NDKDCore
import Runtime
import RuntimeCLI

extension StudentLoss: ExpressibleByArgument {}

struct Teacher: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a teacher and write it with its class-mean embeddings (class_means.json).",
        discussion: """
        Cross-entropy training with the reference's recipe (SGD, Nesterov momentum 0.9, weight decay \
        5e-4 on every parameter, rate ×0.1 at epochs 150, 180, 210 of 240, batches of 128, pad-4 random \
        crops and horizontal flips). The class means, the directions e_c of the ND loss, are then \
        computed over the training images (the validation part left out) with the kept teacher in \
        eval mode, without augmentation and in full precision. The reference computes them on \
        augmented images and rounds them to 4 decimals (emb_fea_distribution.py): --reference-means \
        reproduces that.

        Example (Fashion-MNIST, a 15-epoch recipe):
          nd-kd teacher --arch fmnist-teacher --data /usr/share/datasets/fashion-mnist --test /usr/share/datasets/fashion-mnist \\
            --class-names fashion-mnist --epochs 15 --lr 0.05 --milestones 8,12 --padding 2 --out fmnist-teacher
        """)

    @Option(help: "Architecture: a preset (fmnist-teacher, resnet56, resnet32x4, …) or cnn:W,M,…/resnet:N:W0,W1,W2,W3.")
    var arch = "fmnist-teacher"
    @OptionGroup var flags: TrainingFlags
    @Flag(help: "Class means as the reference computes them: augmented training images, rounded to 4 decimals.")
    var referenceMeans = false
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let spec = loadOrExit(arch) { try NetSpec.parse(arch) }
        let given = flags.classNames.map { resolveClassNames($0, count: 0) }
        let (train, val) = flags.sets(input: nil, names: given, seed: common.seed)
        let k = max((train.labels + (val?.labels ?? [])).max().map { $0 + 1 } ?? 0, given?.count ?? 0)
        let names = given ?? resolveClassNames(nil, count: k)
        guard names.count >= k, k >= 2 else { fatalLoad(program: program, path: flags.data, problem: "labels reach \(k - 1) but \(names.count) class names are given") }
        loadOrExit(flags.data) { try spec.check(input: train.shape) }
        let stats = train.channelStatistics()
        let config = NDConfig(arch: spec, input: train.shape, mean: stats.mean, std: stats.std.map { max($0, 1e-6) }, classNames: names, trainedAs: "teacher")
        let model = NDModelFiles.fresh(config, seed: common.seed)
        var options = TrainOptions()
        flags.apply(&options, seed: common.seed)
        var id = flags.identity
        id["arch"] = .string(spec.description)
        id["reference_means"] = .bool(referenceMeans)
        id["seed"] = .number(JSONNumber(Int(common.seed & ((1 << 53) - 1))))
        do {
            let run = try RunDirectory(directory, program: program, files: [NDModelFiles.configName, NDModelFiles.weightsName, NDModelFiles.meansName, "log.jsonl", "test.json"],
                                       runOptions: .object(JSONObject(id.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) })))
            let trainer = try Trainer(net: model.net, data: train, mean: config.mean, std: config.std, options: options)
            if !common.quiet {
                printError(program: program, "teacher \(spec) (\(model.net.parameterCount()) parameters): \(train.count) training images, \(val?.count ?? 0) validation, \(trainer.totalSteps) steps")
            }
            try trainLoop(trainer, model: model, val: val, test: flags.test, testSplit: "test", names: names, run: run, checkpointEvery: directory.checkpointEvery, common: common, teacherForStats: nil) { kept in
                var kept = kept
                kept.classMeans = classMeans(kept, train, reference: referenceMeans ? options.augmentation : nil, seed: common.seed)
                try NDModelFiles.save(kept, to: run.path)
            }
        } catch {
            try exitForTrainingError(error, out: directory.out)
        }
    }
}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Distil a student from a teacher: CE, KD, KD++, DKD or DKD++ (KD/DKD with the ND loss).",
        discussion: """
        L = CE + min(1, epoch/warm-up)·(w_kd·KD or DKD) + w_nd·ND. KD = T²·KL(p_t ‖ p_s) at temperature \
        T; DKD = α·TCKD + β·NCKD (mdistiller's; α 1, β 8); ND = mean of 1 − s·e_y / max(‖s‖, ‖t‖), with \
        e_y the teacher's class direction (class_means.json, or --class-means). When the student's \
        embedding is narrower than the teacher's, a projector (BatchNorm → Dropout 0.5 → Linear) maps it \
        for ND only; it is trained jointly and left out of the model (kept beside it as \
        projector.safetensors for `eval`'s statistics). Defaults are the reference's CIFAR ones: T 4, \
        warm-up 20 epochs, KD weight 1, ND weight 1; its per-pair weights are in the README.

        Epochs count from 1 in the warm-up (mdistiller); the reference's are 0-based, so its KD is off \
        for the whole first epoch: --reference-warmup. DKD takes log of the target/non-target split as \
        is, which is −inf once a probability saturates (the run then stops with an error): --log-floor \
        1e-12 clamps it.

        Example:
          nd-kd train --teacher fmnist-teacher --student-arch fmnist-student --loss kd++ \\
            --data /usr/share/datasets/fashion-mnist --test /usr/share/datasets/fashion-mnist --subset 10000 \\
            --epochs 30 --lr 0.05 --milestones 18,24,28 --padding 0 --warm-up 5 --out student-kdpp
        """)

    @Option(help: "A teacher directory written by `nd-kd teacher`.")
    var teacher: String
    @Option(help: "The student's architecture (a preset or cnn:…/resnet:…).")
    var studentArch = "fmnist-student"
    @Option(help: "ce, kd, kd++, dkd or dkd++.")
    var loss: StudentLoss = .kdpp
    @Option(help: "Weight of the cross-entropy.")
    var ceWeight: Float = 1
    @Option(help: "Weight of KD (its factor; DKD is weighted by --alpha and --beta).")
    var kdWeight: Float = 1
    @Option(help: "Weight of ND.")
    var ndWeight: Float = 1
    @Option(help: "DKD: weight of the target-class part.")
    var alpha: Float = 1
    @Option(help: "DKD: weight of the non-target part.")
    var beta: Float = 8
    @Option(name: [.customShort("T"), .long], help: "Distillation temperature.")
    var temperature: Float = 4
    @Option(help: "Epochs over which the KD/DKD weight grows linearly to 1 (0: none).")
    var warmUp: Double = 20
    @Flag(help: "0-based epochs in the warm-up, as the reference (KD off in the first epoch).")
    var referenceWarmup = false
    @Option(help: "DKD: clamp the target/non-target probabilities at this floor before the log (default: none, as the reference).")
    var logFloor: Float?
    @Option(help: ArgumentHelp("Class means {\"0\": [floats], …} to use instead of the teacher's (e.g. the reference's center_emb_train.json).", valueName: "file"))
    var classMeans: String?
    @OptionGroup var flags: TrainingFlags
    @OptionGroup var directory: RunDirectoryOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard temperature > 0, warmUp >= 0, logFloor.map({ $0 > 0 && $0 < 1 }) ?? true else { throw ValidationError("-T must be positive, --warm-up not negative, --log-floor in (0, 1)") }
    }

    func run() throws {
        common.apply()
        var t = loadOrExit(teacher) { try NDModelFiles.load(teacher) }
        if let classMeans {
            t.classMeans = loadOrExit(classMeans) { try NDModelFiles.readClassMeans(classMeans, classes: t.config.classes, width: t.config.arch.embeddingWidth) }
        }
        if loss.usesND && t.classMeans == nil { fatalLoad(program: program, path: teacher, problem: "no class_means.json (give --class-means)") }
        let spec = loadOrExit(studentArch) { try NetSpec.parse(studentArch) }
        let names = t.config.classNames
        loadOrExit(studentArch) { try spec.check(input: t.config.input) }
        let (train, val) = flags.sets(input: t.config.input, names: names, classes: names.count, seed: common.seed)
        // The student sees the images as the teacher does (one normalization, so cached teacher views hold).
        let config = NDConfig(arch: spec, input: t.config.input, mean: t.config.mean, std: t.config.std, classNames: names, trainedAs: loss.rawValue)
        let model = NDModelFiles.fresh(config, seed: common.seed)
        var options = TrainOptions()
        flags.apply(&options, seed: common.seed)
        (options.loss, options.ceWeight, options.kdWeight, options.ndWeight) = (loss, ceWeight, kdWeight, ndWeight)
        (options.alpha, options.beta, options.temperature, options.warmUp) = (alpha, beta, temperature, warmUp)
        (options.referenceWarmup, options.logFloor) = (referenceWarmup, logFloor)
        var id = flags.identity
        for (k, v) in ["arch": JSONValue.string(spec.description), "teacher": .string(teacher), "loss": .string(loss.rawValue),
                       "ce_weight": JSONValue.finite(Double(ceWeight)), "kd_weight": JSONValue.finite(Double(kdWeight)), "nd_weight": JSONValue.finite(Double(ndWeight)),
                       "alpha": JSONValue.finite(Double(alpha)), "beta": JSONValue.finite(Double(beta)), "temperature": JSONValue.finite(Double(temperature)),
                       "warm_up": JSONValue.finite(warmUp), "reference_warmup": .bool(referenceWarmup), "log_floor": logFloor.map { JSONValue.finite(Double($0)) } ?? .null,
                       "class_means": classMeans.map { .string($0) } ?? .null, "seed": .number(JSONNumber(Int(common.seed & ((1 << 53) - 1))))] {
            id[k] = v
        }
        do {
            let run = try RunDirectory(directory, program: program, files: [NDModelFiles.configName, NDModelFiles.weightsName, NDModelFiles.projectorName, "log.jsonl", "test.json"],
                                       runOptions: .object(JSONObject(id.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) })))
            let trainer = try Trainer(net: model.net, data: train, mean: config.mean, std: config.std, options: options, teacher: t.net, classMeans: t.classMeans)
            if !common.quiet {
                printError(program: program, "student \(spec) (\(model.net.parameterCount()) parameters) from teacher \(t.config.arch), loss \(loss.rawValue)\(trainer.projector != nil ? " with a projector" : ""): \(train.count) training images, \(val?.count ?? 0) validation, \(trainer.totalSteps) steps")
            }
            try trainLoop(trainer, model: model, val: val, test: flags.test, testSplit: "test", names: names, run: run, checkpointEvery: directory.checkpointEvery, common: common,
                          teacherForStats: t) { _ in }
        } catch {
            try exitForTrainingError(error, out: directory.out)
        }
    }
}
