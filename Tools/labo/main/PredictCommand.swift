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

    @Option(help: ArgumentHelp("Also draw the class × concept weights (each class's --top concepts as columns) as a PNG (and an SVG beside it).", valueName: "file"))
    var png: String?

    func run() throws {
        let m = orExit(model) { try LaboFiles.load(model) }
        let n = m.conceptNames.count, a = m.association.scalars
        if let png {
            var columns: [Int] = []
            for y in m.classes.indices {
                for j in (0..<n).sorted(by: { a[y * n + $0] > a[y * n + $1] }).prefix(max(1, top)) where !columns.contains(j) { columns.append(j) }
            }
            let heat = Heatmap(title: "softmax(W): class x top concepts", rows: m.classes, columns: columns.map { m.conceptNames[$0] },
                               values: m.classes.indices.map { y in columns.map { Double(a[y * n + $0]) } })
            do { try heat.write(to: png) } catch { fatalLoad(program: "labo", path: png, problem: "cannot write: \(error)") }
        }
        for (y, c) in m.classes.enumerated() {
            let best = (0..<n).sorted { a[y * n + $0] > a[y * n + $1] }.prefix(max(0, top))
            writeLine(.object(["class": .string(c), "concepts": .array(best.map {
                .object(["concept": .string(m.conceptNames[$0]), "weight": JSONValue(a[y * n + $0]) ?? .null, "own": .bool(m.conceptClass[$0] == y)])
            })]))
        }
    }
}

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The linear-probe baseline: logistic regression on the image features, C chosen on the validation set.",
        discussion: """
        scikit-learn's LogisticRegression(solver lbfgs, L2, max_iter 1000) fitted on the training \
        features, C searched as the reference does (7 values, then 8 rounds narrowing [C/10, 10C] in \
        log10 on validation accuracy). The default fits the final model with the best C the search saw; \
        --reference-c uses the reference's choice, the left end of the last interval. The reference's \
        probe reads CLIP's pre-projection features (ln_post of the class token); `embed` gives the \
        projected ones. Prints one JSON object: the chosen C, validation and (with --test) test accuracy \
        and macro accuracy, and the search.
        """)

    @Option(help: ArgumentHelp("Training image features with labels.", valueName: "file"))
    var data: String
    @Option(help: ArgumentHelp("Validation features with labels (the C search).", valueName: "file"))
    var validation: String
    @Option(help: ArgumentHelp("Test features with labels, scored once.", valueName: "file"))
    var test: String?
    @Option(help: "Fit with this C (no search).")
    var c: Double?
    @Flag(help: "Fit with the reference's C: the left end of the last search interval.")
    var referenceC = false
    @Option(help: "Input field with the feature vector.")
    var field = "embedding"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if let c, !(c > 0) { throw ValidationError("--c must be positive") }
    }

    func run() throws {
        common.apply()
        let labels = orExit(data) { try readLabelledEmbeddings(data, field: field).compactMap(\.label) }
        let classes = Array(Set(labels)).sorted()
        guard classes.count >= 2 else { fatalLoad(program: "labo", path: data, problem: "at least 2 classes are needed") }
        let train = orExit(data) { try labelledFeatures(data, classes: classes, field: field) }
        let val = orExit(validation) { try labelledFeatures(validation, classes: classes, field: field) }
        let d = train.features[0].count
        for (p, f) in [(validation, val.features)] where f.contains(where: { $0.count != d }) {
            fatalLoad(program: "labo", path: p, problem: "features of another width than the training ones (\(d))")
        }
        var search: ProbeSearch? = nil
        let chosen: Double
        if let c { chosen = c } else {
            let s = searchC(train: train.features, trainY: train.targets, val: val.features, valY: val.targets, classes: classes.count)
            search = s
            chosen = referenceC ? s.referenceC : s.bestC
        }
        let model = LogisticRegression.fit(train.features, train.targets, classes: classes.count, c: chosen)
        func scores(_ f: [[Float]], _ y: [Int]) -> (Double, Double) {
            let predicted = f.map { classes[model.predict($0)] }
            let s = ClassificationScores.singleLabel(gold: y.map { classes[$0] }, predicted: predicted)
            return (s.accuracy, s.macroRecall)
        }
        var o: [(String, JSONValue)] = [("c", JSONValue.finite(chosen)), ("iterations", .number(JSONNumber(model.iterations)))]
        let (va, vm) = scores(val.features, val.targets)
        o += [("val_accuracy", JSONValue.finite(va)), ("val_macro_accuracy", JSONValue.finite(vm))]
        if let test {
            let t = orExit(test) { try labelledFeatures(test, classes: classes, field: field) }
            if t.features.contains(where: { $0.count != d }) { fatalLoad(program: "labo", path: test, problem: "features of another width than the training ones (\(d))") }
            let (ta, tm) = scores(t.features, t.targets)
            o += [("test_accuracy", JSONValue.finite(ta)), ("test_macro_accuracy", JSONValue.finite(tm))]
        }
        if let s = search {
            o += [("reference_c", JSONValue.finite(s.referenceC)), ("best_c", JSONValue.finite(s.bestC)),
                  ("search", .array(s.initial.map { .object(["c": JSONValue.finite($0.c), "val_accuracy": JSONValue.finite($0.valAccuracy)]) }
                                    + s.rounds.map { .object(["left": JSONValue.finite($0.left), "right": JSONValue.finite($0.right), "val_accuracy": JSONValue.finite($0.valAccuracy)]) }))]
        }
        writeLine(.object(JSONObject(o.map { .init(key: $0.0, value: $0.1) })))
    }
}
