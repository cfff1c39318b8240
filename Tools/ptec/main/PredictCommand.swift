// `ptec predict`: each record with its label scores and predicted labels.
import ArgumentParser
import Foundation
import PTECCore
import Runtime
import RuntimeCLI

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label texts with a trained model: scores per label and the predicted labels.",
        discussion: """
        ch and probe models add `scores` (label → σ(logit)) and the labels whose score is above the \
        model's threshold (0.5, or the per-label thresholds of `ptec tune-thresholds`; --threshold \
        overrides both). lh models generate greedily after the soft prompt ("label; label; …<eos>", at \
        most --max-new-tokens) and add `generated` and the labels read from it: exact names between the \
        separators (--substring-match: the reference's rule, any label whose name occurs in the text); \
        --trie constrains generation to distinct labels, as the reference's trie search. A record that \
        cannot be read fails alone (--on-error: skip, fail, or pass it through with an `error` field).

        Example:
          ptec predict --model hate-ptec --text-field prompt < test_preprocessed.json | ptec eval --text-field prompt --data test_preprocessed.json
        """)

    @Option(help: "A directory written by `ptec train`.")
    var model: String

    @Option(help: "The base model, if it moved since training (default: the path in ptec.json).")
    var base: String?

    @Option(help: "One threshold for every label (default: the model's).")
    var threshold: Double?

    @Flag(help: "lh: constrain generation to the label trie.")
    var trie = false

    @Flag(help: "lh: read labels as the reference does (every label whose name occurs in the generated text).")
    var substringMatch = false

    @Option(help: "lh: most tokens generated per text.")
    var maxNewTokens = 75

    @Option(help: "Field the predicted labels go to.")
    var outputField = "labels"

    @Option(help: "Field with the text.")
    var textField = "text"

    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func run() throws {
        common.apply()
        var bundle = loadModelOrExit(model, base: base)
        if let threshold { bundle = bundle.with(threshold: threshold) }
        let labels = bundle.config.labels
        let runner = JSONLRunner(program: "ptec", io: io, common: common)
        let status: Int32
        if bundle.config.head == .lh {
            var generator: Generator
            do { generator = try Generator(model: bundle.model, tokenizer: bundle.tokenizer, useTrie: trie, maxNewTokens: maxNewTokens) } catch {
                fatalLoad(program: "ptec", path: model, problem: "\(error)")
            }
            generator.substringMatch = substringMatch
            let g = generator
            status = runner.mapBatches(batchSize: common.batch, read: { r in try bundle.encodeQuery(try r.string(textField)) },
                                       compute: { $0.map { g.generate($0) } }, write: { r, out in
                r.set("generated", string: out.text)
                writePrediction(&r, labels: labels, scores: nil, predicted: out.labels, field: outputField)
            })
        } else {
            status = runner.mapBatches(batchSize: common.batch, read: { r in try bundle.encode(try r.string(textField)) },
                                       compute: { bundle.scores($0) }, write: { r, s in
                writePrediction(&r, labels: labels, scores: s, predicted: bundle.decide(s), field: outputField)
            })
        }
        throw ExitCode(status)
    }
}
