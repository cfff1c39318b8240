// `labo predict`, `labo eval`, `labo explain`.
import ArgumentParser
import Foundation
import LaboCore
import Runtime
import RuntimeCLI

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify image features and show the concepts behind each prediction.",
        discussion: """
        Reads records with an image feature (--field, `embed`'s output with the model's CLIP) and adds \
        `prediction`, `probs` (class → probability) and `concepts`: the --top concepts contributing \
        most to the predicted class's logit (100 · score · association), with those contributions.
        """)

    @Option(help: "A directory written by `labo train`.")
    var model: String
    @Option(help: "Input field with the feature vector.")
    var field = "embedding"
    @Option(help: "Concepts listed per prediction.")
    var top = 5
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func run() throws {
        common.apply()
        let m = orExit(model) { try LaboFiles.load(model) }
        let d = m.width, k = m.classes.count, n = m.conceptNames.count
        let assoc = m.association.scalars
        let runner = JSONLRunner(program: "labo", io: io, common: common)
        throw ExitCode(runner.mapBatches(batchSize: common.batch, read: { r -> [Float] in
            let v = try r.floats(field)
            guard v.count == d else { throw RecordError.field(field, "\(v.count) numbers; the model takes \(d)") }
            return v
        }, compute: { rows -> [([Float], [Float])] in
            let s = m.scores(Tensor(shape: [rows.count, d], scalars: Array(rows.joined())))
            let p = softmax(m.logits(scores: s), axis: 1).scalars, ss = s.scalars
            return (0..<rows.count).map { (Array(p[($0 * k)..<(($0 + 1) * k)]), Array(ss[($0 * n)..<(($0 + 1) * n)])) }
        }, write: { r, out in
            let (p, s) = out
            let y = p.indices.max { p[$0] < p[$1] }!
            r.set("prediction", string: m.classes[y])
            var probs = JSONObject()
            for (c, v) in zip(m.classes, p) { probs[c] = JSONValue(v) ?? .null }
            r.set("probs", .object(probs))
            let contrib = (0..<n).map { (j: $0, v: ConceptBottleneck.scale * s[$0] * assoc[y * n + $0]) }.sorted { $0.v > $1.v }.prefix(max(0, top))
            r.set("concepts", .array(contrib.map { .object(["concept": .string(m.conceptNames[$0.j]), "contribution": JSONValue($0.v) ?? .null]) }))
        }))
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Score a trained bottleneck on labelled image features: accuracy, macro accuracy, loss.")

    @Option(help: "A directory written by `labo train`.")
    var model: String
    @Option(help: ArgumentHelp("Labelled image features.", valueName: "file"))
    var data: String
    @Option(help: "Input field with the feature vector.")
    var field = "embedding"
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let m = orExit(model) { try LaboFiles.load(model) }
        let set = orExit(data) { try labelledFeatures(data, classes: m.classes, field: field) }
        if let f = set.features.first, f.count != m.width { fatalLoad(program: "labo", path: data, problem: "features of width \(f.count); the model takes \(m.width)") }
        let r = evaluateBottleneck(m, features: set.features, labels: set.labels)
        writeLine(.object(["accuracy": JSONValue.finite(r.accuracy), "macro_accuracy": JSONValue.finite(r.macroAccuracy),
                           "loss": JSONValue.finite(r.loss), "images": .number(JSONNumber(set.features.count))]))
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List each class's most associated concepts (softmax(W) rows), and whether each is from the class's own pool.")

    @Option(help: "A directory written by `labo train`.")
    var model: String
    @Option(help: "Concepts per class.")
    var top = 10

    func run() throws {
        let m = orExit(model) { try LaboFiles.load(model) }
        let n = m.conceptNames.count, a = m.association.scalars
        for (y, c) in m.classes.enumerated() {
            let best = (0..<n).sorted { a[y * n + $0] > a[y * n + $1] }.prefix(max(0, top))
            writeLine(.object(["class": .string(c), "concepts": .array(best.map {
                .object(["concept": .string(m.conceptNames[$0]), "weight": JSONValue(a[y * n + $0]) ?? .null, "own": .bool(m.conceptClass[$0] == y)])
            })]))
        }
    }
}
