// Multivariate time series as llmfew reads them: one JSON Lines record per series,
// {"series": [[channel 0 values], [channel 1 values], …], "label": …}, channels first as in the
// reference's npy files (x: N × M × L). Series may differ in length (JapaneseVowels); all channels of
// one series have the same length. Labels are strings (an integer label is read as its decimal text).
import Foundation
import Runtime

public struct LLMFewError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public struct Series: Sendable, Equatable {
    /// [M][L]: channel-major values.
    public var channels: [[Float]]
    public var label: String?
    public init(channels: [[Float]], label: String?) { (self.channels, self.label) = (channels, label) }
    public var dimensions: Int { channels.count }
    public var length: Int { channels.first?.count ?? 0 }

    /// The record form, {"series": [[…], …], "label": …}.
    public var json: JSONValue {
        var o: JSONObject = ["series": .array(channels.map { .array($0.map { JSONNumber($0).map(JSONValue.number) ?? .null }) })]
        if let label { o["label"] = .string(label) }
        return .object(o)
    }
}

/// The channels of a `series` value: an array of M arrays of L finite numbers (a flat array of numbers
/// is one channel).
public func seriesChannels(_ v: JSONValue) throws -> [[Float]] {
    guard let outer = v.arrayValue, !outer.isEmpty else { throw LLMFewError("\"series\" must be a non-empty array of channels") }
    func numbers(_ a: [JSONValue], _ c: Int) throws -> [Float] {
        try a.enumerated().map { i, x in
            guard let n = x.numberValue, let d = try? n.double(), d.isFinite, abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                throw LLMFewError("channel \(c), step \(i): \(x.kindDescription) is not a finite number (missing values are not supported)")
            }
            return Float(d)
        }
    }
    let channels: [[Float]]
    if outer.allSatisfy({ $0.numberValue != nil }) {
        channels = [try numbers(outer, 0)]
    } else {
        channels = try outer.enumerated().map { c, ch in
            guard let a = ch.arrayValue else { throw LLMFewError("channel \(c) is \(ch.kindDescription), not an array of numbers") }
            return try numbers(a, c)
        }
    }
    let l = channels[0].count
    guard l > 0 else { throw LLMFewError("the series is empty") }
    if let bad = channels.firstIndex(where: { $0.count != l }) {
        throw LLMFewError("channel \(bad) has \(channels[bad].count) steps, channel 0 has \(l): channels of a series must have one length")
    }
    return channels
}

/// A label value: a string, or a number written as its shortest text ("3", "1.5").
public func labelText(_ v: JSONValue) throws -> String {
    if let s = v.stringValue { return s }
    if let n = v.numberValue {
        if let i = try? n.int() { return String(i) }
        if let d = try? n.double() { return String(d) }
    }
    throw LLMFewError("a label must be a string or a number, got \(v.kindDescription)")
}

/// Series records of a JSON Lines file ('-' or /dev/stdin for standard input).
public func readSeriesFile(_ path: String, seriesField: String = "series", labelField: String = "label") throws -> [Series] {
    let file = path == "-" ? "/dev/stdin" : path
    guard let data = FileManager.default.contents(atPath: file) else { throw LLMFewError("cannot read \(path)") }
    let lines = splitLines(String(decoding: data, as: UTF8.self))
    let parsed: [(line: Int, value: JSONValue)]
    do { parsed = try parseJSONLines(lines) } catch let e as JSONLineError { throw LLMFewError("\(path): \(e.description)") }
    return try parsed.map { n, v in
        guard let s = v[seriesField] else { throw LLMFewError("\(path) line \(n): no \"\(seriesField)\" field") }
        do {
            return Series(channels: try seriesChannels(s), label: try v[labelField].flatMap { $0.isNull ? nil : try labelText($0) })
        } catch let e as LLMFewError { throw LLMFewError("\(path) line \(n): \(e.description)") }
    }
}

/// Class names in the reference's order: np.unique of the label texts (sorted as strings, so "10"
/// comes before "2", as the reference's StringToLabel orders them).
public func sortedClasses(_ labels: [String]) -> [String] { Array(Set(labels)).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) } }
