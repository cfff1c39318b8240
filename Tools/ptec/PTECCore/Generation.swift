// Greedy generation for the prompt-tuning baseline, as the reference's `model.generate(inputs_embeds,
// num_beams=1, max_new_tokens=75, prefix_allowed_tokens_fn=trie)`: the soft prompt and the text are
// read once (a KV cache), then one token at a time, the most likely of all tokens or of those the trie
// allows (ties: the lowest id, as argmax), until EOS or the token limit.
import Foundation
import Runtime

public struct Generated: Sendable {
    public var tokens: [Int]
    public var text: String
    /// The labels read from the text (exact names between separators).
    public var labels: [Int]
}

/// Label indices in a generated string: split at the separator, each part trimmed and matched exactly
/// (the reference's substring test would take "Media" out of "Social Media"); with `substring`, the
/// reference's rule: every label whose name occurs anywhere in the text.
public func parseLabels(_ text: String, labels: [String], separator: String, substring: Bool = false) -> [Int] {
    if substring { return labels.indices.filter { text.contains(labels[$0]) } }
    let sep = separator.trimmingCharacters(in: .whitespaces)
    let parts = (sep.isEmpty ? [text] : text.components(separatedBy: sep)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    let index = Dictionary(labels.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    var out: [Int] = []
    for p in parts { if let i = index[p], !out.contains(i) { out.append(i) } }
    return out
}

public struct Generator {
    public let model: PTECModel
    public let llama: LLaMAModel
    public let tokenizer: Tokenizer
    public let eos: Int
    public let trie: LabelConstraint?
    public var maxNewTokens: Int
    public var substringMatch = false

    public init(model: PTECModel, tokenizer: Tokenizer, useTrie: Bool, maxNewTokens: Int = 75) throws {
        guard let llama = model.backbone as? LLaMAModel else {
            throw PTECError("generation needs a LLaMA-family decoder; \(model.backbone.descriptor.modelType) is not one")
        }
        guard let eos = tokenizer.eosId else { throw PTECError("the tokenizer names no EOS token: generated label lists could not end") }
        (self.model, self.llama, self.tokenizer, self.eos, self.maxNewTokens) = (model, llama, tokenizer, eos, maxNewTokens)
        trie = useTrie ? try LabelConstraint.build(labels: model.config.labels, separator: model.config.separator, tokenizer: tokenizer, eos: eos) : nil
    }

    /// Generates after the soft prompt and `ids` (a text's tokens, the query of training).
    public func generate(_ ids: [Int]) -> Generated {
        withoutGrad {
            let (x, _) = model.inputs([ids], panelAligned: false)
            let cache = llama.makeCache(batch: 1, capacity: x.shape[1] + maxNewTokens + 1)
            var h = llama(inputsEmbeds: x, cache: cache, logits: .none)
            var out: [Int] = []
            while out.count < maxNewTokens {
                let last = h.slice(axis: 1, h.shape[1] - 1, h.shape[1])
                let next: Int
                if let trie {
                    let allowed = trie.allowed(after: out).tokens
                    if allowed.isEmpty { break }
                    let scores = llama.lmLogits(last, rows: allowed).scalars
                    next = allowed[scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!]
                } else {
                    let scores = llama.lmLogits(last).scalars
                    next = scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
                }
                out.append(next)
                if next == eos { break }
                h = llama(ids: [next], cache: cache, logits: .none)
            }
            let text = tokenizer.decode(out, skipSpecialTokens: true)
            let labels = parseLabels(text, labels: model.config.labels, separator: model.config.separator, substring: substringMatch)
            return Generated(tokens: out, text: text, labels: labels)
        }
    }

}
