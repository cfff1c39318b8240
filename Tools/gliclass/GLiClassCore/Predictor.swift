// Classification with a GLiClass model, as the reference's ZeroShotClassificationPipeline (and, with
// `chunk`, its ZeroShotClassificationWithChunkingPipeline):
//
//   multi-label:   p = σ(logit) per label; the labels with p ≥ threshold are the predictions
//   single-label:  p = softmax over the text's labels; the argmax is the prediction
//   long texts:    (chunk) the text in windows that fit, labels in groups of `labelChunk`; per window
//                  the activation over all labels, then the maximum over windows (single-label: the
//                  maxima renormalized to sum to 1)
//
// A record's scores do not depend on its batch: poolers see only its own tokens, padding never enters.
// The reference's chunks are 8,192 characters (each then cut to max_length tokens); here windows are
// cut at token boundaries to fit, overlapping by `chunkOverlap` tokens.
import Foundation
import Runtime

public struct PredictOptions: Sendable {
    public var threshold: Float = 0.5
    public var singleLabel = false
    /// Records per model batch.
    public var batch = 8
    public var chunk = false
    public var chunkOverlap = 32
    /// Labels per pass (0: all of a record's labels in one input).
    public var labelChunk = 0
    public init() {}
}

public struct Prediction {
    public var labels: [String]
    /// Probabilities, in the record's label order.
    public var scores: [Float]
    /// Raw logits (one pass per record: without chunking).
    public var logits: [Float]?
    /// Labels with p ≥ threshold (multi-label) or the argmax (single-label), in label order.
    public var chosen: [Int]
    public var best: Int
}

public final class Predictor {
    public let bundle: GLiClassBundle
    public let encoder: InputEncoder
    public let options: PredictOptions

    public init(bundle: GLiClassBundle, maxLength: Int, options: PredictOptions, referenceTruncation: Bool = false) {
        self.bundle = bundle
        self.options = options
        encoder = InputEncoder(tokenizer: bundle.tokenizer, maxLength: maxLength, promptFirst: bundle.model.config.promptFirst,
                               referenceTruncation: referenceTruncation)
    }

    /// One model input: which record, which window of its text, which of its labels.
    struct Unit {
        let record: Int, window: Int
        let labels: Range<Int>
        let ids: [Int]
    }

    public func predict(_ inputs: [ClassificationInput]) -> [Result<Prediction, Error>] {
        var results = [Result<Prediction, Error>?](repeating: nil, count: inputs.count)
        var units: [Unit] = []
        var windowCounts = [Int](repeating: 1, count: inputs.count)
        for (r, input) in inputs.enumerated() {
            do {
                guard !input.labels.isEmpty else { throw GLiClassError("no labels to score") }
                let texts = options.chunk ? try encoder.windows(input, overlap: options.chunkOverlap) : [input.text]
                let step = options.labelChunk > 0 ? options.labelChunk : input.labels.count
                var mine: [Unit] = []
                for (w, text) in texts.enumerated() {
                    for lo in stride(from: 0, to: input.labels.count, by: step) {
                        let range = lo..<Swift.min(lo + step, input.labels.count)
                        var part = input
                        part.text = text
                        part.labels = Array(input.labels[range])
                        mine.append(Unit(record: r, window: w, labels: range, ids: try encoder.encode(part)))
                    }
                }
                windowCounts[r] = texts.count
                units += mine
            } catch {
                results[r] = .failure(error)
            }
        }
        // Model batches of similar lengths (results do not depend on the batch).
        let order = units.indices.sorted { units[$0].ids.count < units[$1].ids.count }
        var logits = [[Float]](repeating: [], count: units.count)
        let model = bundle.model, pad = model.backbone.descriptor.padId ?? 0
        withoutGrad {
            for start in stride(from: 0, to: order.count, by: Swift.max(options.batch, 1)) {
                let idx = Array(order[start..<Swift.min(start + Swift.max(options.batch, 1), order.count)])
                let tokens = TokenBatch(idx.map { units[$0].ids }, padId: pad)
                let k = model.config.labelSlots(idx.map { units[$0].labels.count })
                let out = model(tokens, slots: k).logits
                for (row, u) in idx.enumerated() {
                    logits[u] = Array(UnsafeBufferPointer(start: out.data + row * k, count: units[u].labels.count))
                }
            }
        }
        // Per record: logits by window, then activation, then the maximum over windows.
        var byRecord = [[[Float]]](repeating: [], count: inputs.count)
        for r in inputs.indices where results[r] == nil {
            byRecord[r] = [[Float]](repeating: [Float](repeating: 0, count: inputs[r].labels.count), count: windowCounts[r])
        }
        for (u, unit) in units.enumerated() {
            for (j, l) in unit.labels.enumerated() { byRecord[unit.record][unit.window][l] = logits[u][j] }
        }
        for r in inputs.indices where results[r] == nil {
            results[r] = .success(finish(labels: inputs[r].labels, windows: byRecord[r]))
        }
        return results.map { $0! }   // invariant: every record got a failure above or a success here
    }

    func finish(labels: [String], windows: [[Float]]) -> Prediction {
        let activated = windows.map { options.singleLabel ? softmaxVector($0) : $0.map { 1 / (1 + Foundation.exp(-$0)) } }
        var scores = activated[0]
        for w in activated.dropFirst() { for j in scores.indices { scores[j] = Swift.max(scores[j], w[j]) } }
        if options.singleLabel && activated.count > 1 {
            let total = scores.reduce(0, +)
            if total > 0 { scores = scores.map { $0 / total } }
        }
        let best = scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) } ?? 0
        let chosen = options.singleLabel ? [best] : scores.indices.filter { scores[$0] >= options.threshold }
        return Prediction(labels: labels, scores: scores, logits: windows.count == 1 ? windows[0] : nil, chosen: chosen, best: best)
    }
}

/// softmax of a short vector (Float accumulation as torch's CPU softmax over a row).
func softmaxVector(_ x: [Float]) -> [Float] {
    guard let m = x.max() else { return [] }
    let e = x.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}
