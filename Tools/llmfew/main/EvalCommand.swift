// `llmfew eval`: accuracy, macro accuracy, macro precision and F1 of a model on labelled series.
import ArgumentParser
import Foundation
import LLMFewCore
import Runtime
import RuntimeCLI

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a trained model on labelled series.",
        discussion: """
        Writes one JSON object: accuracy (share of series right), macro_accuracy (mean recall over \
        classes: what the reference prints as "Accuracy", torchmetrics' macro default), macro_precision, \
        macro_f1, the mean loss and the count.

        Example:
          llmfew eval --model bm --data bm-test.jsonl
        """)

    @Option(help: "A directory written by `llmfew train`.")
    var model: String

    @Option(help: "The decoder, if it moved since training.")
    var base: String?

    @Option(help: ArgumentHelp("Labelled series (JSON Lines, '-': stdin, or a .ts file).", valueName: "file"))
    var data = "-"

    @OptionGroup var fields: SeriesFieldOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let net = loadModelOrExit(model, base: base)
        let series = readSeriesOrExit(data, fields: fields)
        do {
            let (s, loss) = try evaluate(net, series, batch: common.batch)
            writeLine(try scoresRecord(s, loss: loss))
        } catch let e as LLMFewError {
            // Data the model cannot score (a label it does not know, other channels, longer series).
            printError(program: "llmfew", "\(data): \(e)")
            throw ExitCode(1)
        }
    }
}
