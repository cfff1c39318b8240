// Names given on the command line as a file (one per line) or a comma-separated list (--labels).
import Foundation

/// The names in `spec`: the lines of the file it names (blank lines skipped), or else its
/// comma-separated items (whitespace trimmed, empty items dropped).
public func readNameList(_ spec: String) -> [String] {
    if FileManager.default.fileExists(atPath: spec) {
        let text = String(decoding: FileManager.default.contents(atPath: spec) ?? Data(), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
    return spec.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}
