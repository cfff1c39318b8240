// `prokd eval`: entity-level scores on labelled sentences, as one JSON object.
import ArgumentParser
import Foundation
import ProKDCore
import Runtime
import RuntimeCLI

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a tagger on labelled sentences: entity-level micro precision, recall and F1 (seqeval's default mode, conlleval's rules).",
        discussion: """
        Data as `prokd teacher` reads it (CoNLL-2002/2003 files directly). Prints micro precision, \
        recall and F1 over exact (type, span) entities, macro and weighted F1, token accuracy, per-type \
        figures and counts; every sentence is scored whole (words cut off by max_length count as O). \
        This is the only command that reads target-language tags: use it once, on the test set.

        Example:
          prokd eval --model s --data ../shared/data/conll/conll2002/esp.testb
        """)

    @Option(help: "A directory written by `prokd teacher` or `prokd student`.")
    var model: String

    @Option(help: "The base model, if it moved since training.")
    var base: String?

    @Option(help: ArgumentHelp("Labelled sentences ('-': stdin).", valueName: "file"))
    var data = "-"

    @Option(help: "A word's distribution: its first sub-token's, or the mean or max over its sub-tokens.")
    var aggregate: WordAggregation = .first

    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let bundle: TaggerBundle
        do { bundle = try TaggerFiles.load(directory: model, base: base) } catch {
            fatalLoad(program: "prokd", path: model, problem: "\(error)", hint: "give a directory written by `prokd teacher` or `prokd student`")
        }
        let sentences = readSentences(data, tags: true)
        if let i = sentences.firstIndex(where: { $0.tags == nil }) { fail(data, ProKDError("sentence \(i + 1) has no tags to score against")) }
        // Gold tags the model cannot predict (a tag its source data lacked) are scored as missed.
        let unknown = Set(sentences.flatMap { $0.tags ?? [] }).subtracting(bundle.config.tags)
        if !unknown.isEmpty && !common.quiet {
            printError(program: "prokd", "warning: the data has tags the model cannot predict: \(unknown.sorted().joined(separator: ", "))")
        }
        try exitOnError(data) {
            let (s, truncated) = try evaluate(bundle, sentences, batch: common.batch, aggregate: aggregate)
            print(try entityScoresRecord(s, sentences: sentences.count, truncatedWords: truncated).jsonText)
        }
    }
}
