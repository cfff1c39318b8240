// Examples for prompt-based fine-tuning: single-text classification ({"text", "label"}) and multiple
// choice ({"context", "options", "label"}, or SuperGLUE COPA's own fields, turned into MeZO's COPA
// template), read from JSONL and sampled with a seed as ZO-Bench samples its 1,000 / 500 examples.
import Foundation
import Runtime

public struct Example: Sendable {
    public var text: String
    /// Multiple choice: the options that complete `text`; empty for single-text classification.
    public var options: [String] = []
    public var label: Int
}

/// Reads every example of a JSONL file. COPA records ({"premise", "choice1", "choice2", "question",
/// "label"}) become MeZO's template: the premise without its final period, " so " (effect) or
/// " because " (cause), then each choice with a lowercase first letter.
public func loadExamples(_ path: String, textField: String = "text", labelField: String = "label") throws -> [Example] {
    guard let data = FileManager.default.contents(atPath: path) else { throw DataError(description: "\(path): cannot read") }
    var out: [Example] = []
    for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) {
        do {
            let r = try Record(parsing: Array(line))
            let label = try r.int(labelField)
            if r.has("premise") {
                let premise = try r.string("premise").trimmingCharacters(in: .whitespaces)
                let conj = try r.string("question") == "effect" ? " so " : " because "
                let stem = premise.hasSuffix(".") ? String(premise.dropLast()) : premise
                let options = try ["choice1", "choice2"].map { key -> String in
                    let c = try r.string(key)
                    return c.prefix(1).lowercased() + c.dropFirst()
                }
                out.append(Example(text: stem + conj, options: options, label: label))
            } else if r.has("options") {
                let options = try r.strings("options")
                guard label >= 0 && label < options.count else { throw RecordError("label \(label) is not an option index") }
                out.append(Example(text: try r.string("context"), options: options, label: label))
            } else {
                out.append(Example(text: try r.string(textField), label: label))
            }
        } catch {
            throw DataError(description: "\(path):\(n + 1): \(error)")
        }
    }
    return out
}

/// `count` examples drawn without replacement with the seed (all of them, shuffled, if fewer).
public func sample(_ examples: [Example], count: Int?, seed: UInt64, stream: UInt64) -> [Example] {
    let order = RandomGenerator(seed: seed, stream: stream).permutation(examples.count)
    return order.prefix(count ?? examples.count).map { examples[$0] }
}

/// Batches of the training set for each step: a fresh permutation per epoch, from the seed.
public struct BatchSampler {
    let count: Int, batch: Int, seed: UInt64
    public init(count: Int, batch: Int, seed: UInt64) {
        (self.count, self.batch, self.seed) = (count, batch, seed)
    }

    /// Indices of the examples of step `step` (0-based).
    public func indices(step: Int) -> [Int] {
        let perEpoch = max(1, count / batch)
        let epoch = step / perEpoch, k = step % perEpoch
        let order = RandomGenerator(seed: seed, stream: 0xB000 + UInt64(epoch)).permutation(count)
        return Array(order[(k * batch)..<min(count, (k + 1) * batch)])
    }
}
