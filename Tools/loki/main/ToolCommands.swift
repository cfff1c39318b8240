// `loki zeroshot`, `select`, `fit`, `classify` and `synth`: the stages around prediction.
import ArgumentParser
import Foundation
import LokiCore
import Runtime
import RuntimeCLI

struct ZeroShot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zeroshot",
        abstract: "Probabilities over the observed classes from embeddings (CLIP-style zero-shot), for `embed | loki zeroshot | loki predict`.",
        discussion: """
        softmax(cos(x, c_i) / T) over the class embeddings c_i (JSONL as `embed` writes it for the class \
        names or descriptions; --observed keeps those classes, in that order). T = 0.01 is CLIP's logit \
        scale of 100, as the reference's CLIP experiments use; sentence-embedding models spread their \
        cosines wider, and larger T (0.1) gives softer probabilities. Writes `probs`, in the order of \
        the observed classes (give `loki predict` the same --observed), or with --as-scores an object \
        class → probability that carries its own order.

        Example:
          embed --model data/models/all-MiniLM-L6-v2 < texts.jsonl | loki zeroshot --class-embeddings class-emb.jsonl
        """)

    @Option(help: ArgumentHelp("Class embeddings: JSONL with a class name and an embedding per line.", valueName: "file"))
    var classEmbeddings: String

    @Option(help: ArgumentHelp("Keep these classes, in this order (default: every class of the file).", valueName: "file"))
    var observed: String?

    @Option(help: "Temperature T of softmax(cos / T).")
    var temperature: Float = 0.01

    @Option(help: "Input field with the record's embedding.")
    var field = "embedding"

    @Option(help: "Output field for the probabilities.")
    var outField = "probs"

    @Flag(help: "Write an object class → probability (field `scores` unless --out-field) instead of the probs array.")
    var asScores = false

    @Option(help: "Member naming the class in the class-embedding file (default: class, label, name or text).")
    var classField: String?

    @Option(help: "Member holding the embedding in the class-embedding file.")
    var embeddingField = "embedding"

    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func validate() throws {
        if !(temperature > 0 && temperature.isFinite) { throw ValidationError("--temperature must be positive") }
    }

    func run() throws {
        common.apply()
        let classifier = loading(classEmbeddings) {
            try ZeroShotClassifier(path: classEmbeddings, observedPath: observed, classField: classField,
                                   embeddingField: embeddingField, temperature: temperature)
        }
        let runner = JSONLRunner(program: "loki", io: io, common: common)
        let out = asScores && outField == "probs" ? "scores" : outField
        throw ExitCode(zeroShotRecords(runner, classifier: classifier, field: field, outField: out, asScores: asScores))
    }
}

struct Select: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Active next-class selection on a tree: the order in which to observe classes.",
        discussion: """
        The locus of the observed classes is the union of the tree paths between them: the classes Loki \
        can predict from them. Each step picks the class farthest from the locus (the paper's active \
        selection; --strategy random picks uniformly outside it, the baseline) and adds it. Prints one \
        JSON object per pick: step, class, its distance to the locus, and the locus size afterwards in \
        nodes and in classes. Stops when the locus holds every class, or after --count picks.

        Example:
          loki select --metric data/loki/cifar100_parent_child.txt --observed seen.txt --count 10
        """)

    @OptionGroup var metric: MetricOptions

    @Option(help: "Stop after this many picks (default: until every class is in the locus).")
    var count: Int?

    @Option(help: "active (farthest from the locus) or random.")
    var strategy: SelectionStrategy = .active

    @OptionGroup var common: RunOptions

    func validate() throws {
        _ = try metric.requireMetric("select")
        if metric.observed == nil { throw ValidationError("select needs --observed FILE (the classes observed so far)") }
        if let c = count, c < 0 { throw ValidationError("--count must be at least 0") }
    }

    func run() throws {
        let path = metric.metric!  // invariant: validate() requires --metric and --observed
        var spec = metric.spec(path)
        spec.format = .edges
        let loaded = loading(path) { try MetricFiles.load(spec) }
        guard let tree = loaded as? GraphMetric, tree.isTree else {
            fatalLoad(program: "loki", path: path, problem: "not a tree", hint: "select needs a tree: a connected edge list without cycles")
        }
        let observedPath = metric.observed!
        let start = loading(observedPath) { try classPositions(try readClassList(observedPath), in: tree.classes, path: observedPath, what: "observed class") }
        let selector = LocusSelector(tree: tree, observed: start)
        let steps = selector.run(strategy, generator: RandomGenerator(seed: common.seed, stream: 0x5e1e), limit: count ?? .max)
        for (i, s) in steps.enumerated() {
            var r = Record()
            r.set("step", int: i + 1)
            r.set("class", string: tree.classes[s.classIndex])
            r.set("distance", JSONValue(s.distance) ?? .null)
            r.set("locus_nodes", int: s.locusNodes)
            r.set("locus_classes", int: s.locusClasses)
            StandardOutput.line(r.jsonText, program: "loki")
        }
    }
}

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add a `loki fit` model's probabilities over its classes to each record.",
        discussion: """
        Writes `probs` in the order of the model's classes (MODEL/observed.txt, the --observed of \
        `loki predict` and `loki eval`).

        Example:
          loki classify --model grid-model < test.jsonl | loki eval --metric grid-metric.jsonl --observed grid-model/observed.txt
        """)

    @Option(help: ArgumentHelp("A model directory written by `loki fit`.", valueName: "dir"))
    var model: String

    @Option(help: "Input field with the feature vector.")
    var field = "features"

    @Option(help: "Output field for the probabilities.")
    var outField = "probs"

    @Flag(help: "Write an object class → probability (field `scores` unless --out-field) instead of the probs array.")
    var asScores = false

    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func run() throws {
        common.apply()
        let classifier = loading(model) { try FeatureClassifier.load(model) }
        let runner = JSONLRunner(program: "loki", io: io, common: common)
        let out = asScores && outField == "probs" ? "scores" : outField
        throw ExitCode(classifyRecords(runner, classifier: classifier, field: field, outField: out, asScores: asScores))
    }
}
