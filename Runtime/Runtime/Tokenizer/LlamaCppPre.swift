// LlamaCppPre: the pre-tokenizers llama.cpp selects by tokenizer.ggml.pre (the table in
// LlamaCppPreTable.swift, generated from its llama-vocab.cpp), built from our split patterns.
// Each regex of a type splits every piece further, keeping the matches and the text between them
// (llama.cpp's unicode_regex_split); byte-level types then map the pieces to GPT-2's byte alphabet.
// Types with byteEncode false (gemma4, mmbert, sarvam-moe, whitespace) work on raw UTF-8 with spaces
// escaped to U+2581 when the name says so; mmbert then cuts each piece before every U+2581.

enum LlamaCppPre {
    struct Choice {
        let preTokenizer: PreTokenizer
        let ignoreMerges: Bool
        let escapeWhitespaces: Bool
        let byteEncode: Bool
        /// gemma4/mmbert: a run of newlines that is a token is taken whole (llama.cpp PR 21343).
        let newlineRunsWhole: Bool
    }

    static var knownNames: [String] { names.keys.sorted() }

    /// The pre-tokenizer for a tokenizer.ggml.pre name; nil when llama.cpp does not know the name.
    static func choice(_ name: String) throws -> Choice? {
        guard let entry = names[name], let type = types[entry.type] else { return nil }
        var items: [PreTokenizer] = []
        for r in type.regexes {
            // llama.cpp writes GPT-2's regex without its final |\s+, which changes no split (a lone
            // whitespace character it leaves unmatched is kept as a piece all the same).
            let source = r == gpt2WithoutTail ? GPT2Pattern.source : r
            items.append(PatternPreTokenizer(pattern: try makeSplitPattern(regex: source), behavior: .isolated, invert: false))
        }
        if entry.type == "mmbert" { items.append(MetaspaceWordsPreTokenizer()) }
        if type.byteEncode { items.append(ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false)) }
        return Choice(preTokenizer: SequencePreTokenizer(items: items), ignoreMerges: entry.ignoreMerges,
                      escapeWhitespaces: entry.escapeWhitespaces, byteEncode: type.byteEncode,
                      newlineRunsWhole: entry.type == "gemma4" || entry.type == "mmbert")
    }

    static let gpt2WithoutTail = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
}

/// mmbert (llama.cpp's Metaspace word split): a piece that is not only newlines starts with U+2581
/// (prepended when missing) and is cut before every U+2581.
struct MetaspaceWordsPreTokenizer: PreTokenizer {
    func split(_ piece: NormalizedText, isFirst: Bool) -> [NormalizedText] {
        if piece.chars.allSatisfy({ $0 == 10 }) { return piece.isEmpty ? [] : [piece] }
        var t = piece
        if t.chars.first != 0x2581 { t.prepend([0x2581]) }
        return t.split(where: { $0 == 0x2581 }, behavior: .mergedWithNext)
    }
}
