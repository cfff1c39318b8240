// Labelled data as ls-llama reads it:
//   sequences   JSON Lines {"text": …, "label": …} (a string, or an integer naming the class by index
//               when --labels gives the names), or a TSV with a header naming the text and label
//               columns (GLUE's SST-2 files: "sentence"/"content" and "label");
//   tags        JSON Lines {"tokens": [...], "tags": [...]}, or CoNLL column files, IOB1 rewritten as
//               IOB2 (the runtime's readTaggedSentences, Train/TaggedSentences.swift).
import Foundation
import Runtime

public struct SequenceExample: Sendable, Equatable {
    public var text: String
    public var label: String?
    public init(text: String, label: String?) { (self.text, self.label) = (text, label) }
}

public struct FieldNames: Sendable {
    public var text = "text", label = "label", tokens = "tokens", tags = "tags"
    public init() {}
}

public func readSequenceExamples(path: String, fields: FieldNames = FieldNames(), labelNames: [String]? = nil) throws -> [SequenceExample] {
    let lines = splitLines(try readTextFile(path))
    guard let first = lines.first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return [] }
    var out: [SequenceExample] = []
    if first.trimmingCharacters(in: .whitespaces).hasPrefix("{") {
        for (n, v) in try parseJSONLines(lines) {
            guard let t = v[fields.text]?.stringValue else { throw LSLlamaError("line \(n): no \"\(fields.text)\" string") }
            out.append(SequenceExample(text: t, label: try v[fields.label].map { try labelName($0, names: labelNames, line: n) }))
        }
        return out
    }
    // TSV with a header.
    let header = first.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    let textColumn = header.firstIndex(of: fields.text) ?? header.firstIndex(of: "sentence") ?? header.firstIndex(of: "content")
    guard let textColumn else { throw LSLlamaError("\(path): a TSV needs a header with a '\(fields.text)' (or sentence/content) column") }
    let labelColumn = header.firstIndex(of: fields.label)
    let headerLine = lines.firstIndex(of: first) ?? 0
    for (i, line) in lines.enumerated() where i > headerLine && !line.isEmpty {
        let cols = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard cols.count == header.count else { throw LSLlamaError("line \(i + 1): \(cols.count) columns, the header has \(header.count)") }
        var label: String? = nil
        if let c = labelColumn {
            label = cols[c]
            if let names = labelNames, let k = Int(cols[c]) {
                guard names.indices.contains(k) else { throw LSLlamaError("line \(i + 1): label \(k) is outside the \(names.count) labels") }
                label = names[k]
            }
        }
        out.append(SequenceExample(text: cols[textColumn], label: label))
    }
    return out
}

public func readTaggedSentences(path: String, fields: FieldNames = FieldNames(), labelNames: [String]? = nil) throws -> [TaggedSentence] {
    try Runtime.readTaggedSentences(path: path, tokensField: fields.tokens, tagsField: fields.tags, tagNames: labelNames)
}

/// Labels in order of first appearance, or sorted (sequence tasks: sorted, as datasets' ClassLabel
/// lists them; tags: "O" first, then the sorted rest).
public func collectLabels(_ labels: [String], tags: Bool) -> [String] {
    tags ? collectTags(labels) : Set(labels).sorted()
}
