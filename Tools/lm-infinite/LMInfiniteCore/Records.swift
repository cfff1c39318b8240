// The JSONL loops of lm-infinite's subcommands (generate, score), the passkey and perplexity
// experiments, and loading a model with its tokenizer.
import Foundation
import Runtime
import RuntimeCLI

/// A model (directory or GGUF file) and its tokenizer: a LLaMA-family decoder, whose attention
/// LM-Infinite replaces. `keepQuantized`: a GGUF file's weights stay in their block formats (quantized
/// products; false expands them to float32).
public func loadModel(_ path: String, keepQuantized: Bool = false) throws -> (LLaMAModel, Tokenizer) {
    let loaded = try ModelRegistry.load(path: path, options: BackboneOptions(keepQuantized: keepQuantized))
    guard let model = loaded.backbone as? LLaMAModel else {
        let d = loaded.backbone.descriptor
        throw CheckpointError(path, "a \(d.modelType) \(d.kind.rawValue); lm-infinite needs a decoder of the LLaMA family "
                              + "(\(ModelRegistry.ggufArchitectures.joined(separator: ", ")))")
    }
    return (model, loaded.tokenizer)
}

/// End-of-sequence ids: the config's and the tokenizer's.
public func endOfSequence(_ model: LLaMAModel, _ tokenizer: Tokenizer) -> Set<Int> {
    Set(model.config.eosTokenIds + [tokenizer.eosId].compactMap { $0 })
}

public func generateRecords(_ runner: JSONLRunner, lm: InfiniteLM, tokenizer: Tokenizer, field: String,
                            maxTokens: Int, sampler: Sampler, stream: Bool) -> Int32 {
    let eos = endOfSequence(lm.model, tokenizer)
    return runner.forEach(batchSize: 1) { r in
        let prompt = try r.string(field)
        let ids = try tokenizer.encode(prompt).ids
        guard !ids.isEmpty else { throw RecordError("field '\(field)': the prompt has no tokens") }
        var shown: [Int] = [], printed = ""
        let out = generate(lm, prompt: ids, maxTokens: maxTokens, sampler: sampler, eos: eos) { t in
            guard stream else { return }
            shown.append(t)
            let text = tokenizer.decode(shown)
            if text.hasPrefix(printed) { FileHandle.standardError.write(Data(text.dropFirst(printed.count).utf8)) }
            printed = text
        }
        if stream { FileHandle.standardError.write(Data("\n".utf8)) }
        r.set("completion", string: tokenizer.decode(out))
        r.set("completion_ids", ints: out)
    }
}

public func scoreRecords(_ runner: JSONLRunner, lm: InfiniteLM, tokenizer: Tokenizer, field: String,
                         bucket: Int?, chunk: Int) -> Int32 {
    runner.forEach(batchSize: 1) { r in
        let ids = try tokenizer.encode(try r.string(field)).ids
        guard ids.count >= 2 else { throw RecordError("field '\(field)': fewer than 2 tokens, nothing to predict") }
        let s = score(lm, ids: ids, bucket: bucket, chunk: chunk)
        r.set("tokens", int: ids.count)
        try r.set("nll", double: s.nll)
        if bucket != nil { r.set("nll_by_position", .array(s.buckets.map { .number(JSONNumber($0) ?? JSONNumber(0)) })) }
    }
}

/// One row per (length, mode): passkey accuracy over `samples` prompts; `onRow` sees each row as soon
/// as it is done.
public func passkeyRows(model: LLaMAModel, tokenizer: Tokenizer, lengths: [Int], modes: [AttentionMode],
                        options: InfiniteOptions, samples: Int, seed: UInt32, referenceLengths: Bool, chunk: Int,
                        progress: (String) -> Void, onRow: (JSONValue) -> Void = { _ in }) throws -> [JSONValue] {
    var rows: [JSONValue] = []
    for length in lengths {
        let set = try Passkey.samples(length: length, count: samples, tokenizer: tokenizer, seed: seed, referenceLengths: referenceLengths)
        for mode in modes {
            var o = options
            o.mode = mode
            let lm = InfiniteLM(model: model, options: o)
            var correct = 0, tokens = 0
            let start = Date()
            for (i, s) in set.enumerated() {
                let ids = try tokenizer.encode(s.prompt).ids
                tokens += ids.count
                // Greedy, 7 new tokens (the reference's generation length for passkeys).
                let out = generate(lm, prompt: ids, maxTokens: 7, sampler: Sampler(), eos: [])
                if Passkey.isCorrect(tokenizer.decode(out), key: s.key) { correct += 1 }
                progress("passkey length \(length) \(mode.rawValue): \(i + 1)/\(set.count), \(correct) correct")
            }
            // invariant (the `!`s): accuracy and mean tokens are ratios of counts, seconds a duration: all finite.
            let row: JSONValue = .object(["length": .number(JSONNumber(length)), "mode": .string(mode.rawValue),
                                          "samples": .number(JSONNumber(set.count)), "correct": .number(JSONNumber(correct)),
                                          "accuracy": .number(JSONNumber(Double(correct) / Double(max(set.count, 1)))!),
                                          "mean_tokens": .number(JSONNumber(Double(tokens) / Double(max(set.count, 1)))!),
                                          "seconds": .number(JSONNumber((Date().timeIntervalSince(start) * 10).rounded() / 10)!)])
            rows.append(row)
            onRow(row)
        }
    }
    return rows
}

/// NLL by position bucket over `documents` consecutive stretches of `maxLength` tokens of `text`
/// (averaging over several stretches separates the effect of position from that of the text), for
/// each mode, and optionally for lambda without global tokens (the G = 0 ablation).
public func perplexityCurves(model: LLaMAModel, tokenizer: Tokenizer, text: String, maxLength: Int, bucket: Int,
                             documents: Int = 1, modes: [AttentionMode], withoutGlobals: Bool = false,
                             options: InfiniteOptions, chunk: Int,
                             progress: (String) -> Void) throws -> [(mode: String, result: ScoreResult)] {
    let all = try tokenizer.encode(text).ids
    guard all.count >= documents * maxLength || (documents == 1 && all.count >= 2) else {
        throw RecordError("the text has \(all.count) tokens, fewer than \(documents) × \(maxLength)")
    }
    let docs = (0..<documents).map { d in Array(all[(d * maxLength)..<min(all.count, (d + 1) * maxLength)]) }
    var runs: [(String, InfiniteOptions)] = modes.map { mode in
        var o = options
        o.mode = mode
        return (mode.rawValue, o)
    }
    if withoutGlobals {
        var o = options
        o.mode = .lambda
        o.globals = 0
        runs.append(("lambda, G=0", o))
    }
    return runs.map { name, o in
        let lm = InfiniteLM(model: model, options: o)
        var total = 0.0, count = 0, sums: [Double] = [], counts: [Int] = []
        for (d, ids) in docs.enumerated() {
            progress("perplexity: \(name), stretch \(d + 1)/\(docs.count) of \(ids.count) tokens")
            let r = score(lm, ids: ids, bucket: bucket, chunk: chunk)
            total += r.nll * Double(r.tokens)
            count += r.tokens
            for (k, c) in r.bucketCounts.enumerated() {
                while sums.count <= k { sums.append(0); counts.append(0) }
                sums[k] += r.buckets[k] * Double(c)
                counts[k] += c
            }
        }
        let merged = ScoreResult(tokens: count, nll: total / Double(max(count, 1)),
                                 buckets: zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan }, bucketCounts: counts)
        return (name, merged)
    }
}

/// The curves as a PNG line plot (NLL against position, one line per mode).
/// One mode's NLL by position bucket: bucket centres, mean NLL and token count per bucket.
public struct NLLCurve {
    public var mode: String
    public var points: [(x: Double, nll: Double, count: Int)]
    public init(mode: String, points: [(x: Double, nll: Double, count: Int)]) {
        self.mode = mode
        self.points = points
    }
    /// The count-weighted mean NLL over the whole curve.
    public var mean: Double {
        let n = points.reduce(0.0) { $0 + Double($1.count) }  // in Double: counts read from a file cannot overflow it
        return n == 0 ? .nan : points.reduce(0.0) { $0 + $1.nll * Double($1.count) } / n
    }
}

/// Curves of `perplexity`'s results.
public func nllCurves(_ curves: [(mode: String, result: ScoreResult)], bucket: Int) -> [NLLCurve] {
    curves.map { c in
        NLLCurve(mode: c.mode, points: c.result.buckets.enumerated().compactMap { k, v in
            c.result.bucketCounts[k] > 0 ? (x: Double(k * bucket + bucket / 2), nll: v, count: c.result.bucketCounts[k]) : nil
        })
    }
}

/// Curves of `perplexity`'s JSONL rows ({"mode", "from", "to", "nll", "count"}), modes in first-seen order.
public func nllCurves(rows: [Record]) throws -> [NLLCurve] {
    var order: [String] = [], byMode: [String: NLLCurve] = [:]
    for r in rows {
        let mode = try r.string("mode")
        if byMode[mode] == nil { order.append(mode); byMode[mode] = NLLCurve(mode: mode, points: []) }
        let x = (Double(try r.int("from")) + Double(try r.int("to"))) / 2
        let count = try r.int("count")
        guard count >= 0 else { throw RecordError.field("count", "\(count) is negative") }
        byMode[mode]!.points.append((x: x, nll: try r.double("nll"), count: count))  // invariant: inserted above
    }
    return order.map { byMode[$0]! }  // invariant: order lists the keys of byMode
}

public func perplexityPlot(_ curves: [NLLCurve], trainedLength: Int, title: String) -> LinePlot {
    let series = curves.map { c in PlotSeries(name: c.mode, points: c.points.map { (x: $0.x, y: $0.nll) }) }
    var plot = LinePlot(title: title, xLabel: "position (tokens)", yLabel: "NLL per token (nats)", series: series)
    plot.markers = [(Double(trainedLength), "trained length \(trainedLength)")]
    let ys = series.flatMap(\.points).map(\.y).filter(\.isFinite)
    if let lo = ys.min(), let inLength = curves.first(where: { $0.mode.hasPrefix("lambda") })?.mean, inLength.isFinite {
        // Keep the interesting range readable when vanilla explodes. The rows may come from a file:
        // with negative NLLs the upper end still stays above the lower (a ClosedRange must not be empty).
        let lower = max(0, lo - 0.2)
        plot.yRange = lower...(max(lower + 1, lo + 1, min(ys.max() ?? lo + 1, inLength * 6)))
    }
    return plot
}
