// Sentences with one tag per word, as token-classification programs (ls-llama, prokd) read them:
// JSON Lines {"tokens": [...], "tags": [...]} (tags optional: unlabelled data), or CoNLL column files
// (word first, tag last, blank lines between sentences, -DOCSTART- lines skipped even when no blank
// line follows, as in CoNLL-2002 Dutch), whose IOB1 tags are rewritten as IOB2 (CoNLL-2003 is IOB1).
import Foundation

public struct TaggedSentence: Sendable, Equatable {
    public var words: [String]
    public var tags: [String]?
    public init(words: [String], tags: [String]?) { (self.words, self.tags) = (words, tags) }
}

/// Tagged sentences from `path` (errors give line numbers; callers name the file); `tagNames` maps
/// integer tags to names. With `readTags` false the tags are never looked at (unlabelled target data: a CoNLL tag column is skipped, a JSONL "tags"
/// field ignored, a CoNLL line may be the word alone), so nothing of them reaches the caller.
public func readTaggedSentences(path: String, tokensField: String = "tokens", tagsField: String = "tags",
                                tagNames: [String]? = nil, readTags: Bool = true) throws -> [TaggedSentence] {
    let lines = splitLines(try readTextFile(path))
    guard let first = lines.first(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return [] }
    var out: [TaggedSentence] = []
    if first.trimmingCharacters(in: .whitespaces).hasPrefix("{") {
        for (n, v) in try parseJSONLines(lines) {
            guard let list = v[tokensField]?.arrayValue, case let words = list.compactMap(\.stringValue), words.count == list.count else {
                throw DataError(description: "line \(n): no \"\(tokensField)\" list of strings")
            }
            var tags: [String]? = nil
            if readTags, let t = v[tagsField] {
                guard let list = t.arrayValue else { throw DataError(description: "line \(n): \"\(tagsField)\" is not a list") }
                tags = try list.map { try labelName($0, names: tagNames, line: n) }
                guard tags!.count == words.count else { throw DataError(description: "line \(n): \(words.count) tokens but \(tags!.count) tags") }
            }
            guard !words.isEmpty else { continue }
            out.append(TaggedSentence(words: words, tags: tags))
        }
        return out
    }
    var words: [String] = [], tags: [String] = []
    func flush() {
        if !words.isEmpty { out.append(TaggedSentence(words: words, tags: readTags ? iob1ToIOB2(tags) : nil)) }
        words = []; tags = []
    }
    for (i, line) in lines.enumerated() {
        let cols = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if cols.isEmpty { flush(); continue }
        if cols[0] == "-DOCSTART-" { flush(); continue }
        guard cols.count >= (readTags ? 2 : 1) else { throw DataError(description: "line \(i + 1): a CoNLL line needs a word and a tag") }
        words.append(String(cols[0]))
        if readTags { tags.append(String(cols[cols.count - 1])) }
    }
    flush()
    return out
}

/// Tags for a classifier's rows: "O" first, then the rest sorted.
public func collectTags(_ tags: [String]) -> [String] {
    let set = Set(tags)
    return (set.contains("O") ? ["O"] : []) + set.subtracting(["O"]).sorted()
}
