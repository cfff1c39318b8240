// `nd-kd predict`, `nd-kd eval` and `nd-kd images`: using a trained model, and images as JSON Lines.
import ArgumentParser
import Foundation
import NDKDCore
import Runtime
import RuntimeCLI

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images: JSONL records in, each with `prediction` and `probs` added.",
        discussion: """
        A record holds "pixels" (the image's bytes 0…255 in [C, H, W] order, with an optional "shape") \
        or "image" (a PNG or JPEG path; colour is made gray for a one-channel model by ITU-R 601 luma). \
        Adds `prediction` (the class name), `prediction_index` and `probs` (class name → probability). \
        A record that cannot be read is reported with its line and left out (or --on-error pass).

        Example:
          nd-kd images --data /usr/share/datasets/fashion-mnist --split test --limit 5 | nd-kd predict --model student-kdpp
        """)

    @Option(help: "A model directory (teacher or student).")
    var model: String
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func run() throws {
        common.apply()
        let m = loadOrExit(model) { try NDModelFiles.load(model) }
        let c = m.config
        let runner = JSONLRunner(program: program, io: io, common: common)
        let status = runner.mapBatches(read: { r in try recordPixels(r, input: c.input) }, compute: { images -> [[Float]] in
            let set = ImageSet(images: Tensor(shape: [images.count] + c.input, scalars: images.flatMap { $0 }), labels: images.map { _ in 0 })
            let p = probabilities(m, makeBatch(set, Array(0..<images.count), mean: c.mean, std: c.std))
            let k = c.classes
            return (0..<images.count).map { Array(UnsafeBufferPointer(start: p.data + $0 * k, count: k)) }
        }, write: { r, probs in
            let best = probs.indices.max { probs[$0] < probs[$1] } ?? 0
            r.set("prediction", string: c.classNames[best])
            r.set("prediction_index", int: best)
            var o = JSONObject()
            for (name, v) in zip(c.classNames, probs) { o[name] = JSONValue(v) ?? .null }
            r.set("probs", .object(o))
        })
        throw ExitCode(status)
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a model on labelled images: top-1, top-5, loss; with --teacher the student's ‖s‖/‖t‖ and cos(s, e_y).",
        discussion: """
        Prints one JSON object: count, top1, top5, loss (mean cross-entropy), and with a teacher \
        norm_ratio (mean of ‖s‖/‖t‖ over the images) and cos_class_direction (mean cos(s, e_y), e_y the \
        teacher's class direction): the statistics the ND paper discusses. s is the student's embedding, \
        through its projector when it was trained with one.

        Example:
          nd-kd eval --model student-kdpp --teacher fmnist-teacher --data /usr/share/datasets/fashion-mnist --split test
        """)

    @Option(help: "A model directory.")
    var model: String
    @Option(help: "The teacher, for the feature statistics.")
    var teacher: String?
    @Option(help: ArgumentHelp("Labelled images: an IDX directory or JSONL records ('-': stdin).", valueName: "path"))
    var data = "-"
    @Option(help: "Split of an IDX directory (train or test).")
    var split = "test"
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let m = loadOrExit(model) { try NDModelFiles.load(model) }
        let t = teacher.map { p in loadOrExit(p) { try NDModelFiles.load(p) } }
        let projector = loadOrExit(model) { try NDModelFiles.loadProjector(model, from: m.config.arch.embeddingWidth) }
        if let t, t.config.input != m.config.input || t.config.classes != m.config.classes {
            fatalLoad(program: program, path: teacher ?? "", problem: "the teacher takes \(t.config.input) images into \(t.config.classes) classes, the model \(m.config.input) into \(m.config.classes)")
        }
        let set = readSet(data, split: split, input: m.config.input, classNames: m.config.classNames, classes: m.config.classes)
        var w = JSONWriter()
        w.write(evaluate(m, set, batch: max(common.batch, 64), teacher: t, projector: projector).json)
        print(String(decoding: w.bytes, as: UTF8.self))
    }
}

struct Images: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the images of an IDX set as JSONL records (index, label, class, shape, pixels).",
        discussion: """
        Example:
          nd-kd images --data /usr/share/datasets/fashion-mnist --split test --class-names fashion-mnist --limit 3
        """)

    @Option(help: ArgumentHelp("An IDX directory.", valueName: "dir"))
    var data: String
    @Option(help: "train or test.")
    var split = "test"
    @Option(help: "Class names for the \"class\" field: fashion-mnist, a file or a comma-separated list.")
    var classNames: String?
    @Option(help: "The first N images only (0: all).")
    var limit = 0

    func run() throws {
        let set = loadOrExit(data) { try ImageSet.idxDirectory(data, split: split) }
        let names = classNames.map { resolveClassNames($0, count: 0) }
        let n = limit > 0 ? min(limit, set.count) : set.count
        JSONLWriter.ignoreSIGPIPE()
        var out = [UInt8]()
        for i in 0..<n {
            out += imageRecord(set, i, classNames: names).serialized
            out.append(10)
            if out.count > 1 << 16 || i == n - 1 {
                let ok = out.withUnsafeBytes { b in (try? writeAll(STDOUT_FILENO, b.baseAddress!, b.count, "stdout")) != nil }
                if !ok { return }
                out.removeAll(keepingCapacity: true)
            }
        }
    }
}
