// What the three subcommands share: option types, data loading with clean exits.
import ArgumentParser
import Foundation
import LSLlamaCore
import Runtime
import RuntimeCLI

extension LSTask: ExpressibleByArgument {}
extension PoolingMode: ExpressibleByArgument {}
extension WordAggregation: ExpressibleByArgument {}

struct FieldOptions: ParsableArguments {
    @Option(help: "Field (or TSV column) with a text (seq).")
    var textField = "text"
    @Option(help: "Field (or TSV column) with the label (seq).")
    var labelField = "label"
    @Option(help: "Field with a sentence's words (token).")
    var tokensField = "tokens"
    @Option(help: "Field with a sentence's tags (token).")
    var tagsField = "tags"

    var names: FieldNames {
        var f = FieldNames()
        (f.text, f.label, f.tokens, f.tags) = (textField, labelField, tokensField, tagsField)
        return f
    }
}

func loadOrExit<T>(_ path: String, _ body: () throws -> T) -> T {
    do { return try body() } catch { fatalLoad(program: "ls-llama", path: path, problem: "\(error)") }
}

/// Labelled data of a task, read from `path` ('-': stdin).
func readData(_ path: String, task: LSTask, fields: FieldNames, labels: [String]?) -> (seqs: [SequenceExample], sents: [TaggedSentence]) {
    let file = path == "-" ? "/dev/stdin" : path
    switch task {
    case .seq: return (loadOrExit(path) { try readSequenceExamples(path: file, fields: fields, labelNames: labels) }, [])
    case .token: return ([], loadOrExit(path) { try readTaggedSentences(path: file, fields: fields, labelNames: labels) })
    }
}

func loadModelOrExit(_ directory: String, base: String?) -> LSBundle {
    do { return try LSModelFiles.load(directory: directory, base: base) } catch {
        fatalLoad(program: "ls-llama", path: directory, problem: "\(error)", hint: "give a directory written by `ls-llama train`")
    }
}

/// An evaluation as one JSON object.
func scoresRecord(_ bundle: LSBundle, seqs: [SequenceExample], sents: [TaggedSentence], batch: Int, aggregate: WordAggregation) throws -> Record {
    var r = Record()
    switch bundle.config.task {
    case .seq:
        let s = try evaluateSequences(bundle, seqs, batch: batch)
        try r.set("accuracy", double: s.accuracy)
        try r.set("macro_f1", double: s.macroF1)
        try r.set("micro_f1", double: s.microF1)
        try r.set("weighted_f1", double: s.weightedF1)
        r.set("examples", int: s.records)
    case .token:
        let (s, truncated) = try evaluateSentences(bundle, sents, batch: batch, aggregate: aggregate)
        r = try entityScoresRecord(s, sentences: sents.count, truncatedWords: truncated)
    }
    return r
}

