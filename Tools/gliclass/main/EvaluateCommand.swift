// `gliclass evaluate`: a model's scores on labelled items (the training format), as one JSON object.
import ArgumentParser
import Foundation
import GLiClassCore
import Runtime
import RuntimeCLI

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a GLiClass model on labelled items: accuracy, micro/macro/weighted F1, top-1 accuracy.",
        discussion: """
        Items as `gliclass train` reads them ({"text", "all_labels", "true_labels"}, a JSON array or JSON \
        Lines). Multi-label models predict the labels with σ ≥ --threshold; single-label models the argmax. \
        Prints one JSON object (`unscored`: items whose labels do not fit --max-length, left out): `top1_accuracy` (the best-scored label is a true one), `accuracy` (the \
        predicted set equals the true set), micro/macro/weighted precision, recall and F1 as scikit-learn \
        computes them (zero_division 0), and the counts.

        Example:
          gliclass evaluate --model my-gliclass --data results/gliclass/data/agnews-test.jsonl
        """)

    @Option(help: "A GLiClass model directory.")
    var model: String

    @Option(help: ArgumentHelp("Labelled items: a JSON array or JSON Lines ('-': stdin).", valueName: "file"))
    var data = "-"

    @Option(help: "Multi-label decision threshold on σ(logit).")
    var threshold: Float = 0.5

    @Flag(help: "Decide by the best label (each item's first true label is its class), whatever the model was trained for.")
    var singleLabel = false

    @Option(help: "Tokens per input (default 1024, capped at the encoder's positions).")
    var maxLength: Int?

    @OptionGroup var quirkOptions: QuirkOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let items = loadOrExit(data) { try readTrainingItems(path: data == "-" ? "/dev/stdin" : data) }
        let bundle: GLiClassBundle
        do { bundle = try GLiClassCheckpoint.load(directory: model) } catch {
            fatalLoad(program: "gliclass", path: model, problem: "\(error)")
        }
        bundle.model.setQuirks(quirkOptions.quirks)
        let (s, top1, unscored) = evaluateWithTop1(bundle, items: items, maxLength: effectiveMaxLength(maxLength, bundle: bundle),
                                         threshold: threshold, batch: common.batch,
                                         singleLabel: singleLabel ? true : nil)
        var r = Record()
        try r.set("top1_accuracy", double: top1)
        for (k, v) in s.named { try r.set(k, double: v) }
        r.set("items", int: s.records)
        r.set("labels", int: s.labels)
        r.set("unscored", int: unscored)
        if unscored > 0 && !common.quiet {
            printError(program: "gliclass", "\(unscored) of \(items.count) items could not be scored (their labels do not fit --max-length) and are left out")
        }
        print(r.jsonText)
    }
}
