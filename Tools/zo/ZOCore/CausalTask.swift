// A LLaMA-family model as a prompt-based classifier, as MeZO trains one: the template's prompt, then
// the verbalizer's words (SST-2: "<sentence> It was" + " terrible" / " great") scored by the next-token
// logits, with cross-entropy over the candidates (train_as_classification); multiple choice by the
// summed log-likelihood of each option's tokens. Fine-tuning schemes: full, LoRA, prefix (learned
// keys/values per layer in front of the sequence), prompt tuning (learned virtual tokens).
import Foundation
import Runtime

public enum Scheme: String, CaseIterable, Sendable { case full, lora, prefix, prompt }

public struct SchemeOptions: Sendable {
    public var scheme: Scheme = .full
    public var loraRank = 8, loraAlpha: Float = 16
    /// Module name suffixes; nil: the model's own query and value projections (PEFT's defaults).
    public var loraTargets: [String]? = nil
    public var prefixTokens = 5
    public var promptTokens = 10
    public init() {}
}

/// The interface every task model offers to the optimizers.
public protocol TaskModel: AnyObject {
    /// What is trained, by name, in a fixed order (the order gives each tensor its random stream).
    var trainable: [(String, Tensor)] { get }
    /// The mean loss over a batch (differentiable when recording and the parameters require grad).
    func loss(_ batch: [Example]) -> Tensor
    /// The predicted label of each example.
    func predict(_ batch: [Example]) -> [Int]
    /// The module whose named modules define blocks (block-wise ZO) and whose parameters are saved.
    var module: Module { get }
}

public final class CausalTask: TaskModel {
    public let model: any Backbone
    public let tokenizer: Tokenizer
    public let template: String
    public let verbalizer: [String]
    public let options: SchemeOptions
    let labelIds: [Int]
    /// Prompt tuning: [P, hidden]; prefix tuning: per layer keys and values [P, Hkv, D].
    public private(set) var promptEmbeddings: Tensor?
    public private(set) var prefixKeys: [Tensor] = [], prefixValues: [Tensor] = []
    private var tokenCache: [String: [Int]] = [:]

    public var module: Module { model }

    public init(model: any Backbone, tokenizer: Tokenizer, template: String = "{text} It was",
                verbalizer: [String] = ["terrible", "great"], options: SchemeOptions = SchemeOptions(), seed: UInt64 = 0) throws {
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.verbalizer = verbalizer
        self.options = options
        labelIds = try verbalizer.map { word in
            guard let id = try tokenizer.encode(" " + word, addSpecialTokens: false).ids.first else {
                throw DataError(description: "the verbalizer word '\(word)' has no tokens")
            }
            return id
        }
        guard Set(labelIds).count == labelIds.count else { throw DataError(description: "verbalizer words share a first token") }
        model.freeze()
        let rng = RandomGenerator(seed: seed, stream: 0x5C)
        let vocab = model.descriptor.vocabSize
        switch options.scheme {
        case .full:
            model.unfreeze()
        case .lora:
            model.addLoRA(LoRAConfig(rank: options.loraRank, alpha: options.loraAlpha,
                                     targets: options.loraTargets ?? model.descriptor.attentionProjections), generator: rng)
        case .prompt:
            // Initialized from the embeddings of random vocabulary tokens (ZO-Bench's init_by_real_tokens).
            let ids = (0..<options.promptTokens).map { _ in rng.nextInt(below: vocab) }
            promptEmbeddings = withoutGrad { model.tokenEmbeddings(ids) }.copy().requiringGrad()
        case .prefix:
            // Initialized from the real keys/values of random tokens (MeZO's init_by_real_act).
            (prefixKeys, prefixValues) = initialPrefix(model, tokens: options.prefixTokens, rng: rng)
        }
    }

    public var trainable: [(String, Tensor)] {
        switch options.scheme {
        case .full: return model.namedParameters()
        case .lora: return model.loraState()
        case .prompt: return [("prompt.embeddings", promptEmbeddings!)]
        case .prefix:
            return prefixKeys.indices.flatMap { [("prefix.\($0).keys", prefixKeys[$0]), ("prefix.\($0).values", prefixValues[$0])] }
        }
    }

    func tokens(_ text: String) -> [Int] {
        if let t = tokenCache[text] { return t }
        let t = (try? tokenizer.encode(text).ids) ?? []
        tokenCache[text] = t
        return t
    }

    /// Final hidden states [B, T, H] for right-padded sequences, and each row's last real position.
    func hidden(_ seqs: [[Int]]) -> (Tensor, [Int]) {
        let batch = TokenBatch(seqs, padId: tokenizer.padId ?? 0)
        let input = schemeInput(batch, scheme: options.scheme, prompt: promptEmbeddings, prefixKeys: prefixKeys,
                                prefixValues: prefixValues, model: model)
        let offset = options.scheme == .prompt ? options.promptTokens : 0
        return (model(input).lastHidden, batch.lengths.map { $0 - 1 + offset })
    }

    /// Rows `positions[i]` of h[i]: [B, H].
    func rows(_ h: Tensor, _ positions: [Int]) -> Tensor {
        let (b, hid) = (h.shape[0], h.shape[2])
        let idx = positions.flatMap { [Int](repeating: $0, count: hid) }
        return h.gather(axis: 1, indices: idx, indexShape: [b, 1, hid]).reshaped([b, hid])
    }

    /// Candidate scores [B, C]: label-word logits, or summed option log-likelihoods.
    func scores(_ batch: [Example]) -> Tensor {
        if batch.first?.options.isEmpty ?? true {
            let prompts = batch.map { tokens(template.replacingOccurrences(of: "{text}", with: $0.text.trimmingCharacters(in: .whitespaces))) }
            let (h, last) = hidden(prompts)
            let logits = model.lmLogits(rows(h, last).unsqueezed(1), rows: labelIds)
            return logits.reshaped([batch.count, labelIds.count])
        }
        // Multiple choice: every (example, option) pair in one batch; each option's tokens scored by
        // the full-vocabulary log-softmax at the positions that predict them.
        let c = batch[0].options.count
        precondition(batch.allSatisfy { $0.options.count == c }, "multiple choice: examples differ in their number of options")
        var seqs: [[Int]] = [], spans: [Range<Int>] = []
        for e in batch {
            let ctx = tokens(e.text)
            for o in e.options {
                let full = tokens(e.text + o)
                let start = max(1, min(ctx.count, full.count - 1))
                seqs.append(full)
                spans.append(start..<full.count)
            }
        }
        let (h, _) = hidden(seqs)
        let hid = h.shape[2]
        var sums: [Tensor] = []
        for (i, span) in spans.enumerated() {
            let positions = span.map { $0 - 1 }
            let rowsH = h[i].indexSelect(axis: 0, positions).reshaped([1, positions.count, hid])
            let logp = logSoftmax(model.lmLogits(rowsH), axis: -1).reshaped([positions.count, -1])
            let targets = span.map { seqs[i][$0] }
            sums.append(logp.gather(axis: 1, indices: targets, indexShape: [targets.count, 1]).sum().reshaped([1]))
        }
        return concat(sums, axis: 0).reshaped([batch.count, c])
    }

    public func loss(_ batch: [Example]) -> Tensor {
        crossEntropy(scores(batch), targets: batch.map(\.label))
    }

    public func predict(_ batch: [Example]) -> [Int] {
        withoutGrad { scores(batch) }.argmax(axis: 1)
    }
}
