// What lm-infinite does with a model: generate a completion, score a text (mean NLL and NLL by
// position bucket), and build the reference's passkey-retrieval prompts.
import Foundation
import Runtime

/// Generates up to `maxTokens` after `prompt`; stops after an end-of-sequence token (not included).
/// `onToken` sees each new token as it comes.
public func generate(_ lm: InfiniteLM, prompt: [Int], maxTokens: Int, sampler: Sampler, eos: Set<Int>,
                     onToken: (Int) -> Void = { _ in }) -> [Int] {
    lm.reset()
    guard maxTokens > 0 else { return [] }
    var logits = lm.next(prompt)
    var out: [Int] = []
    while out.count < maxTokens {
        let t = sampler.sample(logits)
        if eos.contains(t) { break }
        out.append(t)
        onToken(t)
        if out.count == maxTokens { break }
        logits = lm.next([t])
    }
    return out
}

/// log Σ exp(x) over n floats, eight lanes at a time.
func logSumExp(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity
    for j in 0..<n { m = max(m, x[j]) }
    let raw = UnsafeRawPointer(x)
    var acc = Float8(repeating: 0)
    let blocks = n / 8
    for b in 0..<blocks { acc += vexp(raw.loadUnaligned(fromByteOffset: 32 * b, as: Float8.self) - m) }
    var s = acc.sum()
    for j in (blocks * 8)..<n { s += vexp(x[j] - m) }
    return m + Foundation.log(s)
}

public struct ScoreResult: Sendable {
    /// Predicted tokens (the text's tokens after the first).
    public var tokens: Int
    /// Mean negative log-likelihood per predicted token, in nats.
    public var nll: Double
    /// Mean NLL per bucket of `bucket` positions (position of the predicted token), and the counts.
    public var buckets: [Double]
    public var bucketCounts: [Int]
}

/// Negative log-likelihood of `ids` under the model: token i+1 predicted from tokens 0...i.
public func score(_ lm: InfiniteLM, ids: [Int], bucket: Int? = nil, chunk: Int = 512) -> ScoreResult {
    lm.reset()
    let v = lm.model.config.vocabSize
    var total = 0.0, count = 0
    var sums: [Double] = [], counts: [Int] = []
    lm.feed(ids, chunk: chunk) { first, logits in
        let n = logits.shape[0]
        for r in 0..<n {
            let i = first + r
            guard i + 1 < ids.count else { continue }
            let row = logits.data + r * v
            // invariant: ids come from the tokenizer, whose ids ModelRegistry.load checked against V.
            let nll = Double(logSumExp(row, v)) - Double(row[ids[i + 1]])
            total += nll
            count += 1
            if let b = bucket {
                let k = (i + 1) / b
                while sums.count <= k { sums.append(0); counts.append(0) }
                sums[k] += nll
                counts[k] += 1
            }
        }
    }
    return ScoreResult(tokens: count, nll: count > 0 ? total / Double(count) : .nan,
                       buckets: zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan }, bucketCounts: counts)
}

/// The reference's passkey retrieval prompts (data/passkey_retrieval/create_passkey_data.py and
/// data/get_data.py of Glaciohound/LM-Infinite), word for word.
public enum Passkey {
    public static let taskPrefix = "There is an important info hidden inside a lot of irrelevant text. Find it and memorize it. I will quiz you about the important information there."
    public static let filler = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
    public static let keyTemplate = "The pass key is {KEY}. Remember it. {KEY} is the pass key."
    public static let question = " What is the pass key? The pass key is "

    public struct Sample: Sendable { public var prompt: String; public var key: Int; public var depth: Int; public var fillers: Int }

    /// `samples` prompts of about `length` tokens. Keys uniform in 1..<10^7 and the key sentence at a
    /// uniform depth among the fillers, drawn like the reference: numpy RandomState(seed: length + seed).
    /// The reference counts the instruction as `len(tokenizer(TASK_PREFIX))`, which is the number of
    /// fields of the tokenizer's output (2), not of tokens; `referenceLengths` reproduces that, the
    /// default counts tokens (the prompts then stay within `length`).
    public static func samples(length: Int, count: Int, tokenizer: Tokenizer, seed: UInt32 = 0,
                               referenceLengths: Bool = false) throws -> [Sample] {
        let prefixLen = referenceLengths ? 2 : try tokenizer.encode(taskPrefix).ids.count
        let fillerLen = try tokenizer.encode(filler).ids.count
        let keyLen = try tokenizer.encode(keyTemplate).ids.count
        let fillers = length > keyLen + prefixLen ? (length - keyLen - prefixLen) / max(fillerLen, 1) : 0
        guard fillers >= 2 else {
            throw DataError(description: "passkey length \(length) is too short: the prompt needs at least \(keyLen + prefixLen + 2 * fillerLen) tokens")
        }
        guard fillers <= Int(UInt32.max) else {  // numpy's randint draws the depth from 32 bits
            throw DataError(description: "passkey length \(length) is too long: at most \(UInt32.max) filler sentences")
        }
        var rng = NumpyRandomState(seed: UInt32(truncatingIfNeeded: length) &+ seed)
        return (0..<count).map { _ in
            let key = rng.randint(1, 10_000_000)
            let depth = rng.randint(0, fillers)
            let keySentence = keyTemplate.replacingOccurrences(of: "{KEY}", with: String(key))
            let parts = [taskPrefix] + Array(repeating: filler, count: depth) + [keySentence]
                + Array(repeating: filler, count: fillers - depth)
            return Sample(prompt: parts.joined(separator: " ") + question, key: key, depth: depth, fillers: fillers)
        }
    }

    /// The reference's check: the first integer in the generated text equals the key (0 if none).
    public static func isCorrect(_ generated: String, key: Int) -> Bool {
        var digits = ""
        for ch in generated {
            if ch.isASCII && ch.isNumber { digits.append(ch) } else if !digits.isEmpty { break }
        }
        return (Int(digits) ?? 0) == key
    }
}
