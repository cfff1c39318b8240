// Labelled data as ls-llama reads it:
//   sequences   JSON Lines {"text": …, "label": …} (a string, or an integer naming the class by index
//               when --labels gives the names), or a TSV with a header naming the text and label
//               columns (GLUE's SST-2 files: "sentence"/"content" and "label");
//   tags        JSON Lines {"tokens": [...], "tags": [...]}, or CoNLL column files (word first, tag
//               last, blank lines between sentences, -DOCSTART- lines skipped), IOB1 tags rewritten
//               as IOB2 (CoNLL-2003 is IOB1).
import Foundation
import Runtime

public struct SequenceExample: Sendable, Equatable {
    public var text: String
    public var label: String?
    public init(text: String, label: String?) { (self.text, self.label) = (text, label) }
}

public struct TaggedSentence: Sendable, Equatable {
    public var words: [String]
    public var tags: [String]?
    public init(words: [String], tags: [String]?) { (self.words, self.tags) = (words, tags) }
}

public struct FieldNames: Sendable {
    public var text = "text", label = "label", tokens = "tokens", tags = "tags"
    public init() {}
}

func readText(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else { throw LSLlamaError("cannot read \(path)") }
    return String(decoding: data, as: UTF8.self)
}

/// Parsed JSON lines, a line that is not JSON reported as this program's error.
func jsonLines(_ lines: [String]) throws -> [(line: Int, value: JSONValue)] {
    do { return try parseJSONLines(lines) } catch let e as JSONLineError { throw LSLlamaError(e.description) }
}

/// A label given as a string, or as an integer index into `names`.
func labelName(_ v: JSONValue, names: [String]?, line: Int) throws -> String {
    if let s = v.stringValue { return s }
    if let n = v.numberValue, let i = try? n.int() {
        guard let names else { return String(i) }
        guard names.indices.contains(i) else { throw LSLlamaError("line \(line): label \(i) is outside the \(names.count) labels") }
        return names[i]
    }
    throw LSLlamaError("line \(line): a label must be a string or an integer, got \(v.kindDescription)")
}

public func readSequenceExamples(path: String, fields: FieldNames = FieldNames(), labelNames: [String]? = nil) throws -> [SequenceExample] {
    let text = try readText(path)
    let lines = splitLines(text)
    guard let first = lines.first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return [] }
    var out: [SequenceExample] = []
    if first.trimmingCharacters(in: .whitespaces).hasPrefix("{") {
        for (n, v) in try jsonLines(lines) {
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
    let text = try readText(path)
    let lines = splitLines(text)
    guard let first = lines.first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return [] }
    var out: [TaggedSentence] = []
    if first.trimmingCharacters(in: .whitespaces).hasPrefix("{") {
        for (n, v) in try jsonLines(lines) {
            guard let list = v[fields.tokens]?.arrayValue, case let words = list.compactMap(\.stringValue), words.count == list.count else {
                throw LSLlamaError("line \(n): no \"\(fields.tokens)\" list of strings")
            }
            var tags: [String]? = nil
            if let t = v[fields.tags] {
                guard let list = t.arrayValue else { throw LSLlamaError("line \(n): \"\(fields.tags)\" is not a list") }
                tags = try list.map { try labelName($0, names: labelNames, line: n) }
                guard tags!.count == words.count else { throw LSLlamaError("line \(n): \(words.count) tokens but \(tags!.count) tags") }
            }
            guard !words.isEmpty else { continue }
            out.append(TaggedSentence(words: words, tags: tags))
        }
        return out
    }
    // CoNLL columns.
    var words: [String] = [], tags: [String] = []
    func flush() {
        if !words.isEmpty { out.append(TaggedSentence(words: words, tags: iob1ToIOB2(tags))) }
        words = []; tags = []
    }
    for (i, line) in lines.enumerated() {
        let cols = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        if cols.isEmpty { flush(); continue }
        if cols[0] == "-DOCSTART-" { flush(); continue }
        guard cols.count >= 2 else { throw LSLlamaError("\(path) line \(i + 1): a CoNLL line needs a word and a tag") }
        words.append(cols[0])
        tags.append(cols[cols.count - 1])
    }
    flush()
    return out
}

/// Labels in order of first appearance, or sorted (sequence tasks: sorted, as datasets' ClassLabel
/// lists them; tags: "O" first, then the sorted rest).
public func collectLabels(_ labels: [String], tags: Bool) -> [String] {
    let set = Set(labels)
    if tags { return (set.contains("O") ? ["O"] : []) + set.subtracting(["O"]).sorted() }
    return set.sorted()
}
