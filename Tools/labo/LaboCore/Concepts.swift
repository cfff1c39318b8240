// LaBo's concept bank (data.py): class2concepts.json ({class: [concept, …]}, as the reference ships
// them), classes sorted by name, concepts flattened in file order with their class, then deduplicated
// as np.unique(concepts, return_index=True) does: sorted by code point, each kept once with the class of
// its first occurrence. Concepts that name a class can be dropped (--remove-class-names): by whole
// words here (the reference's substring test drops "located" for the class "cat").
import Foundation
import Runtime

public struct LaboError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public struct ConceptBank: Sendable, Equatable {
    public var classes: [String]
    public var concepts: [String]
    /// Class index of each concept.
    public var conceptClass: [Int]

    public init(classes: [String], concepts: [String], conceptClass: [Int]) {
        (self.classes, self.concepts, self.conceptClass) = (classes, concepts, conceptClass)
    }

    /// The bank of a class2concepts.json object (key order as in the file).
    public init(json: JSONValue, path: String, removeClassNames: Bool = false) throws {
        guard let object = json.objectValue, object.first(where: { _ in true }) != nil else { throw LaboError("\(path): not a {class: [concepts]} object") }
        // A key given twice keeps its first place and its last value, as Python's json.load.
        var order: [String] = [], lists: [String: [String]] = [:]
        for entry in object {
            guard let list = entry.value.arrayValue else { throw LaboError("\(path): the concepts of '\(entry.key)' are not a list") }
            let strings = try list.map { c -> String in
                guard let s = c.stringValue else { throw LaboError("\(path): a concept of '\(entry.key)' is not a string") }
                return s
            }
            if lists[entry.key] == nil { order.append(entry.key) }
            lists[entry.key] = strings
        }
        let flat = order.flatMap { cls in lists[cls]!.map { ($0, cls) } }
        let classes = order.sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
        var first: [String: Int] = [:]
        for (s, cls) in flat where first[s] == nil { first[s] = index[cls]! }
        var concepts = first.keys.sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
        if removeClassNames {
            concepts = concepts.filter { c in !classes.contains { ConceptBank.containsWord(c, $0) } }
        }
        self.init(classes: classes, concepts: concepts, conceptClass: concepts.map { first[$0]! })
        guard !concepts.isEmpty else { throw LaboError("\(path): no concepts") }
    }

    public static func read(_ path: String, removeClassNames: Bool = false) throws -> ConceptBank {
        guard let data = FileManager.default.contents(atPath: path) else { throw LaboError("cannot read \(path)") }
        let json: JSONValue
        do { json = try JSONValue(parsing: [UInt8](data)) } catch { throw LaboError("\(path): \(error)") }
        return try ConceptBank(json: json, path: path, removeClassNames: removeClassNames)
    }

    /// Whether `phrase` (case-insensitive) contains `name` as whole words.
    static func containsWord(_ phrase: String, _ name: String) -> Bool {
        let p = phrase.lowercased(), n = name.lowercased().replacingOccurrences(of: "_", with: " ")
        var searchFrom = p.startIndex
        while let r = p.range(of: n, range: searchFrom..<p.endIndex) {
            let before = r.lowerBound == p.startIndex || !p[p.index(before: r.lowerBound)].isLetter
            let after = r.upperBound == p.endIndex || !p[r.upperBound].isLetter
            if before && after { return true }
            searchFrom = p.index(after: r.lowerBound)
        }
        return false
    }

    /// Concept indices of class k, in bank order.
    public func candidates(of k: Int) -> [Int] { conceptClass.indices.filter { conceptClass[$0] == k } }
}

/// Vectors by text from `embed`'s output ({"text": …, "embedding": [...]}); a text given twice keeps its first vector.
public func readTextEmbeddings(_ path: String, textField: String = "text", field: String = "embedding") throws -> [String: [Float]] {
    var out: [String: [Float]] = [:]
    for (n, v) in try jsonLinesFile(path) {
        guard let t = v[textField]?.stringValue else { throw LaboError("\(path) line \(n): no \"\(textField)\" string") }
        let e = try floatArray(v[field], "\(path) line \(n): \"\(field)\"")
        if out[t] == nil { out[t] = e }
    }
    return out
}

/// Labelled vectors ({"embedding": [...], "label": …}).
public func readLabelledEmbeddings(_ path: String, field: String = "embedding", labelField: String = "label") throws -> [(vector: [Float], label: String?)] {
    try jsonLinesFile(path).map { n, v in
        let e = try floatArray(v[field], "\(path) line \(n): \"\(field)\"")
        let l: String? = try v[labelField].flatMap { x -> String? in
            if x.isNull { return nil }
            if let s = x.stringValue { return s }
            if let i = try? x.numberValue?.int() { return String(i) }
            throw LaboError("\(path) line \(n): a label must be a string or an integer")
        }
        return (e, l)
    }
}

func jsonLinesFile(_ path: String) throws -> [(line: Int, value: JSONValue)] {
    let file = path == "-" ? "/dev/stdin" : path
    guard let data = FileManager.default.contents(atPath: file) else { throw LaboError("cannot read \(path)") }
    do { return try parseJSONLines(splitLines(String(decoding: data, as: UTF8.self))) } catch let e as JSONLineError { throw LaboError("\(path): \(e.description)") }
}

func floatArray(_ v: JSONValue?, _ what: String) throws -> [Float] {
    guard let a = v?.arrayValue, !a.isEmpty else { throw LaboError("\(what) is not a non-empty array of numbers") }
    return try a.map { x in
        guard let d = try? x.numberValue?.double(), d.isFinite, Float(d).isFinite else { throw LaboError("\(what) holds \(x.kindDescription), not a finite 32-bit number") }
        return Float(d)
    }
}

/// A selected-concepts file ({class: [concepts]}, `labo select`'s output or LaBo's
/// selected_concepts/<DS>.json): classes sorted, concepts in class order with their class index. A key
/// given twice keeps its last value (json.load); a class without concepts keeps a zero row of W (a
/// uniform association), as the reference's selection skips it.
public func readSelectedConcepts(_ path: String) throws -> (classes: [String], names: [String], owner: [Int]) {
    guard let data = FileManager.default.contents(atPath: path) else { throw LaboError("cannot read \(path)") }
    let json: JSONValue
    do { json = try JSONValue(parsing: [UInt8](data)) } catch { throw LaboError("\(path): \(error)") }
    guard let o = json.objectValue else { throw LaboError("\(path): not a {class: [concepts]} object") }
    var lists: [String: [String]] = [:]
    for m in o {
        guard let list = m.value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else { throw LaboError("\(path): the concepts of '\(m.key)' are not a list of strings") }
        lists[m.key] = list.compactMap(\.stringValue)
    }
    let classes = lists.keys.sorted()
    guard classes.count >= 2 else { throw LaboError("\(path): at least 2 classes are needed") }
    var names: [String] = [], owner: [Int] = []
    for (k, c) in classes.enumerated() {
        names += lists[c]!
        owner += [Int](repeating: k, count: lists[c]!.count)
    }
    guard !names.isEmpty else { throw LaboError("\(path): no concepts") }
    return (classes, names, owner)
}
