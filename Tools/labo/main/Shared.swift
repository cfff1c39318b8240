// What the subcommands share: labelled feature files, the selected-concepts file, clean exits.
import ArgumentParser
import Foundation
import LaboCore
import Runtime
import RuntimeCLI

extension SelectionMethod: ExpressibleByArgument {}
extension CoverageMode: ExpressibleByArgument {}
extension ScoreTransform: ExpressibleByArgument {}

func orExit<T>(_ path: String, _ body: () throws -> T) -> T {
    do { return try body() } catch { fatalLoad(program: "labo", path: path, problem: "\(error)") }
}

/// Image features and class indices of a labelled file (every label one of `classes`).
func labelledFeatures(_ path: String, classes: [String], field: String) throws -> (features: [[Float]], labels: [String], targets: [Int]) {
    let rows = try readLabelledEmbeddings(path, field: field)
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    var targets: [Int] = []
    for (i, r) in rows.enumerated() {
        guard let l = r.label else { throw LaboError("\(path) line \(i + 1): no label") }
        guard let k = index[l] else { throw LaboError("\(path) line \(i + 1): label '\(l)' is not one of the \(classes.count) classes") }
        targets.append(k)
    }
    if let d = rows.first?.vector.count, let bad = rows.firstIndex(where: { $0.vector.count != d }) {
        throw LaboError("\(path) line \(bad + 1): \(rows[bad].vector.count) numbers, line 1 has \(d)")
    }
    return (rows.map(\.vector), rows.map { $0.label! }, targets)
}

/// Concept vectors by name; every name must have one, all of one width.
func conceptVectors(_ names: [String], from path: String) throws -> [[Float]] {
    let table = try readTextEmbeddings(path)
    let missing = names.filter { table[$0] == nil }
    guard missing.isEmpty else {
        throw LaboError("\(path) has no embedding for \(missing.count) of the \(names.count) concepts (first: \"\(missing[0])\"); embed every concept text")
    }
    let v = names.map { table[$0]! }
    if let d = v.first?.count, v.contains(where: { $0.count != d }) { throw LaboError("\(path): concept embeddings of different widths") }
    return v
}

func writeLine(_ value: JSONValue) {
    var w = JSONWriter()
    w.write(value)
    FileHandle.standardOutput.write(Data(w.bytes + [0x0A]))
}

/// FNV-1a over strings and float bit patterns: a digest of the inputs a resumed run must share.
struct FNV1a {
    private var h: UInt64 = 0xcbf2_9ce4_8422_2325
    private mutating func byte(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    mutating func add(_ s: String) { for b in s.utf8 { byte(b) }; byte(0) }
    mutating func add(_ v: [Float]) { for x in v { var bits = x.bitPattern; for _ in 0..<4 { byte(UInt8(bits & 0xFF)); bits >>= 8 } } }
    var hex: String { String(h, radix: 16) }
}
