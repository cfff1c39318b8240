// Multi-label data as ptec reads it: JSON Lines, one text per record (--text-field; the reference's
// files use "prompt") and its labels either as a list of names ("labels": ["Media", "Politics"]) or,
// as in the reference's data files, as one 0/1 field per label: every field that holds 0 or 1 (or a
// boolean), except the reference's list of non-label columns (ID, title, message, …).
import Foundation
import Runtime

public struct LabelledText: Sendable, Equatable {
    public var text: String
    /// Gold labels by name; nil when the record carries none.
    public var labels: [String]?
    public init(text: String, labels: [String]?) { (self.text, self.labels) = (text, labels) }
}

/// The columns the reference never takes for labels (dataset.py get_labels).
public let nonLabelColumns: Set<String> = ["id", "legal_name", "description", "short_description", "tags", "len_des", "tags_string",
                                           "len_tags", "prompt", "augmented", "pred_correct", "pretraining_knowledge", "ID", "type",
                                           "title", "message"]

/// The label columns of a record in the reference's 0/1 layout, in document order.
public func indicatorColumns(_ value: JSONValue) -> [String] {
    guard let o = value.objectValue else { return [] }
    return o.members.compactMap { m in
        guard !nonLabelColumns.contains(m.key), indicator(m.value) != nil else { return nil }
        return m.key
    }
}

func indicator(_ v: JSONValue) -> Bool? {
    if let b = v.boolValue { return b }
    if let n = v.numberValue, let x = try? n.double(), x == 0 || x == 1 { return x == 1 }
    return nil
}

/// A record's gold labels: the `field` list, or the 1-valued indicator columns; nil when it has neither.
public func goldLabels(_ v: JSONValue, field: String) throws -> [String]? {
    if let l = v[field] {
        guard let a = l.arrayValue else {
            if let s = l.stringValue { return [s] }
            throw PTECError("\"\(field)\" must be a list of label names, got \(l.kindDescription)")
        }
        return try a.map { x in
            guard let s = x.stringValue else { throw PTECError("\"\(field)\" holds \(x.kindDescription), not a label name") }
            return s
        }
    }
    let columns = indicatorColumns(v)
    guard !columns.isEmpty else { return nil }
    return columns.filter { indicator(v[$0]!) == true }
}

/// Labelled texts from a JSON Lines file; `columns` receives the indicator columns of the first record
/// that has them (the label order of the reference's files).
public func readLabelledTexts(path: String, textField: String, labelsField: String) throws -> (texts: [LabelledText], columns: [String]) {
    let data = try readInput(path)
    var out: [LabelledText] = [], columns: [String] = []
    let parsed: [(line: Int, value: JSONValue)]
    do { parsed = try parseJSONLines(splitLines(String(decoding: data, as: UTF8.self))) } catch { throw PTECError("\(error)") }
    for (n, v) in parsed {
        guard let t = v[textField]?.stringValue else { throw PTECError("line \(n): no \"\(textField)\" string") }
        let labels: [String]?
        do { labels = try goldLabels(v, field: labelsField) } catch { throw PTECError("line \(n): \(error)") }
        if columns.isEmpty && v[labelsField] == nil { columns = indicatorColumns(v) }
        out.append(LabelledText(text: t, labels: labels))
    }
    return (out, columns)
}

/// A file's bytes; "-" or /dev/stdin: standard input (a pipe, which FileManager cannot read).
public func readInput(_ path: String) throws -> Data {
    if path == "-" || path == "/dev/stdin" { return FileHandle.standardInput.readDataToEndOfFile() }
    guard let data = FileManager.default.contents(atPath: path) else { throw PTECError("cannot read \(path)") }
    return data
}

/// pos_weight as the reference computes it on the training labels: max_c count(c) / count(c)
/// (dataset.py). A label without a positive example gets the largest count (weight as for the most
/// frequent label times nothing to weigh) — 1 — instead of the reference's infinity.
public func positiveWeights(_ texts: [LabelledText], labels: [String]) -> [Float] {
    let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
    var counts = [Int](repeating: 0, count: labels.count)
    for t in texts { for l in Set(t.labels ?? []) { if let i = index[l] { counts[i] += 1 } } }
    let most = counts.max() ?? 0
    return counts.map { $0 == 0 || most == 0 ? 1 : Float(Double(most) / Double($0)) }
}

/// Labels ordered by how many training texts carry them, most first (ties: label order), as the
/// reference orders a prompt-tuning target ("Neutral; Swearing").
public func frequencyOrder(_ texts: [LabelledText], labels: [String]) -> [String: Int] {
    var counts: [String: Int] = [:]
    for t in texts { for l in Set(t.labels ?? []) { counts[l, default: 0] += 1 } }
    let order = labels.enumerated().sorted { (a, b) in
        let (ca, cb) = (counts[a.element] ?? 0, counts[b.element] ?? 0)
        return ca != cb ? ca > cb : a.offset < b.offset
    }
    return Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1.element, $0) })
}
