// What the subcommands share: the data options, reading labelled texts with clean exits, the report
// as one JSON object.
import ArgumentParser
import Foundation
import PTECCore
import Runtime
import RuntimeCLI

extension HeadKind: ExpressibleByArgument {}
extension PromptInit: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}

struct DataFields: ParsableArguments {
    @Option(help: "Field with the text (the reference's files: prompt).")
    var textField = "text"
    @Option(help: "Field with the gold labels as a list of names; records without it are read in the reference's layout (one 0/1 field per label).")
    var labelsField = "labels"
}

func readOrExit(_ path: String, _ fields: DataFields) -> (texts: [LabelledText], columns: [String]) {
    do { return try readLabelledTexts(path: path, textField: fields.textField, labelsField: fields.labelsField) } catch {
        fatalLoad(program: "ptec", path: path, problem: "\(error)")
    }
}

func loadModelOrExit(_ directory: String, base: String?) -> PTECBundle {
    do { return try PTECModelFiles.load(directory: directory, base: base) } catch {
        fatalLoad(program: "ptec", path: directory, problem: "\(error)", hint: "give a directory written by `ptec train`")
    }
}

/// The head's label order: given, else the reference layout's columns, else the names in order of
/// first appearance.
func labelOrder(given: [String]?, columns: [String], texts: [[LabelledText]]) -> [String] {
    if let given { return given }
    if !columns.isEmpty { return columns }
    var seen: [String] = [], set = Set<String>()
    for part in texts { for t in part { for l in t.labels ?? [] where set.insert(l).inserted { seen.append(l) } } }
    return seen
}

/// Gold label sets as head indices; a label outside the head is an error.
func goldSets(_ texts: [LabelledText], labels: [String], what: String) throws -> [Set<Int>] {
    try checkDistinct(labels)
    let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
    return try texts.enumerated().map { i, t in
        guard let ls = t.labels else { throw PTECError("\(what) record \(i + 1) has no labels") }
        return Set(try ls.map { l in
            guard let k = index[l] else { throw PTECError("\(what) record \(i + 1): label '\(l)' is not one of the model's \(labels.count) labels") }
            return k
        })
    }
}

/// Label names must be distinct (a repeated --labels entry, or a column twice).
func checkDistinct(_ labels: [String]) throws {
    var seen = Set<String>()
    for l in labels where !seen.insert(l).inserted { throw PTECError("the label '\(l)' is given twice") }
}


/// sklearn's report as one JSON object: the averages flat, then per label.
func reportRecord(_ r: MultiLabelReport) -> Record {
    var out = Record()
    for (k, v) in r.named { out.set(k, JSONValue.finite(v)) }
    out.set("rows", int: r.rows)
    var per = JSONObject()
    for (l, s) in zip(r.labels, r.perLabel) {
        per[l] = .object(["precision": JSONValue.finite(s.precision), "recall": JSONValue.finite(s.recall), "f1": JSONValue.finite(s.f1), "support": .number(JSONNumber(s.support))])
    }
    out.set("per_label", .object(per))
    return out
}

/// Scores (label → value) and the predicted label names, written into a record.
func writePrediction(_ r: inout Record, labels: [String], scores: [Float]?, predicted: [Int], field: String) {
    if let scores {
        var o = JSONObject()
        for (l, v) in zip(labels, scores) { o[l] = JSONValue(v) ?? .null }
        r.set("scores", .object(o))
    }
    r.set(field, strings: predicted.sorted().map { labels[$0] })
}
