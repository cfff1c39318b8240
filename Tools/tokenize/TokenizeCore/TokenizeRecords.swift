// The record loops of `tokenize`: text → ids and token strings (optionally character offsets), and,
// with --decode, ids → text. Offsets are [start, end) in Unicode code points of the text, as Hugging
// Face tokenizers report them (Python string indices).
import Runtime
import RuntimeCLI

public struct TokenizeFields {
    public var text = "text", ids = "ids", tokens = "tokens", offsets = "offsets"
    public init() {}
}

public func tokenizeRecords(_ runner: JSONLRunner, tokenizer: Tokenizer, fields: TokenizeFields,
                            addSpecialTokens: Bool, withOffsets: Bool) -> Int32 {
    runner.forEach { r in
        let text = try r.string(fields.text)
        let enc: Encoding
        do { enc = try tokenizer.encode(text, addSpecialTokens: addSpecialTokens, keepOverflow: false) } catch {
            throw RecordError("field '\(fields.text)': \(error)")
        }
        r.set(fields.ids, ints: enc.ids)
        try r.set(fields.tokens, strings: enc.tokens)
        if withOffsets {
            try r.set(fields.offsets, .array(enc.offsets.map { .array([.number(JSONNumber($0.0)), .number(JSONNumber($0.1))]) }))
        }
    }
}

public func decodeRecords(_ runner: JSONLRunner, tokenizer: Tokenizer, fields: TokenizeFields, skipSpecialTokens: Bool) -> Int32 {
    let vocab = tokenizer.vocabSize
    return runner.forEach { r in
        let ids = try r.ints(fields.ids)
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocab }) {
            throw RecordError("field '\(fields.ids)': id \(bad) is outside the vocabulary (0..<\(vocab))")
        }
        try r.set(fields.text, string: tokenizer.decode(ids, skipSpecialTokens: skipSpecialTokens))
    }
}
