// The options that name a label metric, shared by predict, eval, select and fit.
import ArgumentParser
import LokiCore
import Runtime
import RuntimeCLI

extension MetricFormat: ExpressibleByArgument {}
extension ClassNodes: ExpressibleByArgument {}
extension EmbeddingDistance: ExpressibleByArgument {}
extension SelectionStrategy: ExpressibleByArgument {}
extension TrainingLoss: ExpressibleByArgument {}

struct MetricOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The label metric: a tree/graph edge list (TSV or JSONL), a distance matrix (TSV or JSONL), or class embeddings (JSONL as `embed` writes it).", valueName: "file"))
    var metric: String?

    @Option(help: "The metric file's format (auto: from its content).")
    var metricFormat: MetricFormat = .auto

    @Option(help: ArgumentHelp("The label space: class names, one per line, in order (default: the graph's leaves, or every row of a matrix or embedding file).", valueName: "file"))
    var classes: String?

    @Option(help: ArgumentHelp("The observed classes, one per line, in the order of the probabilities (default: every class).", valueName: "file"))
    var observed: String?

    @Option(help: "Which graph nodes are classes when --classes is not given: leaves (as the reference reads its trees) or all.")
    var classNodes: ClassNodes = .leaves

    @Option(help: "Distance between class embeddings: euclidean (the paper's self-derived metric) or cosine (1 - cos).")
    var distance: EmbeddingDistance = .euclidean

    @Flag(help: "The distance matrix holds squared distances already (as the reference's CLIP experiment saves them).")
    var squaredMatrix = false

    @Option(help: "Member naming the class in JSONL metric files (default: the first of class, label, name, text).")
    var classField: String?

    @Option(help: "Member holding a class embedding in an embedding metric file.")
    var embeddingField = "embedding"

    func spec(_ path: String) -> MetricSpec {
        var s = MetricSpec(path: path)
        s.format = metricFormat
        s.classesPath = classes
        s.classNodes = classNodes
        s.distance = distance
        s.squaredMatrix = squaredMatrix
        s.classField = classField
        s.embeddingField = embeddingField
        return s
    }

    /// The metric path, or a usage error naming the subcommand.
    func requireMetric(_ command: String) throws -> String {
        guard let metric else { throw ValidationError("\(command) needs --metric FILE") }
        return metric
    }
}

let metricHint = "--metric takes a tree/graph edge list, a distance matrix or class embeddings; see `loki predict --help`"

/// Exits with status 2 and the load error, or returns the value.
func loading<T>(_ path: String, _ body: () throws -> T) -> T {
    do { return try body() } catch let e as LoadError {
        fatalLoad(program: "loki", e)
    } catch {
        fatalLoad(program: "loki", path: path, problem: "\(error)", hint: metricHint)
    }
}

/// A /dev/null descriptor for commands whose records are read but not written back (eval, fit).
func nullOutput() -> Int32 { open("/dev/null", O_WRONLY) }

#if canImport(Glibc)
import Glibc
#endif
