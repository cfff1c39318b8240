// From text to token ids. Sequences: the text as the tokenizer encodes it (its own special tokens),
// cut to max_length. Tagged sentences: the runtime's encode(words:) (Tokenizer/WordEncoding.swift), the
// words joined by spaces, which differs from the reference's is_split_into_words (a byte-level BPE then
// encodes each word without its leading space, which the model never saw in pre-training) and gives
// every word a character span for the output.
import Foundation
import Runtime

public struct LSEncoder {
    public let tokenizer: Tokenizer
    public let maxLength: Int

    public init(tokenizer: Tokenizer, maxLength: Int) {
        (self.tokenizer, self.maxLength) = (tokenizer, maxLength)
    }

    public func encode(_ text: String) throws -> [Int] {
        let ids = try tokenizer.encode(text, maxLength: maxLength).ids
        guard !ids.isEmpty else { throw LSLlamaError("the text encodes to no tokens") }
        return ids
    }

    public func encode(words: [String]) throws -> EncodedWords {
        do { return try tokenizer.encode(words: words, maxLength: maxLength) } catch let e as DataError { throw LSLlamaError(e.description) }
    }
}
