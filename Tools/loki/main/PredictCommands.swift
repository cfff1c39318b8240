// `loki predict` and `loki eval`: the Fréchet-mean prediction over a metric, and its evaluation
// against argmax on records with gold labels.
import ArgumentParser
import Foundation
import LokiCore
import Runtime
import RuntimeCLI

/// How records carry the model's output (shared by predict and eval).
struct ProbabilityOptions: ParsableArguments {
    @Option(help: "Field with the probabilities: an array in the --observed order.")
    var probsField = "probs"

    @Option(help: "Field with an object class → probability (used when the probs field is absent).")
    var scoresField = "scores"

    @Option(help: ArgumentHelp("The values are logits: probabilities are softmax(values / T).", valueName: "T"))
    var softmax: Float?

    func validate() throws {
        if let t = softmax, !(t > 0 && t.isFinite) { throw ValidationError("--softmax must be a positive temperature") }
    }

    func input(_ observedNames: [String]) -> ProbabilityInput {
        var p = ProbabilityInput(observedNames: observedNames)
        p.probsField = probsField
        p.scoresField = scoresField
        p.temperature = softmax
        return p
    }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add Loki's prediction (the Fréchet mean over the label metric) to each record.",
        discussion: """
        Each record carries the model's probabilities over the K observed classes: `probs`, an array in \
        the order of --observed, or `scores`, an object class → probability (or logits, with --softmax T). \
        The output adds `prediction`, the class y among all N classes of the metric that minimizes \
        Σ_i p_i d²(λ_i, y), and with --top k the k best classes with their expected squared distance.

        Metric files: an edge list (`a<TAB>b[<TAB>weight]`, or JSONL {"source","target","weight"}) whose \
        shortest paths are the distances and whose leaves are the classes (--class-nodes all: every node; \
        --classes FILE: those named); a distance matrix (TSV: a header of N names, then N rows; or JSONL \
        {"class", "distances"}); or class embeddings (JSONL {"class"/"text", "embedding"}, as `embed` \
        writes it; --distance euclidean or cosine).

        The squared distances from the observed classes to all classes, D² [K, N], are computed once and \
        cached beside the metric (METRIC.loki-<key>.safetensors; --cache FILE elsewhere, --no-cache not at \
        all); prediction is one GEMM per batch. Memory: 4·K·N bytes for D² (K = 1,000 observed and \
        N = 100,000 classes: 400 MB, memory-mapped from the cache) plus 2 MB of scratch (more for batches over 1,024). \
        Larger --batch (256) runs the GEMM faster on large label spaces.

        Examples:
          loki predict --metric data/loki/fashion_tree.tsv --observed seen.txt < probs.jsonl
          loki predict --metric class-emb.jsonl --softmax 0.01 --top 3 < logits.jsonl
        """)

    @OptionGroup var metric: MetricOptions
    @OptionGroup var probabilities: ProbabilityOptions

    @Option(help: "Output field for the predicted class.")
    var outField = "prediction"

    @Option(help: "Also write the k best classes with their expected squared distance.")
    var top = 0

    @Option(help: "Output field for --top.")
    var topField = "top"

    @Option(help: ArgumentHelp("Cache file for the squared distances (default: beside the metric).", valueName: "file"))
    var cache: String?

    @Flag(help: "Neither read nor write the distance cache.")
    var noCache = false

    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func validate() throws {
        _ = try metric.requireMetric("predict")
        if top < 0 { throw ValidationError("--top must be at least 0") }
    }

    func run() throws {
        common.apply()
        let path = metric.metric!  // invariant: validate() requires --metric
        let distances = loading(path) {
            try DistanceCache.load(spec: metric.spec(path), observedPath: metric.observed, cachePath: cache, useCache: !noCache,
                                   note: { if !common.quiet { printError(program: "loki", $0) } })
        }
        let predictor = FrechetPredictor(distances)
        var options = PredictOptions()
        (options.outField, options.top, options.topField) = (outField, top, topField)
        let runner = JSONLRunner(program: "loki", io: io, common: common)
        throw ExitCode(predictRecords(runner, predictor: predictor, input: probabilities.input(distances.observedNames), options: options))
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare argmax and Loki on records with gold labels: accuracy and E[d²], observed and unobserved classes.",
        discussion: """
        Reads records with the model's probabilities (as for `loki predict`) and a gold `label` (a class \
        name; numbers name classes by their text). For argmax (the most probable observed class) and for \
        Loki (the Fréchet mean over the metric) it reports 0-1 accuracy and the mean squared distance \
        E[d²(ŷ, y)] to the gold class, with the relative improvement (argmax − Loki) / argmax, over all \
        records and split by whether the gold class was observed. Prints one JSON object, or a Markdown \
        table with --table. Loki's predictions are computed with --metric, or read from \
        --prediction-field (as `loki predict` wrote them, perhaps with another metric); --metric is then \
        only the yardstick.

        --reference-pubmed reproduces SprocketLab/loki pubmed/exp.py, which pairs scikit-learn's \
        probability columns (sorted class ids) with distance rows in frequency order and scores the \
        argmax baseline with the argmax column's position taken as a class id. Here the probabilities \
        are always paired with --observed in order (the right thing); with the flag the argmax \
        baseline is the class whose index in the label space equals the argmax position, as there.
        """)

    @OptionGroup var metric: MetricOptions
    @OptionGroup var probabilities: ProbabilityOptions

    @Option(help: "Field with the gold class.")
    var labelField = "label"

    @Option(help: "Take Loki's predictions from this field instead of computing them.")
    var predictionField: String?

    @Flag(help: "Print a Markdown table instead of JSON.")
    var table = false

    @Flag(help: "Score the argmax baseline as pubmed/exp.py does (argmax position read as a class index).")
    var referencePubmed = false

    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func validate() throws { _ = try metric.requireMetric("eval") }

    func run() throws {
        common.apply()
        let path = metric.metric!  // invariant: validate() requires --metric
        let loaded = loading(path) { try MetricFiles.load(metric.spec(path)) }
        let distances = loading(metric.observed ?? path) {
            try ObservedDistances(metric: loaded, observedNames: try metric.observed.map(readClassList), observedPath: metric.observed ?? "")
        }
        var options = EvalOptions()
        (options.labelField, options.predictionField, options.referencePubmed) = (labelField, predictionField, referencePubmed)
        let evaluation = LokiEvaluation(classCount: distances.classes.count, observed: distances.observed)
        let devnull = nullOutput()
        let runner = JSONLRunner(program: "loki", io: io, common: common, output: devnull)
        let status = evaluateRecords(runner, predictor: FrechetPredictor(distances), metric: loaded,
                                     input: probabilities.input(distances.observedNames), options: options, into: evaluation)
        close(devnull)
        if status != ExitStatus.cannotLoad {
            if table { StandardOutput.write(evaluation.table(), program: "loki") } else {
                StandardOutput.line(evaluation.report().jsonText, program: "loki")
            }
        }
        throw ExitCode(status)
    }
}
