// `labo select`: k concepts per class from the bank, by MI + coverage (submodular), MI alone, or at random.
import ArgumentParser
import Foundation
import LaboCore
import Runtime
import RuntimeCLI

struct Select: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Choose k concepts per class from a class2concepts.json bank.",
        discussion: """
        The bank is LaBo's class2concepts.json ({class: [concepts]}); classes sorted, concepts deduplicated \
        as the reference does (np.unique: sorted, a shared concept kept for its first class). Scores come \
        from the training images' features (--data: {"embedding", "label"}) against the concepts' \
        (--concept-embeddings: {"text", "embedding"}, e.g. `embed` with the same CLIP model): \
        S[c, y] = mean dot product with class y's images; the MI score \
        mi[c] = Σ_y P log(K P(y|c)) as the reference computes it (needs S > 0: raw CLIP features give \
        it; otherwise --score-transform). --method submodular (the reference's default) greedily \
        maximizes Σ mi·w0 + β·coverage; --coverage code is what the reference's apricot call computes \
        (coverage over the raw feature columns, MI column included), --coverage paper the paper's \
        facility location over cos² of concept embeddings. The reference's defaults: w0 1e7, β per data \
        set and shot count (0 to 100). Writes {class: [concepts in selection order]} (LaBo's \
        selected_concepts format).
        """)

    @Option(help: ArgumentHelp("LaBo's class2concepts.json.", valueName: "file"))
    var concepts: String
    @Option(help: ArgumentHelp("The concepts' text features (JSON Lines with text and embedding).", valueName: "file"))
    var conceptEmbeddings: String
    @Option(help: ArgumentHelp("Training image features with labels (the few-shot set).", valueName: "file"))
    var data: String
    @Option(help: "Concepts per class.")
    var perClass = 50
    @Option(help: "submodular, mi or random.")
    var method: SelectionMethod = .submodular
    @Option(help: "Coverage term of --method submodular: code (the reference's computation) or paper (facility location, cos²).")
    var coverage: CoverageMode = .code
    @Option(help: "Weight of the MI term (submodular_weights[0]).")
    var w0: Double = 1e7
    @Option(help: "Weight of the coverage term (submodular_weights[1]).")
    var beta: Double = 1
    @Option(help: "none (raw scores, must be > 0), shift ((S + 1)/2, for cosines) or exp (exp(S/τ)).")
    var scoreTransform: ScoreTransform = .none
    @Option(help: "τ of --score-transform exp.")
    var temperature: Double = 0.07
    @Flag(help: "Drop concepts that name a class (whole words; the reference matches substrings).")
    var removeClassNames = false
    @Option(help: "Input field with the feature vector.")
    var field = "embedding"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard perClass >= 1, w0 >= 0, beta >= 0, temperature > 0 else { throw ValidationError("--per-class must be ≥ 1, --w0 and --beta ≥ 0, --temperature > 0") }
    }

    func run() throws {
        common.apply()
        let bank = orExit(concepts) { try ConceptBank.read(concepts, removeClassNames: removeClassNames) }
        let e = orExit(conceptEmbeddings) { try conceptVectors(bank.concepts, from: conceptEmbeddings) }
        let train = orExit(data) { try labelledFeatures(data, classes: bank.classes, field: field) }
        if let d = train.features.first?.count, d != e[0].count {
            fatalLoad(program: "labo", path: data, problem: "image features of width \(d), concept features of \(e[0].count): use one model for both")
        }
        var o = SelectionOptions()
        (o.perClass, o.method, o.coverage, o.w0, o.beta) = (perClass, method, coverage, w0, beta)
        (o.transform, o.temperature, o.seed) = (scoreTransform, temperature, common.seed)
        let chosen: [[Int]]
        do { chosen = try selectConcepts(bank: bank, conceptEmbeddings: e, images: train.features, labels: train.targets, options: o) } catch {
            printError(program: "labo", "\(error)")
            throw ExitCode(1)
        }
        let pairs = zip(bank.classes, chosen).map { JSONObject.Member(key: $0, value: .array($1.map { .string(bank.concepts[$0]) })) }
        writeLine(.object(JSONObject(pairs)))
        if !common.quiet {
            printError(program: "labo", "\(bank.concepts.count) concepts in the bank, \(chosen.reduce(0) { $0 + $1.count }) selected for \(bank.classes.count) classes")
        }
    }
}
