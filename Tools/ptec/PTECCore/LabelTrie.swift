// Constrained decoding for the prompt-tuning baseline (the reference's utils/trie.py): the generated
// tokens may only spell "label (; label)* <eos>", each label at most once, nothing that is not a label.
//
// The reference inserts each label's ids twice, followed by the separator id and by EOS, and deletes
// a finished label from a per-batch copy of the trie. Its label ids come from `encode(label)`, which
// for a SentencePiece vocabulary is how the label reads after "; " too. A byte-level BPE vocabulary
// (GPT-2, SmolLM2) spells a label differently at the start ("Media") and after the separator
// (" Media"), so here each label has two spellings: `first` (encode(label)) and `next` (the tokens
// that encode(a + sep + label) adds to encode(a): the separator and the label as the target strings
// spell them). State is recomputed from the tokens generated so far, so beams and batches cannot share
// it (the reference keys it by batch index).
import Runtime

public struct LabelTrie: Sendable {
    final class Node: @unchecked Sendable {
        var children: [Int: Node] = [:]
        /// The label that ends here (a complete first or next spelling).
        var label: Int?
    }

    let firstRoot = Node(), nextRoot = Node()
    public let eos: Int
    public let labelCount: Int

    /// `first[i]`: label i's tokens at the start; `next[i]`: the separator and label i as they follow
    /// another label.
    public init(first: [[Int]], next: [[Int]], eos: Int) {
        precondition(first.count == next.count, "LabelTrie: one first and one next spelling per label")
        self.eos = eos
        labelCount = first.count
        for (i, seq) in first.enumerated() { Self.insert(seq, label: i, into: firstRoot) }
        for (i, seq) in next.enumerated() { Self.insert(seq, label: i, into: nextRoot) }
    }

    static func insert(_ seq: [Int], label: Int, into root: Node) {
        var node = root
        for t in seq {
            if let c = node.children[t] { node = c } else { let c = Node(); node.children[t] = c; node = c }
        }
        node.label = label
    }

    /// Whether a subtree holds a label not yet used.
    static func hasFree(_ node: Node, used: Set<Int>) -> Bool {
        if let l = node.label, !used.contains(l) { return true }
        return node.children.values.contains { hasFree($0, used: used) }
    }

    /// The tokens allowed after `generated` (an empty list: generation is over — EOS was produced, or
    /// the tokens left the trie, which constrained decoding never does). Also the labels finished so far
    /// (a label counts as finished once the separator or EOS follows it).
    public func allowed(after generated: [Int]) -> (tokens: [Int], labels: [Int]) {
        var used: [Int] = []
        var node = firstRoot
        for t in generated {
            if t == eos { return ([], used + (node.label.map { [$0] } ?? [])) }
            if let c = node.children[t] {
                node = c
            } else if let l = node.label, !used.contains(l), let c = nextRoot.children[t] {
                // A finished label, and the next spelling starts.
                used.append(l)
                node = c
            } else {
                return ([], used)
            }
        }
        let usedSet = Set(used + (node.label.map { [$0] } ?? []))
        var tokens = node.children.filter { Self.hasFree($0.value, used: Set(used)) }.map(\.key)
        if let l = node.label, !used.contains(l) {
            tokens.append(eos)
            tokens += nextRoot.children.filter { Self.hasFree($0.value, used: usedSet) }.map(\.key)
        }
        return (Array(Set(tokens)).sorted(), used)
    }
}

extension LabelTrie {
    /// The trie of `labels` under `tokenizer`, with `separator` between labels ("; ").
    public static func build(labels: [String], separator: String, tokenizer: Tokenizer, eos: Int) throws -> LabelTrie {
        func ids(_ s: String) throws -> [Int] { try tokenizer.encode(s, addSpecialTokens: false).ids }
        let first = try labels.map(ids)
        var next: [[Int]] = []
        for (i, l) in labels.enumerated() {
            // Spell label i after another label, as the training targets do.
            let other = labels[i == 0 ? (labels.count > 1 ? 1 : 0) : 0]
            let a = try ids(other), joined = try ids(other + separator + l)
            guard joined.count > a.count, Array(joined.prefix(a.count)) == a else {
                throw PTECError("the tokenizer merges '\(other)' with the separator '\(separator)': labels cannot be decoded one by one")
            }
            next.append(Array(joined.dropFirst(a.count)))
        }
        return LabelTrie(first: first, next: next, eos: eos)
    }
}
