// The input GLiClass reads: the candidate labels written into the text, each after <<LABEL>>, then
// <<SEP>> and the task prompt, the text, and few-shot examples after <<EXAMPLE>> (the reference's
// data_processing.py and pipeline.py, byte for byte):
//
//   labels   = "<<LABEL>>" + l1 + "<<LABEL>>" + l2 + … + "<<SEP>>" + prompt
//   examples = "" | "<<EXAMPLE>>" + text + " \nLabels:\n " + "a, b" + … + "<<SEP>>"
//   input    = labels + text + examples   (prompt_first)   |   text + labels + examples
//
// Tokenized whole, with the tokenizer's special tokens ([CLS] … [SEP]). Too long an input loses the end
// of its text, never a label: the reference truncates from the right, which with text first cuts the
// labels off and still scores them (from zero vectors); `referenceTruncation` does that.
import Runtime

public enum PromptTokens {
    public static let label = "<<LABEL>>"
    public static let separator = "<<SEP>>"
    public static let example = "<<EXAMPLE>>"
    public static let all = [label, separator, example]
}

/// A few-shot example shown in the input.
public struct FewShotExample: Equatable, Sendable {
    public var text: String
    public var labels: [String]
    public init(text: String, labels: [String]) { self.text = text; self.labels = labels }
}

/// One text to classify and what goes into its input with it.
public struct ClassificationInput: Sendable {
    public var text: String
    public var labels: [String]
    public var examples: [FewShotExample] = []
    public var prompt: String = ""

    public init(text: String, labels: [String], examples: [FewShotExample] = [], prompt: String = "") {
        self.text = text
        self.labels = labels
        self.examples = examples
        self.prompt = prompt
    }

    /// `<<LABEL>>l1<<LABEL>>l2…<<SEP>>prompt`.
    public var labelPart: String {
        labels.map { PromptTokens.label + $0 }.joined() + PromptTokens.separator + prompt
    }

    /// The examples' part (empty without examples).
    public var examplesPart: String {
        guard !examples.isEmpty else { return "" }
        return examples.map { PromptTokens.example + $0.text + " \nLabels:\n " + $0.labels.joined(separator: ", ") }.joined()
            + PromptTokens.separator
    }

    /// The whole input string, with `text` in place of the record's text.
    public func string(promptFirst: Bool, text: String? = nil) -> String {
        let t = text ?? self.text
        return promptFirst ? labelPart + t + examplesPart : t + labelPart + examplesPart
    }

    /// Where the text starts in `string(promptFirst:)`, in Unicode scalars (the tokenizer's offsets).
    func textStart(promptFirst: Bool) -> Int { promptFirst ? labelPart.unicodeScalars.count : 0 }
}

/// Turns inputs into token ids within a length budget.
public struct InputEncoder {
    public let tokenizer: Tokenizer
    public let maxLength: Int
    public let promptFirst: Bool
    /// Cut from the right as the reference does (labels after a long text are lost).
    public let referenceTruncation: Bool

    public init(tokenizer: Tokenizer, maxLength: Int, promptFirst: Bool, referenceTruncation: Bool = false) {
        self.tokenizer = tokenizer
        self.maxLength = maxLength
        self.promptFirst = promptFirst
        self.referenceTruncation = referenceTruncation
    }

    /// The ids of `input` (special tokens included), at most maxLength of them. Throws when the labels,
    /// prompt and examples alone do not fit (unless reference truncation is on).
    public func encode(_ input: ClassificationInput) throws -> [Int] {
        let full = try tokenizer.encode(input.string(promptFirst: promptFirst), maxLength: nil)
        if full.count <= maxLength { return full.ids }
        if referenceTruncation { return try tokenizer.encode(input.string(promptFirst: promptFirst), maxLength: maxLength).ids }
        return try shortened(input, full: full).ids
    }

    /// The input with the end of its text cut so that it fits.
    func shortened(_ input: ClassificationInput, full: Encoding) throws -> Encoding {
        let scalars = Array(input.text.unicodeScalars)
        let start = input.textStart(promptFirst: promptFirst), end = start + scalars.count
        // Text tokens by their position in the string; keep as many as the budget allows.
        let textEnds = full.offsets.enumerated().filter { full.specialTokensMask[$0.offset] == 0 && $0.element.0 >= start && $0.element.1 <= end }
            .map { $0.element.1 - start }
        var keep = textEnds.count - (full.count - maxLength)
        while true {
            guard keep > 0 else {
                let bare = try tokenizer.encode(input.string(promptFirst: promptFirst, text: ""), maxLength: nil).count
                if bare <= maxLength { return try tokenizer.encode(input.string(promptFirst: promptFirst, text: ""), maxLength: nil) }
                throw GLiClassError("the labels, prompt and examples take \(bare) tokens, more than the \(maxLength) of --max-length")
            }
            let cut = String(String.UnicodeScalarView(scalars[0..<textEnds[keep - 1]]))
            let e = try tokenizer.encode(input.string(promptFirst: promptFirst, text: cut), maxLength: nil)
            if e.count <= maxLength { return e }
            keep -= Swift.max(1, e.count - maxLength)
        }
    }

    /// The text cut into pieces whose inputs each fit (long texts with --chunk): windows of text tokens
    /// overlapping by `overlap` tokens, cut at token boundaries.
    public func windows(_ input: ClassificationInput, overlap: Int) throws -> [String] {
        let full = try tokenizer.encode(input.string(promptFirst: promptFirst), maxLength: nil)
        if full.count <= maxLength { return [input.text] }
        let bare = try tokenizer.encode(input.string(promptFirst: promptFirst, text: ""), maxLength: nil).count
        let budget = maxLength - bare
        guard budget > 0 else {
            throw GLiClassError("the labels, prompt and examples take \(bare) tokens, more than the \(maxLength) of --max-length")
        }
        let scalars = Array(input.text.unicodeScalars)
        let start = input.textStart(promptFirst: promptFirst), end = start + scalars.count
        let spans = full.offsets.enumerated().filter { full.specialTokensMask[$0.offset] == 0 && $0.element.0 >= start && $0.element.1 <= end }
            .map { ($0.element.0 - start, $0.element.1 - start) }
        var out: [String] = []
        var first = 0
        while first < spans.count {
            var last = Swift.min(first + budget, spans.count)
            // Token boundaries inside a piece may tokenize differently: shrink until it fits.
            while true {
                let piece = String(String.UnicodeScalarView(scalars[spans[first].0..<spans[last - 1].1]))
                let n = try tokenizer.encode(input.string(promptFirst: promptFirst, text: piece), maxLength: nil).count
                if n <= maxLength || last - first <= 1 { out.append(piece); break }
                last -= Swift.max(1, n - maxLength)
                last = Swift.max(last, first + 1)
            }
            if last >= spans.count { break }
            first = Swift.max(first + 1, last - overlap)
        }
        return out
    }
}
