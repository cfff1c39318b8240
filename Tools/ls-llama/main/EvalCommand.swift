// `ls-llama eval`: a model's scores on labelled data, as one JSON object.
import ArgumentParser
import Foundation
import LSLlamaCore
import Runtime
import RuntimeCLI

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a trained model on labelled data: accuracy and F1 (seq), entity precision/recall/F1 (token).",
        discussion: """
        Data as `ls-llama train` reads it. Sequences: accuracy and macro/micro/weighted F1 as \
        scikit-learn computes them. Tags: entity-level micro precision, recall and F1 as seqeval computes \
        them in its default (conlleval) mode, macro and weighted F1, token accuracy, and per type; every \
        sentence is scored whole (words cut off by --max-length count as "O", `truncated_words` says how \
        many), unlike the reference, which drops them.

        Example:
          ls-llama eval --model conll-ls --data ../shared/data/conll/conll2003/eng.testb
        """)

    @Option(help: "A directory written by `ls-llama train`.")
    var model: String

    @Option(help: "The base model, if it moved since training.")
    var base: String?

    @Option(help: ArgumentHelp("Labelled data ('-': stdin).", valueName: "file"))
    var data = "-"

    @Option(help: "Token tasks: first, mean or max over a word's sub-tokens.")
    var aggregate: WordAggregation = .first

    @Option(help: "Score the first N examples only (0: all).")
    var maxExamples = 0

    @OptionGroup var fields: FieldOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let bundle = loadModelOrExit(model, base: base)
        var (seqs, sents) = readData(data, task: bundle.config.task, fields: fields.names, labels: bundle.config.labels)
        if maxExamples > 0 { seqs = Array(seqs.prefix(maxExamples)); sents = Array(sents.prefix(maxExamples)) }
        if let i = seqs.firstIndex(where: { $0.label == nil }) ?? sents.firstIndex(where: { $0.tags == nil }) {
            fatalLoad(program: "ls-llama", path: data, problem: "example \(i + 1) has no \(bundle.config.task == .seq ? "label" : "tags") to score against")
        }
        let known = Set(bundle.config.labels)
        if let bad = seqs.compactMap(\.label).first(where: { !known.contains($0) }) ?? sents.flatMap({ $0.tags ?? [] }).first(where: { !known.contains($0) }) {
            fatalLoad(program: "ls-llama", path: data, problem: "label '\(bad)' is not one of the model's \(bundle.config.labels)")
        }
        do {
            print(try scoresRecord(bundle, seqs: seqs, sents: sents, batch: common.batch, aggregate: aggregate).jsonText)
        } catch {
            printError(program: "ls-llama", "\(error)")
            throw ExitCode(1)
        }
    }
}
