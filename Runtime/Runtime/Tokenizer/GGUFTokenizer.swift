// GGUFTokenizer: the tokenizer stored in a llama.cpp GGUF file's metadata, built as llama.cpp builds it
// (llama-vocab.cpp), which is also how the model's original Hugging Face tokenizer splits text:
// llama.cpp's tokenizer test suite (its expected ids come from the original tokenizers) passes whole
// (Tests/RuntimeTests/LlamaCppVocabSuiteTests.swift). `llamaCpp: false` builds it as transformers'
// GGUF loader does instead (integrations/ggml.py); the two differ where transformers maps a
// pre-tokenizer name to a different regex (smollm: no digit split), keeps SentencePiece's dummy
// prefix off a text that starts with a space, or spells user-defined tokens in the byte alphabet.
//
// tokenizer.ggml.model "gpt2": BPE over tokens/merges with the pre-tokenizer of tokenizer.ggml.pre
// (LlamaCppPre; "default" when absent; a name llama.cpp does not know is an error listing those it
// does); byte-level unless the name's type works on raw UTF-8. "gemma4": the same on raw UTF-8 with
// spaces escaped to U+2581. "llama": SentencePiece (scores -> merges as transformers derives them,
// byte fallback <0xXX>), spaces escaped and, with add_space_prefix, U+2581 put before every text
// fragment (llama.cpp: before the text and after each special token). "bert": WordPiece over
// llama.cpp's phantom-space vocabulary (U+2581 marks a word start, "##" dropped) with BERT's
// normalization (lowercase and strip accents unless the file says otherwise). "t5": SentencePiece
// Unigram over the precompiled charsmap with llama.cpp's whitespace handling.
// Tokens typed CONTROL (3) become special added tokens, USER_DEFINED (4) plain added tokens matched on
// their text as the file spells it; bos/eos/unk/pad ids and add_bos/add_eos shape the post-processor.
import Foundation

extension Tokenizer {
    /// The tokenizer of a GGUF file; `llamaCpp` false builds it as transformers' GGUF loader does.
    public static func fromGGUF(path: String, llamaCpp: Bool = true) throws -> Tokenizer {
        let g = try GGUFFile(path: path)
        do { return try fromGGUF(g, llamaCpp: llamaCpp) } catch let e as TokenizerError { throw CheckpointError(path, e.description) }
    }

    static func fromGGUF(_ g: GGUFFile, llamaCpp: Bool) throws -> Tokenizer {
        let md = g.metadata
        guard let kind = md["tokenizer.ggml.model"]?.string else { throw TokenizerError("no tokenizer.ggml.model in the metadata") }
        guard let tokenValues = md["tokenizer.ggml.tokens"]?.array else { throw TokenizerError("no tokenizer.ggml.tokens in the metadata") }
        guard tokenValues.count < Int(Int32.max) else {
            throw TokenizerError("tokenizer.ggml.tokens holds \(tokenValues.count) tokens; ids must stay below 2^31")
        }
        let tokens = tokenValues.map { $0.bytes ?? [] }
        let types = md["tokenizer.ggml.token_type"]?.array?.map { $0.int ?? 1 } ?? []
        func type(_ i: Int) -> Int { i < types.count ? types[i] : 1 }
        let merges: [([UInt8], [UInt8])]? = try md["tokenizer.ggml.merges"]?.array.map { arr in
            try arr.map { v in
                let b = v.bytes ?? []
                guard let sp = b.dropFirst().firstIndex(of: 32) else { throw TokenizerError("merge without a space") }
                return (Array(b[..<sp]), Array(b[(sp + 1)...]))
            }
        }
        // A special token id outside the vocabulary is ignored, as llama.cpp does (with a warning).
        func id(_ k: String) -> Int? { md["tokenizer.ggml.\(k)"]?.int.flatMap { $0 >= 0 && $0 < tokens.count ? $0 : nil } }
        let vocab = Vocab()
        let t: Tokenizer
        var addBos: Bool
        var byteEncode = true
        var bertStyle = false
        func rawDecoder(escaped: Bool, stripPrefix: Bool) -> TokenDecoder {
            var steps: [TokenDecoder] = []
            if escaped { steps.append(ReplaceDecoder(pattern: LiteralPattern([0x2581]), content: [32])) }
            steps += [ByteFallbackDecoder(), FuseDecoder()]
            if stripPrefix { steps.append(StripDecoder(content: " ", start: 1, stop: 0)) }
            return SequenceDecoder(items: steps)
        }
        switch kind {
        case "gpt2", "gemma4":
            let pre = kind == "gemma4" ? "gemma4" : md["tokenizer.ggml.pre"]?.string ?? (llamaCpp ? "default" : "gpt-2")
            var choice: LlamaCppPre.Choice? = nil
            if llamaCpp {
                guard let c = try LlamaCppPre.choice(pre) else {
                    throw TokenizerError("unknown tokenizer.ggml.pre \"\(pre)\" (known: \(LlamaCppPre.knownNames.joined(separator: ", ")))")
                }
                choice = c
                byteEncode = c.byteEncode
                guard merges != nil else { throw TokenizerError("no tokenizer.ggml.merges in the metadata (a BPE vocabulary needs them)") }
            }
            if byteEncode {
                // Tokens outside the byte alphabet are respelled in it (transformers' byte_level_tokenizer).
                for (i, tok) in tokens.enumerated() {
                    let chars = scalars(String(decoding: tok, as: UTF8.self))
                    let ok = chars.allSatisfy { $0 < 324 && ByteLevel.charToByte[Int($0)] >= 0 }
                    vocab.insert(ok ? tok : utf8Bytes(tok.map { ByteLevel.byteToChar[Int($0)] }), id: i)
                }
            } else {
                for (i, tok) in tokens.enumerated() { vocab.insert(tok, id: i) }
            }
            let model = try BPEModel(vocab: vocab, merges: merges ?? [], unkToken: nil, prefix: nil, suffix: nil,
                                     fuseUnk: false, byteFallback: !byteEncode, ignoreMerges: false)
            t = Tokenizer(model: model)
            if let c = choice {
                t.preTokenizer = c.preTokenizer
                model.ignoreMerges = c.ignoreMerges
                model.newlineRunsWhole = c.newlineRunsWhole
                if c.escapeWhitespaces { t.normalizer = ReplaceNormalizer(pattern: LiteralPattern([32]), content: [0x2581]) }
                t.decoder = byteEncode ? ByteLevelDecoder() : rawDecoder(escaped: c.escapeWhitespaces, stripPrefix: false)
            } else {
                t.preTokenizer = try transformersPreTokenizer(pre)
                t.decoder = ByteLevelDecoder()
            }
            // llama.cpp's defaults before add_bos_token is read: true for the llama3 family, tekken,
            // chameleon and gemma4 (which it forces on), false for other BPE vocabularies.
            let bosByDefault = ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
                                "jina-v5-nano", "tekken", "chameleon"].contains(pre)
            addBos = kind == "gemma4" ? true : md["tokenizer.ggml.add_bos_token"]?.bool ?? (llamaCpp && bosByDefault)
        case "llama":
            for (i, tok) in tokens.enumerated() { vocab.insert(tok, id: i) }
            let scores = md["tokenizer.ggml.scores"]?.array?.map { $0.double ?? 0 } ?? []
            let m = try merges ?? sentencePieceMerges(tokens: tokens, scores: scores, vocab: vocab)
            let unk = id("unknown_token_id").flatMap { vocab.string($0) } ?? "<unk>"
            let model = try BPEModel(vocab: vocab, merges: m, unkToken: unk, prefix: nil, suffix: nil,
                                     fuseUnk: true, byteFallback: true, ignoreMerges: false)
            t = Tokenizer(model: model)
            let prefix = md["tokenizer.ggml.add_space_prefix"]?.bool ?? true
            if llamaCpp {
                // llama.cpp: " " before each text fragment, then every space escaped; one BPE word.
                let escape = ReplaceNormalizer(pattern: LiteralPattern([32]), content: [0x2581])
                t.normalizer = prefix ? SequenceNormalizer(items: [PrependNormalizer(prefix: [0x2581]), escape]) : escape
            } else {
                t.preTokenizer = MetaspacePreTokenizer(replacement: 0x2581, scheme: prefix ? "first" : "never", split: false)
            }
            t.decoder = rawDecoder(escaped: true, stripPrefix: prefix)
            addBos = md["tokenizer.ggml.add_bos_token"]?.bool ?? true
        case "bert":
            // llama.cpp's phantom-space vocabulary back to WordPiece's: "▁word" -> "word", "piece" -> "##piece".
            for (i, tok) in tokens.enumerated() {
                if type(i) == 3 { vocab.insert(tok, id: i) }
                else if tok.starts(with: [0xE2, 0x96, 0x81]) { vocab.insert(Array(tok.dropFirst(3)), id: i) }
                else { vocab.insert(Array("##".utf8) + tok, id: i) }
            }
            let unk = id("unknown_token_id").flatMap { vocab.string($0) } ?? "[UNK]"
            // Words over 100 characters become [UNK] as in the original tokenizer.json (llama.cpp has no limit).
            t = Tokenizer(model: WordPieceModel(vocab: vocab, unkToken: unk, maxChars: 100))
            let lowercase = md["tokenizer.ggml.normalizer.lowercase"]?.bool ?? true
            let strip = md["tokenizer.ggml.normalizer.strip_accents"]?.bool ?? lowercase
            t.normalizer = BertNormalizer(cleanText: true, chinese: true, stripAccents: strip, lowercase: lowercase)
            t.preTokenizer = BertPreTokenizer()
            t.decoder = WordPieceDecoder(prefix: "##", cleanup: true)
            addBos = md["tokenizer.ggml.add_bos_token"]?.bool ?? true
            bertStyle = true
        case "t5":
            // SentencePiece Unigram (llama.cpp's UGM): the precompiled charsmap, then spaces (escaped,
            // a U+2581 prefix, runs merged when remove_extra_whitespaces), then Viterbi over the whole
            // fragment with the normal, user-defined (score 0) and unused pieces.
            for (i, tok) in tokens.enumerated() { vocab.insert(tok, id: i) }
            var scores = md["tokenizer.ggml.scores"]?.array?.map { $0.double ?? 0 } ?? []
            for i in 0..<min(scores.count, tokens.count) where type(i) == 4 { scores[i] = 0 }
            let unk = id("unknown_token_id") ?? (tokens.count > 2 ? 2 : nil)
            let model = try UnigramModel(pieces: tokens, scores: scores, unkId: unk, byteFallback: false,
                                         matchable: { [1, 4, 5].contains(type($0)) })
            t = Tokenizer(model: model)
            let prefix = md["tokenizer.ggml.add_space_prefix"]?.bool ?? false
            let merge = md["tokenizer.ggml.remove_extra_whitespaces"]?.bool ?? false
            var steps: [Normalizer] = []
            if let map = md["tokenizer.ggml.precompiled_charsmap"]?.array, !map.isEmpty {
                steps.append(try PrecompiledNormalizer(bytes: map.map { UInt8(truncatingIfNeeded: $0.int ?? 0) }))
            }
            steps.append(SentencePieceSpacesNormalizer(prepend: prefix, merge: merge))
            t.normalizer = SequenceNormalizer(items: steps)
            t.decoder = rawDecoder(escaped: true, stripPrefix: prefix)
            addBos = md["tokenizer.ggml.add_bos_token"]?.bool ?? false
        default:
            throw TokenizerError("unsupported tokenizer.ggml.model \"\(kind)\" (known: gpt2, gemma4, llama, bert, t5)")
        }
        // Added tokens: bos/eos/unk/pad (transformers registers them as special tokens), CONTROL as
        // special, USER_DEFINED as plain.
        var added: [AddedToken] = []
        for k in ["bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id", "cls_token_id", "seperator_token_id", "mask_token_id"] {
            if let i = id(k), let s = vocab.string(i), !added.contains(where: { $0.id == i }) {
                added.append(AddedToken(content: s, id: i, special: true, normalized: false))
            }
        }
        for (i, ty) in types.enumerated() where i < tokens.count && (ty == 3 || ty == 4) && !added.contains(where: { $0.id == i }) {
            // llama.cpp matches a user-defined token on its text as the file spells it (mpt's runs of spaces).
            let content = ty == 4 && llamaCpp ? String(decoding: tokens[i], as: UTF8.self) : vocab.string(i) ?? ""
            if ty == 3 && kind == "gpt2" && byteEncode && !scalars(content).allSatisfy({ $0 < 324 && ByteLevel.charToByte[Int($0)] >= 0 }) { continue }
            added.append(AddedToken(content: content, id: i, special: ty == 3, normalized: false))
        }
        t.setAddedTokens(added)
        t.bosId = id("bos_token_id"); t.eosId = id("eos_token_id"); t.unkId = id("unknown_token_id"); t.padId = id("padding_token_id")
        var addEos = md["tokenizer.ggml.add_eos_token"]?.bool ?? (kind == "t5")
        if bertStyle {
            // [CLS] A [SEP] (B [SEP]): llama.cpp's WPM adds bos (the cls id) and sep.
            t.clsId = id("cls_token_id") ?? t.bosId; t.sepId = id("seperator_token_id") ?? t.eosId
            t.bosId = t.clsId; t.eosId = t.sepId
            addEos = t.sepId != nil
        }
        if t.bosId == nil { addBos = false }
        var single: [TemplateProcessing.Piece] = [], pair: [TemplateProcessing.Piece] = []
        var specials: [String: ([Int], [String])] = [:]
        let bos = t.bosId.flatMap { vocab.string($0) } ?? "", eos = t.eosId.flatMap { vocab.string($0) } ?? ""
        if addBos { single.append(.special(bos, 0)); specials[bos] = ([t.bosId!], [bos]) }  // invariant: addBos implies bosId
        single.append(.seq(0, 0))
        if addEos, let e = t.eosId { single.append(.special(eos, 0)); specials[eos] = ([e], [eos]) }
        pair = single
        if addBos && !bertStyle { pair.append(.special(bos, 1)) }
        pair.append(.seq(1, 1))
        if addEos, t.eosId != nil { pair.append(.special(eos, 1)) }
        t.postProcessor = try TemplateProcessing(single: single, pair: pair, specials: specials)
        return t
    }

    /// transformers' pre-tokenizer for tokenizer.ggml.pre (integrations/ggml.py): Llama-3's or Qwen2's
    /// split for their families, GPT-2's ByteLevel regex for every other name it accepts.
    static func transformersPreTokenizer(_ pre: String) throws -> PreTokenizer {
        func splits(_ re: String) throws -> PreTokenizer {
            SequencePreTokenizer(items: [PatternPreTokenizer(pattern: try makeSplitPattern(regex: re), behavior: .isolated, invert: false),
                                         ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false)])
        }
        let llama3 = ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano", "dbrx", "smaug-bpe"]
        let qwen2 = ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez"]
        let others = ["gpt-2", "gpt2", "default", "phi-2", "mpt", "olmo", "jais", "roberta-bpe", "smollm", "starcoder", "refact",
                      "command-r", "codeshell", "exaone", "minerva-7b", "deepseek-llm", "stablelm2", "hunyuan"]
        if llama3.contains(pre) { return try splits(LlamaPattern.llama3) }
        if qwen2.contains(pre) { return try splits(LlamaPattern.qwen2) }
        if others.contains(pre) { return ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true) }
        throw TokenizerError("unknown tokenizer.ggml.pre \"\(pre)\" (known to transformers' GGUF loader: \((llama3 + qwen2 + others).joined(separator: ", ")))")
    }

    /// Merges implied by a SentencePiece vocabulary (transformers' generate_merges with scores):
    /// every split of a token into two tokens, best score first.
    static func sentencePieceMerges(tokens: [[UInt8]], scores: [Double], vocab: Vocab) throws -> [([UInt8], [UInt8])] {
        var all: [([UInt8], [UInt8], Double, Int, Int, Int)] = []  // l, r, score, |l| chars, |r| chars, order
        for (i, tok) in tokens.enumerated() {
            let s = scalars(String(decoding: tok, as: UTF8.self))
            var local: [([UInt8], [UInt8], Int, Int)] = []
            for k in 1..<max(s.count, 1) {
                let l = utf8Bytes(Array(s[..<k])), r = utf8Bytes(Array(s[k...]))
                if let li = vocab.id(l), let ri = vocab.id(r) { local.append((l, r, li, ri)) }
            }
            local.sort { ($0.2, $0.3) < ($1.2, $1.3) }
            for (l, r, _, _) in local {
                all.append((l, r, i < scores.count ? scores[i] : 0, scalars(String(decoding: l, as: UTF8.self)).count,
                            scalars(String(decoding: r, as: UTF8.self)).count, all.count))
            }
        }
        // sorted(key=(score, len l, len r), reverse=True), stable
        all.sort { a, b in
            if a.2 != b.2 { return a.2 > b.2 }
            if a.3 != b.3 { return a.3 > b.3 }
            if a.4 != b.4 { return a.4 > b.4 }
            return a.5 < b.5
        }
        return all.map { ($0.0, $0.1) }
    }
}
