// What `llmfew convert` reads: the reference's npy pairs (x: N × M × L floats, y: N labels, strings
// or numbers) and the UEA/aeon .ts text format (a header of @-lines, then one series per line,
// channels separated by ':', values by ',', the class label last). Missing values ('?' or NaN) are
// refused: the reference has no way to use them. .ts files with time stamps are refused too.
import Foundation
import Runtime

/// Series from an x/y pair of .npy files. Zero padding (the TSLib convention for unequal lengths) is
/// kept as it is in the file; `trimTrailingZeros` drops steps at the end that are zero in every channel.
public func readNPYPair(x xPath: String, y yPath: String?, trimTrailingZeros: Bool = false) throws -> [Series] {
    let x = try NPYArray(contentsOf: xPath)
    guard x.shape.count == 3 || x.shape.count == 2 else {
        throw LLMFewError("\(xPath): shape \(x.shape); series arrays are N × M × L (or N × L for one channel)")
    }
    guard case .numbers(let values) = x.values else { throw LLMFewError("\(xPath): dtype \(x.descr) is not numeric") }
    let n = x.shape[0], m = x.shape.count == 3 ? x.shape[1] : 1, l = x.shape.last!
    guard n > 0, m > 0, l > 0 else { throw LLMFewError("\(xPath): an empty array (shape \(x.shape))") }
    var labels: [String]? = nil
    if let yPath {
        let y = try NPYArray(contentsOf: yPath)
        guard y.count == n else { throw LLMFewError("\(yPath): \(y.count) labels for \(n) series in \(xPath)") }
        switch y.values {
        case .strings(let s): labels = s
        case .numbers(let d): labels = d.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int($0)) : String($0) }
        }
    }
    return try (0..<n).map { i in
        var channels = (0..<m).map { c in values[(i * m + c) * l..<(i * m + c + 1) * l].map { Float($0) } }
        if let bad = channels.joined().firstIndex(where: { !$0.isFinite }) {
            throw LLMFewError("\(xPath): series \(i) has a missing or non-finite value at flat position \(bad)")
        }
        if trimTrailingZeros {
            var end = l
            while end > 1 && channels.allSatisfy({ $0[end - 1] == 0 }) { end -= 1 }
            channels = channels.map { Array($0.prefix(end)) }
        }
        return Series(channels: channels, label: labels?[i])
    }
}

/// Series of a UEA/aeon .ts file.
public func readTSFile(_ path: String) throws -> [Series] {
    guard let data = FileManager.default.contents(atPath: path) else { throw LLMFewError("cannot read \(path)") }
    let text = String(decoding: data, as: UTF8.self)
    var inData = false, hasLabels = true, dimensions: Int? = nil
    var out: [Series] = []
    for (i, raw) in splitLines(text).enumerated() {
        let line = raw.trimmingCharacters(in: .whitespaces)
        let n = i + 1
        if line.isEmpty || line.hasPrefix("#") { continue }
        if !inData {
            let lower = line.lowercased()
            if lower.hasPrefix("@timestamps") && lower.hasSuffix("true") {
                throw LLMFewError("\(path) line \(n): time-stamped .ts files are not read (export the series without time stamps)")
            }
            if lower.hasPrefix("@classlabel") { hasLabels = lower.split(separator: " ").dropFirst().first == "true" }
            if lower.hasPrefix("@dimensions") { dimensions = lower.split(separator: " ").last.flatMap { Int($0) } }
            if lower == "@data" { inData = true }
            continue
        }
        var parts = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let label = hasLabels ? parts.removeLast().trimmingCharacters(in: .whitespaces) : nil
        guard !parts.isEmpty else { throw LLMFewError("\(path) line \(n): no values") }
        if let d = dimensions, parts.count != d {
            throw LLMFewError("\(path) line \(n): \(parts.count) channels, the header says @dimensions \(d)")
        }
        let channels = try parts.enumerated().map { c, part -> [Float] in
            try part.split(separator: ",").enumerated().map { j, s in
                let t = s.trimmingCharacters(in: .whitespaces)
                guard let v = Float(t), v.isFinite else {
                    throw LLMFewError("\(path) line \(n): channel \(c) step \(j): '\(t)' is not a finite number (missing values are not supported)")
                }
                return v
            }
        }
        let l = channels[0].count
        guard l > 0, channels.allSatisfy({ $0.count == l }) else {
            throw LLMFewError("\(path) line \(n): channels of unequal or zero length (\(channels.map(\.count)))")
        }
        out.append(Series(channels: channels, label: label))
    }
    guard inData else { throw LLMFewError("\(path): no @data line: not a .ts file") }
    return out
}
