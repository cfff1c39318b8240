// A byte-level tokenizer.json: one token per byte (GPT-2's printable stand-ins, no merges) plus
// special tokens, for small models trained here. Hugging Face's tokenizers loads it as it is.

public enum ByteTokenizerFile {
    /// The tokenizer.json document: ids 0...255 are the bytes, then `special` in order.
    public static func json(special: [String] = ["<|endoftext|>"]) -> JSONValue {
        var vocab = JSONObject()
        for b in 0..<256 {
            let ch = String(Character(Unicode.Scalar(ByteLevel.byteToChar[b])!))  // invariant: the table's code points are below 324
            vocab.members.append(.init(key: ch, value: .number(JSONNumber(b))))
        }
        for (i, s) in special.enumerated() { vocab.members.append(.init(key: s, value: .number(JSONNumber(256 + i)))) }
        let added: [JSONValue] = special.enumerated().map { i, s in
            .object(["id": .number(JSONNumber(256 + i)), "content": .string(s), "single_word": false, "lstrip": false,
                     "rstrip": false, "normalized": false, "special": true])
        }
        return .object([
            "version": "1.0", "truncation": .null, "padding": .null, "added_tokens": .array(added), "normalizer": .null,
            "pre_tokenizer": .object(["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false]),
            "post_processor": .null,
            "decoder": .object(["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false]),
            "model": .object(["type": "BPE", "dropout": .null, "unk_token": .null, "continuing_subword_prefix": .null,
                              "end_of_word_suffix": .null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                              "vocab": .object(vocab), "merges": .array([])]),
        ])
    }
}
