// The label space and its metric: N named classes and the distance d(a, b) between any two.
//
// Three kinds, one protocol: a graph (edge list; shortest paths), an explicit distance matrix, and
// class embeddings (Euclidean or cosine distance). Loki needs, for the K observed classes λ_i, the
// squared distances to every class, D² [K, N] (`squaredDistanceRows`); evaluation needs single
// distances between any two classes (`distance`). Files are read by MetricFiles.swift.
import Foundation
import Runtime
import RuntimeCLI

public protocol LabelMetric: AnyObject {
    /// The label space: N class names, in the metric's order.
    var classes: [String] { get }
    /// d(class i, class j) for every j (N plain distances, not squared).
    func distanceRow(_ i: Int) -> [Float]
    /// d(class i, class j).
    func distance(_ i: Int, _ j: Int) -> Float
    /// d²(class rows[k], class j) as a [K, N] tensor.
    func squaredDistanceRows(_ rows: [Int]) -> Tensor
}

extension LabelMetric {
    /// Rows one by one on the runtime's threads (each row is independent).
    public func squaredDistanceRowsByRow(_ rows: [Int]) -> Tensor {
        let n = classes.count
        let out = Tensor(uninitializedShape: [rows.count, n])
        let base = out.data
        parallelFor(rows.count, grain: 1) { range in
            for k in range {
                let row = distanceRow(rows[k])
                for j in 0..<n { base[k * n + j] = row[j] * row[j] }
            }
        }
        return out
    }

    /// Index of every class name.
    public func classIndex() -> [String: Int] {
        var index: [String: Int] = [:]
        index.reserveCapacity(classes.count)
        for (i, c) in classes.enumerated() { index[c] = i }
        return index
    }
}

/// How an embedding metric measures distance: ‖a − b‖ (the paper's self-derived metric, as the
/// reference computes it for CLIP and SimCSE label embeddings) or 1 − cos(a, b).
public enum EmbeddingDistance: String, CaseIterable, Sendable {
    case euclidean, cosine
}

/// Which nodes of a graph are classes when no class list is given: the leaves (degree-1 nodes), as
/// the reference takes them from its trees, or every node.
public enum ClassNodes: String, CaseIterable, Sendable {
    case leaves, all
}

/// The file formats a metric can come in (auto: decided from the content, see MetricFiles.swift).
public enum MetricFormat: String, CaseIterable, Sendable {
    case auto, edges, matrix, embeddings
}

/// Everything that decides a metric: the file and how to read it. `canonical` is what the distance
/// cache keys on.
public struct MetricSpec: Sendable {
    public var path: String
    public var format: MetricFormat = .auto
    /// A file listing the classes (one per line): the label space and its order.
    public var classesPath: String?
    /// The class list already read from `classesPath` (so a pipe is read once).
    public var classList: [String]?
    public var classNodes: ClassNodes = .leaves
    public var distance: EmbeddingDistance = .euclidean
    /// A distance matrix holds squared distances already (as the reference's CLIP experiment saves them).
    public var squaredMatrix = false
    /// The member naming the class in JSONL metric files (nil: the first of class, label, name, text).
    public var classField: String?
    public var embeddingField = "embedding"

    public init(path: String) { self.path = path }

    public var canonical: String {
        "format=\(format.rawValue);nodes=\(classNodes.rawValue);distance=\(distance.rawValue);squared=\(squaredMatrix);"
            + "classField=\(classField ?? "");embeddingField=\(embeddingField)"
    }
}

/// A file of class names, one per line (a line that starts with `"` is read as a JSON string, so any
/// name can be written); blank lines are skipped. Duplicates are an error.
public func readClassList(_ path: String) throws -> [String] {
    let reader = JSONLReader(inputs: [path])
    var names: [String] = [], seen = Set<String>()
    do {
        try reader.prepare()
        while let line = try reader.next() {
            var name = String(decoding: line.bytes, as: UTF8.self)
            if line.bytes.first == UInt8(ascii: "\"") {
                guard let s = (try? JSONValue(parsing: line.bytes))?.stringValue else {
                    throw LoadError(path: path, problem: "line \(line.number): not a JSON string", hint: "write one class name per line")
                }
                name = s
            }
            guard seen.insert(name).inserted else {
                throw LoadError(path: path, problem: "line \(line.number): class '\(name)' is listed twice")
            }
            names.append(name)
        }
    } catch let e as InputError {
        throw LoadError(path: path, problem: e.problem)
    }
    guard !names.isEmpty else { throw LoadError(path: path, problem: "no class names", hint: "write one class name per line") }
    return names
}

/// Positions of `names` among the metric's classes; an unknown name is a LoadError naming `path`.
public func classPositions(_ names: [String], in metricClasses: [String], path: String, what: String) throws -> [Int] {
    var index: [String: Int] = [:]
    for (i, c) in metricClasses.enumerated() { index[c] = i }
    return try names.map { name in
        guard let i = index[name] else {
            throw LoadError(path: path, problem: "\(what) '\(name)' is not a class of the metric",
                            hint: "class names must match the metric file's exactly (\(metricClasses.count) classes, e.g. '\(metricClasses.first ?? "")')")
        }
        return i
    }
}

/// Integers and other JSON numbers name classes by their text ("3"), strings by themselves.
public func className(of value: JSONValue) -> String? {
    switch value {
    case .string(let s): return s
    case .number(let n): return n.text
    default: return nil
    }
}
