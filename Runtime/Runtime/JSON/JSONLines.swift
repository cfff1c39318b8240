// A whole JSON Lines file in memory (training data, predictions to score): each non-blank line parsed,
// with its 1-based line number for error messages. Streams go through JSONLReader instead.
import Foundation

/// A line that is not JSON.
public struct JSONLineError: Error, CustomStringConvertible {
    public let line: Int
    public let problem: String
    public var description: String { "line \(line): \(problem)" }
}

/// The non-blank lines of `lines` (LF, CRLF or CR separated) parsed, each with its 1-based line number.
public func parseJSONLines(_ lines: [String]) throws -> [(line: Int, value: JSONValue)] {
    var out: [(line: Int, value: JSONValue)] = []
    for (i, line) in lines.enumerated() where line.contains(where: { !$0.isWhitespace }) {
        do { out.append((i + 1, try JSONValue(parsing: Array(line.utf8)))) } catch { throw JSONLineError(line: i + 1, problem: "\(error)") }
    }
    return out
}

/// The lines of a text, split at LF, CRLF or CR ("\r\n" is one Character in Swift, so a plain split at
/// "\n" would miss it).
public func splitLines(_ text: String) -> [String] {
    text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map(String.init)
}

/// A file read whole as text (UTF-8; invalid bytes replaced), or a DataError (callers name the file).
public func readTextFile(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else { throw DataError(description: "cannot read the file") }
    return String(decoding: data, as: UTF8.self)
}

/// A label given as a string, or as an integer index into `names` (without names: the integer's digits).
public func labelName(_ v: JSONValue, names: [String]?, line: Int) throws -> String {
    if let s = v.stringValue { return s }
    if let n = v.numberValue, let i = try? n.int() {
        guard let names else { return String(i) }
        guard names.indices.contains(i) else { throw DataError(description: "line \(line): label \(i) is outside the \(names.count) labels") }
        return names[i]
    }
    throw DataError(description: "line \(line): a label must be a string or an integer, got \(v.kindDescription)")
}
