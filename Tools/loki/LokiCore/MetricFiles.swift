// Reading metric files. Formats (found from the content unless --metric-format says):
//
//   edges, TSV     `a<TAB>b[<TAB>weight]` per line (or whitespace-separated when a line has no tab);
//                  `#` starts a comment line. The reference's tree files (`parent child`) are this.
//   edges, JSONL   {"source": "a", "target": "b", "weight": 2.5}   (weight optional)
//   matrix, TSV    a header of N class names, then N rows of N distances, each optionally led by
//                  its class name (`name<TAB>0<TAB>1.5...`)
//   matrix, JSONL  {"class": "a", "distances": [0, 1.5, ...]} per class, in column order
//   embeddings     {"class": "a", "embedding": [...]} per class, as `embed` writes it (the name
//                  member is the first of class, label, name, text unless --class-field says)
//
// A text file is a matrix when it has exactly one row of numbers per header name; otherwise edges.
import Foundation
import Runtime
import RuntimeCLI

public enum MetricFiles {
    /// Loads the metric `spec` describes; every problem is a LoadError naming the file.
    public static func load(_ spec: MetricSpec) throws -> LabelMetric {
        let lines = try readLines(spec.path)
        guard let first = lines.first else { throw LoadError(path: spec.path, problem: "the file is empty") }
        var format = spec.format
        if format == .auto {
            if first.bytes.first == UInt8(ascii: "{") {
                let r = try record(first, spec.path)
                if r.has(spec.embeddingField) { format = .embeddings }
                else if r.has("distances") { format = .matrix }
                else if r.has("source") && r.has("target") { format = .edges }
                else {
                    throw LoadError(path: spec.path, problem: "line \(first.number): a JSONL metric needs '\(spec.embeddingField)', 'distances', or 'source' and 'target'",
                                    hint: "see `loki predict --help` for the metric formats")
                }
            } else {
                format = looksLikeMatrix(lines) ? .matrix : .edges
            }
        }
        let isJSON = first.bytes.first == UInt8(ascii: "{")
        let metric: LabelMetric
        switch format {
        case .edges: metric = try graph(spec, lines, json: isJSON)
        case .matrix: metric = try matrix(spec, lines, json: isJSON)
        case .embeddings: metric = try embeddings(spec, lines)
        case .auto: preconditionFailure()  // invariant: .auto was resolved above
        }
        guard metric.classes.count >= 1 else { throw LoadError(path: spec.path, problem: "the metric has no classes") }
        return metric
    }

    struct Line {
        var bytes: [UInt8]
        var number: Int
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    static func readLines(_ path: String) throws -> [Line] {
        let reader = JSONLReader(inputs: [path])
        var lines: [Line] = []
        do {
            try reader.prepare()
            while let l = try reader.next() {
                if l.bytes.first == UInt8(ascii: "#") { continue }
                lines.append(Line(bytes: l.bytes, number: l.number))
            }
        } catch let e as InputError {
            throw LoadError(path: path, problem: e.problem, hint: "--metric names a tree/graph edge list, a distance matrix or class embeddings")
        }
        return lines
    }

    static func record(_ line: Line, _ path: String) throws -> Record {
        do { return try Record(parsing: line.bytes) } catch {
            throw LoadError(path: path, problem: "line \(line.number): \(error)")
        }
    }

    static func fields(_ text: String) -> [String] {
        if text.contains("\t") { return text.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        return text.split(whereSeparator: { $0 == " " }).map(String.init)
    }

    static func looksLikeMatrix(_ lines: [Line]) -> Bool {
        var header = fields(lines[0].text)
        if header.first == "" { header.removeFirst() }
        let n = header.count
        guard n >= 2, lines.count == n + 1 else { return false }
        for l in lines.dropFirst() {
            let f = fields(l.text)
            guard f.count == n || f.count == n + 1 else { return false }
            if !f.suffix(n).allSatisfy({ Float($0) != nil }) { return false }
        }
        return true
    }

    static func graph(_ spec: MetricSpec, _ lines: [Line], json: Bool) throws -> LabelMetric {
        var index: [String: Int] = [:], names: [String] = []
        func node(_ name: String) -> Int {
            if let i = index[name] { return i }
            index[name] = names.count
            names.append(name)
            return names.count - 1
        }
        var edges: [(Int, Int, Float)] = []
        var weighted = false
        for l in lines {
            let a: String, b: String
            var w: Float? = nil
            if json {
                let r = try record(l, spec.path)
                guard let s = r.value("source").flatMap(className), let t = r.value("target").flatMap(className) else {
                    throw LoadError(path: spec.path, problem: "line \(l.number): an edge needs 'source' and 'target' (strings or numbers)")
                }
                (a, b) = (s, t)
                if r.has("weight") { w = try? r.float("weight"); if w == nil { throw LoadError(path: spec.path, problem: "line \(l.number): 'weight' is not a number") } }
            } else {
                let f = fields(l.text)
                guard f.count == 2 || f.count == 3, !f[0].isEmpty, !f[1].isEmpty else {
                    throw LoadError(path: spec.path, problem: "line \(l.number): expected 'a<TAB>b' or 'a<TAB>b<TAB>weight', got \(f.count) fields",
                                    hint: "an edge list has two node names (and an optional weight) per line; use --metric-format matrix for a distance matrix")
                }
                (a, b) = (f[0], f[1])
                if f.count == 3 {
                    guard let v = Float(f[2]) else { throw LoadError(path: spec.path, problem: "line \(l.number): weight '\(f[2])' is not a number") }
                    w = v
                }
            }
            if let w {
                guard w.isFinite && w > 0 else { throw LoadError(path: spec.path, problem: "line \(l.number): edge weight \(w) must be positive") }
                weighted = true
            }
            edges.append((node(a), node(b), w ?? 1))
        }
        let classNodes: [Int]
        if let cp = spec.classesPath {
            classNodes = try classPositions(try spec.classList ?? readClassList(cp), in: names, path: cp, what: "class")
        } else {
            classNodes = spec.classNodes == .all ? Array(0..<names.count) : GraphMetric.leaves(nodeCount: names.count, edges: edges)
        }
        let g = GraphMetric(nodeNames: names, edges: edges, weighted: weighted, classNodes: classNodes)
        if let (a, b) = g.disconnectedPair() {
            throw LoadError(path: spec.path, problem: "class '\(b)' cannot be reached from class '\(a)'", hint: "the label graph must be connected")
        }
        return g
    }

    static func classField(_ spec: MetricSpec, _ r: Record, _ l: Line) throws -> String {
        let candidates = spec.classField.map { [$0] } ?? ["class", "label", "name", "text"]
        for f in candidates {
            if let v = r.value(f), let name = className(of: v) { return name }
        }
        throw LoadError(path: spec.path, problem: "line \(l.number): no class name (member \(candidates.map { "'\($0)'" }.joined(separator: " or ")))",
                        hint: "--class-field names the member holding the class")
    }

    static func matrix(_ spec: MetricSpec, _ lines: [Line], json: Bool) throws -> LabelMetric {
        var names: [String] = [], values: [Float] = []
        if json {
            for l in lines {
                let r = try record(l, spec.path)
                names.append(try classField(spec, r, l))
                do { values += try r.floats("distances") } catch let e as RecordError {
                    throw LoadError(path: spec.path, problem: "line \(l.number): \(e.message)")
                }
                if values.count != names.count * lines.count {
                    throw LoadError(path: spec.path, problem: "line \(l.number): \(values.count - (names.count - 1) * lines.count) distances for \(lines.count) classes")
                }
            }
        } else {
            names = fields(lines[0].text)
            if names.first == "" { names.removeFirst() }
            let n = names.count
            guard lines.count == n + 1 else {
                throw LoadError(path: spec.path, problem: "\(n) classes in the header but \(lines.count - 1) rows", hint: "a distance matrix has one row per class")
            }
            for (i, l) in lines.dropFirst().enumerated() {
                var f = fields(l.text)
                if f.count == n + 1 {
                    guard f[0] == names[i] else { throw LoadError(path: spec.path, problem: "line \(l.number): row '\(f[0])' where the header has '\(names[i])'") }
                    f.removeFirst()
                }
                guard f.count == n else { throw LoadError(path: spec.path, problem: "line \(l.number): \(f.count) values for \(n) classes") }
                for x in f {
                    guard let v = Float(x) else { throw LoadError(path: spec.path, problem: "line \(l.number): '\(x)' is not a number") }
                    values.append(v)
                }
            }
        }
        if Set(names).count != names.count { throw LoadError(path: spec.path, problem: "a class name appears twice") }
        var m = MatrixMetric(classes: names, values: values, squared: spec.squaredMatrix)
        if let cp = spec.classesPath {
            let keep = try classPositions(try spec.classList ?? readClassList(cp), in: names, path: cp, what: "class")
            let n = names.count
            m = MatrixMetric(classes: keep.map { names[$0] }, values: keep.flatMap { i in keep.map { values[i * n + $0] } },
                             squared: spec.squaredMatrix)
        }
        if let problem = m.metricViolation() { throw LoadError(path: spec.path, problem: problem, hint: "a distance matrix must be a metric") }
        return m
    }

    static func embeddings(_ spec: MetricSpec, _ lines: [Line]) throws -> LabelMetric {
        var names: [String] = [], data: [Float] = []
        var dim = -1
        for l in lines {
            let r = try record(l, spec.path)
            names.append(try classField(spec, r, l))
            let v: [Float]
            do { v = try r.floats(spec.embeddingField) } catch let e as RecordError {
                throw LoadError(path: spec.path, problem: "line \(l.number): \(e.message)")
            }
            if dim < 0 { dim = v.count }
            guard v.count == dim, dim > 0 else {
                throw LoadError(path: spec.path, problem: "line \(l.number): embedding of \(v.count) numbers, the first had \(dim)")
            }
            data += v
        }
        var seen = Set<String>()
        for n in names where !seen.insert(n).inserted { throw LoadError(path: spec.path, problem: "class '\(n)' appears twice") }
        var e = Tensor(shape: [names.count, dim], scalars: data)
        if let cp = spec.classesPath {
            let keep = try classPositions(try spec.classList ?? readClassList(cp), in: names, path: cp, what: "class")
            e = e.indexSelect(axis: 0, keep)
            names = keep.map { names[$0] }
        }
        return EmbeddingMetric(classes: names, embeddings: e, kind: spec.distance)
    }
}
