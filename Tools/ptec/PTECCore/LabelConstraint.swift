// Constrained decoding for the prompt-tuning baseline (the reference's utils/trie.py): what is
// generated may only spell "label(; label)*" then EOS, each label at most once, nothing that is not a
// label.
//
// The reference builds a token trie from `encode(label)` followed by the separator id or EOS, with
// per-batch state. That assumes a label's tokens do not depend on what follows, which holds for its
// SentencePiece vocabularies but not for byte-level BPE: SmolLM2 writes "Specific nation(s); Media" as
// … "(" "s" ");" " Media" (");" is one token), so a token trie would forbid the very token training
// taught. Here the constraint is on the text: a token is allowed when the text generated so far plus
// the token's text is still a prefix of some "label(; label)*" with distinct labels, and EOS when the
// text is complete. Token texts are read from the tokenizer once (as a token reads at the start of the
// output, and in the middle); state is recomputed from the generated tokens, so nothing is shared
// between texts, batches or beams.
import Runtime

public struct LabelConstraint: Sendable {
    public let labels: [String]
    public let separator: String
    public let eos: Int
    let index: [String: Int]
    /// Token id → its text at the start of the output and after other tokens.
    let pieces: [Int: (initial: String, middle: String)]
    /// The tokens whose text could be part of a label list (characters of the labels and separator).
    let candidates: [Int]

    /// `pieces`: every usable token's text at the start and in the middle of the output.
    public init(labels: [String], separator: String, eos: Int, pieces: [Int: (initial: String, middle: String)]) {
        (self.labels, self.separator, self.eos) = (labels, separator, eos)
        index = Dictionary(labels.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let alphabet = Set(labels.joined() + separator)
        let usable = pieces.filter { !$0.value.middle.isEmpty && $0.value.middle.allSatisfy(alphabet.contains) || !$0.value.initial.isEmpty && $0.value.initial.allSatisfy(alphabet.contains) }
        self.pieces = usable
        candidates = usable.keys.sorted()
    }

    /// The text of generated tokens.
    public func text(_ generated: [Int]) -> String {
        var s = ""
        for (i, t) in generated.enumerated() where t != eos {
            guard let p = pieces[t] else { return s + "\u{FFFD}" }
            s += i == 0 ? p.initial : p.middle
        }
        return s
    }

    /// The finished labels of a text, or nil when the text cannot start a label list.
    func parse(_ s: String) -> (done: [Int], last: String)? {
        let parts = s.components(separatedBy: separator)
        var done: [Int] = []
        for p in parts.dropLast() {
            guard let k = index[p], !done.contains(k) else { return nil }
            done.append(k)
        }
        return (done, parts.last ?? "")
    }

    /// Whether `s` can still grow into a label list.
    public func isPrefix(_ s: String) -> Bool {
        guard let (done, last) = parse(s) else { return false }
        let sepPrefixes = (1..<max(separator.count, 1)).map { String(separator.prefix($0)) }
        // A label begun, or a label finished and the separator begun with another label still unused.
        let unused = labels.indices.filter { !done.contains($0) }
        return unused.contains { k in
            let l = labels[k]
            return l.hasPrefix(last) || (unused.count > 1 && last.hasPrefix(l) && sepPrefixes.contains(String(last.dropFirst(l.count))))
        }
    }

    /// The labels of `s` when it is a complete list (nil otherwise).
    public func complete(_ s: String) -> [Int]? {
        guard let (done, last) = parse(s), let k = index[last], !done.contains(k) else { return nil }
        return done + [k]
    }

    /// The tokens allowed after `generated` (empty: generation is over), and the labels of the text so far
    /// (the finished ones; all of them once EOS ends it).
    public func allowed(after generated: [Int]) -> (tokens: [Int], labels: [Int]) {
        let s = text(generated)
        if generated.last == eos { return ([], complete(s) ?? parse(s)?.done ?? []) }
        var tokens = candidates.filter { t in
            guard let p = pieces[t] else { return false }
            let piece = generated.isEmpty ? p.initial : p.middle
            return !piece.isEmpty && isPrefix(s + piece)
        }
        if complete(s) != nil { tokens.append(eos) }
        return (tokens.sorted(), parse(s)?.done ?? [])
    }
}

extension LabelConstraint {
    /// The constraint of `labels` under `tokenizer`: each token's text read by decoding it alone (the
    /// start of the output) and after an anchor token (the middle).
    public static func build(labels: [String], separator: String, tokenizer: Tokenizer, eos: Int) throws -> LabelConstraint {
        guard let anchor = try tokenizer.encode("a", addSpecialTokens: false).ids.first else { throw PTECError("the tokenizer cannot encode 'a'") }
        let anchorText = tokenizer.decode([anchor])
        var pieces: [Int: (initial: String, middle: String)] = [:]
        for id in 0..<tokenizer.vocabSize where id != eos {
            let both = tokenizer.decode([anchor, id])
            guard both.hasPrefix(anchorText) else { continue }
            pieces[id] = (tokenizer.decode([id]), String(both.dropFirst(anchorText.count)))
        }
        let c = LabelConstraint(labels: labels, separator: separator, eos: eos, pieces: pieces)
        // Every label list must be writable: the separator and each label's characters have tokens.
        for l in labels where !c.isPrefix(l) { throw PTECError("label '\(l)' cannot be written with this tokenizer") }
        return c
    }
}
