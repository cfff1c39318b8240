// `ptec eval`: scikit-learn's multi-label report and Jaccard scores, of a model on labelled data or of
// predictions already made.
import ArgumentParser
import Foundation
import PTECCore
import Runtime
import RuntimeCLI

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score predictions: per-label and averaged precision/recall/F1 and Jaccard, as scikit-learn.",
        discussion: """
        With --model: the model labels --data and is scored on it. Without: the predicted labels are read \
        from stdin (or --predictions), one record per line of --data in the same order, from \
        --predicted-field (what `ptec predict`, `ptec knn` and `ptec gzip` write).

        Figures: classification_report(output_dict=True, zero_division=0) over every label of the model \
        (or of the data) — per label, micro, macro, weighted and samples averages — and jaccard_score \
        with each average, avg_n_predicted and avg_n_labels, as the reference's sector_report. Labels \
        that never occur count in the macro average with 0, as scikit-learn counts them given the \
        indicator matrix. The headline figure is macro_f1.

        Example:
          ptec eval --model hate-ptec --text-field prompt --data test_preprocessed.json
        """)

    @Option(help: "A directory written by `ptec train` (omit to score predictions from stdin).")
    var model: String?

    @Option(help: "The base model, if it moved since training.")
    var base: String?

    @Option(help: ArgumentHelp("Labelled data.", valueName: "file"))
    var data: String

    @Option(help: ArgumentHelp("Predictions ('-': stdin), without --model.", valueName: "file"))
    var predictions = "-"

    @Option(help: "Field of the predicted labels in --predictions.")
    var predictedField = "labels"

    @Option(help: "One threshold for every label (default: the model's).")
    var threshold: Double?

    @Flag(help: "lh: generate with the label trie.")
    var trie = false

    @Option(help: "The labels to report on, in order: a file or a comma-separated list (default: the model's; without --model the data's columns, or every label named in the gold or predicted lists).")
    var labels: String?

    @OptionGroup var fields: DataFields
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let (texts, columns) = readOrExit(data, fields)
        do {
            let report: MultiLabelReport
            if let model {
                var bundle = loadModelOrExit(model, base: base)
                if let threshold { bundle = bundle.with(threshold: threshold) }
                let names = bundle.config.labels
                let gold = try goldSets(texts, labels: names, what: "data")
                var predicted: [Set<Int>] = []
                if bundle.config.head == .lh {
                    let g = try Generator(model: bundle.model, tokenizer: bundle.tokenizer, useTrie: trie)
                    predicted = try texts.map { Set(g.generate(try bundle.encodeQuery($0.text)).labels) }
                } else {
                    let ids = try texts.map { try bundle.encode($0.text) }
                    predicted = bundle.scores(ids, batch: common.batch).map { Set(bundle.decide($0)) }
                }
                report = MultiLabelReport(labels: names, gold: gold, predicted: predicted)
            } else {
                let lines = try readPredictionLines(predictions)
                // The labels: given, or the data's columns, or every name in the gold and predicted lists.
                let predictedNames = lines.map { ($0[predictedField]?.arrayValue ?? []).compactMap(\.stringValue) }
                let names = labelOrder(given: labels.map(readNameList), columns: columns,
                                       texts: [texts, predictedNames.map { LabelledText(text: "", labels: $0) }])
                let gold = try goldSets(texts, labels: names, what: "data")
                let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
                guard lines.count == texts.count else {
                    throw PTECError("\(lines.count) prediction records for \(texts.count) data records: give them line for line")
                }
                let predicted = try lines.enumerated().map { i, v -> Set<Int> in
                    guard let list = v[predictedField]?.arrayValue else {
                        throw PTECError("prediction \(i + 1) has no \"\(predictedField)\" list\(v["error"].map { " (it failed: \($0.stringValue ?? ""))" } ?? "")")
                    }
                    return Set(try list.map { x in
                        guard let s = x.stringValue, let k = index[s] else { throw PTECError("prediction \(i + 1): '\(x.stringValue ?? x.kindDescription)' is not one of the labels") }
                        return k
                    })
                }
                report = MultiLabelReport(labels: names, gold: gold, predicted: predicted)
            }
            print(reportRecord(report).jsonText)
        } catch let e as PTECError {
            printError(program: "ptec", "\(e)")
            throw ExitCode(1)
        } catch let e as LoadError {
            fatalLoad(program: "ptec", e)
        }
    }
}

func readPredictionLines(_ path: String) throws -> [JSONValue] {
    let data: Data
    do { data = try readInput(path) } catch { throw LoadError(path: path, problem: "cannot read") }
    do { return try parseJSONLines(splitLines(String(decoding: data, as: UTF8.self))).map(\.value) } catch { throw PTECError("predictions: \(error)") }
}
