// Reading GLiClass's inputs out of JSON: labels as a list or a hierarchy ({"sentiment": ["positive",
// "negative"]} flattens to "sentiment.positive", … as the reference's pipeline does), few-shot examples
// ({"text", "labels" or "true_labels"}), a prompt; and training items in the reference's format
// ({"text", "all_labels", "true_labels": [...] or {label: weight}, "prompt", "examples"}).
import Foundation
import Runtime

public enum GLiClassRecords {
    /// Labels from a JSON value: an array of strings, or nested objects/arrays flattened with `separator`.
    public static func labels(_ v: JSONValue, field: String, separator: String = ".") throws -> [String] {
        func flatten(_ v: JSONValue, _ prefix: String) throws -> [String] {
            func name(_ s: String) -> String { prefix.isEmpty ? s : prefix + separator + s }
            switch v {
            case .string(let s): return [name(s)]
            case .array(let a): return try a.flatMap { try flatten($0, prefix) }
            case .object(let o): return try o.members.flatMap { try flatten($0.value, name($0.key)) }
            default: throw RecordError.field(field, "labels must be strings, lists or objects of them, got \(v.kindDescription)")
            }
        }
        let out = try flatten(v, "")
        guard !out.isEmpty else { throw RecordError.field(field, "no labels") }
        var seen = Set<String>()
        for l in out where !seen.insert(l).inserted { throw RecordError.field(field, "label '\(l)' given twice") }
        return out
    }

    /// Few-shot examples: an array of {"text", "labels"} (or "true_labels").
    public static func examples(_ v: JSONValue, field: String) throws -> [FewShotExample] {
        guard case .array(let items) = v else { throw RecordError.field(field, "expected an array of examples, got \(v.kindDescription)") }
        return try items.enumerated().map { i, e in
            guard case .object(let o) = e, let text = o["text"]?.stringValue else {
                throw RecordError.field(field, "example \(i): expected an object with a text")
            }
            let l = o["labels"] ?? o["true_labels"] ?? .array([])
            let labels: [String]
            switch l {
            case .array(let a): labels = try a.map { guard let s = $0.stringValue else { throw RecordError.field(field, "example \(i): labels must be strings") }; return s }
            case .string(let s): labels = [s]
            default: throw RecordError.field(field, "example \(i): labels must be a list of strings")
            }
            return FewShotExample(text: text, labels: labels)
        }
    }
}

/// A training item (the reference's JSON): the text, every candidate label, and the true ones (a list,
/// or weights per label for soft targets).
public struct TrainingItem: Sendable {
    public var text: String
    public var allLabels: [String]
    /// label → target (1 for a listed true label; a weight for soft targets).
    public var trueLabels: [String: Float]
    /// The true labels in the order the file gave them (single-label training takes the first).
    public var trueOrder: [String]
    public var prompt: String = ""
    public var examples: [FewShotExample] = []

    public init(text: String, allLabels: [String], trueLabels: [String: Float], trueOrder: [String]) {
        self.text = text
        self.allLabels = allLabels
        self.trueLabels = trueLabels
        self.trueOrder = trueOrder
    }

    public init(json v: JSONValue, index: Int) throws {
        func fail(_ m: String) -> GLiClassError { GLiClassError("item \(index): \(m)") }
        guard case .object(let o) = v else { throw fail("expected an object") }
        guard let text = o["text"]?.stringValue else { throw fail("no text") }
        guard let all = o["all_labels"] ?? o["labels"] else { throw fail("no all_labels") }
        do { allLabels = try GLiClassRecords.labels(all, field: "all_labels") } catch { throw fail("\(error)") }
        self.text = text
        trueLabels = [:]
        trueOrder = []
        switch o["true_labels"] ?? .array([]) {
        case .array(let a):
            for e in a {
                guard let s = e.stringValue else { throw fail("true_labels must be strings") }
                trueLabels[s] = 1
                trueOrder.append(s)
            }
        case .object(let w):
            for m in w.members {
                guard let x = try? m.value.numberValue?.float(), x.isFinite, (0...1).contains(x) else {
                    throw fail("true_labels weight for '\(m.key)' must be a number in [0, 1]")
                }
                trueLabels[m.key] = x
                trueOrder.append(m.key)
            }
        case .string(let s):
            trueLabels[s] = 1
            trueOrder = [s]
        default: throw fail("true_labels must be a list or an object")
        }
        prompt = o["prompt"]?.stringValue ?? ""
        if let e = o["examples"] { do { examples = try GLiClassRecords.examples(e, field: "examples") } catch { throw fail("\(error)") } }
    }
}

/// Reads training items: a JSON array (the reference's format) or JSON Lines, one item per line.
public func readTrainingItems(path: String) throws -> [TrainingItem] {
    guard let data = FileManager.default.contents(atPath: path) else { throw GLiClassError("\(path): cannot read") }
    let bytes = [UInt8](data)
    let first = bytes.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
    do {
        if first == UInt8(ascii: "[") {
            guard case .array(let items) = try JSONValue(parsing: bytes) else { throw GLiClassError("not a JSON array") }
            return try items.enumerated().map { try TrainingItem(json: $1, index: $0) }
        }
        var out: [TrainingItem] = []
        var n = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            n += 1
            let l = line.last == 0x0D ? Array(line.dropLast()) : Array(line)
            if l.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do { out.append(try TrainingItem(json: try JSONValue(parsing: l), index: n)) } catch { throw GLiClassError("line \(n): \(error)") }
        }
        return out
    } catch let e as GLiClassError { throw GLiClassError("\(path): \(e)") } catch { throw GLiClassError("\(path): \(error)") }
}
