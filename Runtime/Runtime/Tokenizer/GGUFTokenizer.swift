// GGUFTokenizer: the tokenizer stored in a llama.cpp GGUF file's metadata, built the way transformers
// builds it (integrations/ggml.py), so the ids match `AutoTokenizer.from_pretrained(dir, gguf_file=)`.
//
// tokenizer.ggml.model "gpt2": byte-level BPE over tokenizer.ggml.tokens/merges; the pre-tokenizer
// is chosen by tokenizer.ggml.pre. By default as transformers does: llama3/llama-bpe/... get
// Llama-3's split, qwen2/... Qwen2's, every other name llama.cpp knows (gpt-2, default, smollm,
// deepseek-llm, ...) GPT-2's ByteLevel regex. With `llamaCpp: true`, llama.cpp's own regexes
// (llama-vocab.cpp): smollm splits digits one by one first (as SmolLM's own tokenizer.json does),
// deepseek-llm uses its five splits, llama3 ignores merges, "default" its four splits. A name neither
// knows is an error naming it. "llama": SentencePiece BPE (scores -> merges as transformers
// derives them when the file has none), byte fallback <0xXX>, Metaspace with add_space_prefix.
// Tokens typed CONTROL (3) become special added tokens, USER_DEFINED (4) plain added tokens;
// bos/eos/unk/pad ids and add_bos/add_eos shape the post-processor.
import Foundation

extension Tokenizer {
    /// The tokenizer of a GGUF file; `llamaCpp` picks llama.cpp's pre-tokenizer regexes over transformers'.
    public static func fromGGUF(path: String, llamaCpp: Bool = false) throws -> Tokenizer {
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
        let merges: [([UInt8], [UInt8])]? = try md["tokenizer.ggml.merges"]?.array.map { arr in
            try arr.map { v in
                let b = v.bytes ?? []
                guard let sp = b.firstIndex(of: 32) else { throw TokenizerError("merge without a space") }
                return (Array(b[..<sp]), Array(b[(sp + 1)...]))
            }
        }
        // A special token id outside the vocabulary is ignored, as llama.cpp does (with a warning).
        func id(_ k: String) -> Int? { md["tokenizer.ggml.\(k)"]?.int.flatMap { $0 >= 0 && $0 < tokens.count ? $0 : nil } }
        let vocab = Vocab()
        let t: Tokenizer
        var addBos: Bool
        switch kind {
        case "gpt2":
            // Tokens outside the byte alphabet are respelled in it (transformers' byte_level_tokenizer).
            for (i, tok) in tokens.enumerated() {
                let chars = scalars(String(decoding: tok, as: UTF8.self))
                let ok = chars.allSatisfy { $0 < 324 && ByteLevel.charToByte[Int($0)] >= 0 }
                vocab.insert(ok ? tok : utf8Bytes(tok.map { ByteLevel.byteToChar[Int($0)] }), id: i)
            }
            let model = try BPEModel(vocab: vocab, merges: merges ?? [], unkToken: nil, prefix: nil, suffix: nil,
                                     fuseUnk: false, byteFallback: false, ignoreMerges: false)
            t = Tokenizer(model: model)
            let pre = md["tokenizer.ggml.pre"]?.string ?? "gpt-2"
            t.preTokenizer = try ggufPreTokenizer(pre, model: model, llamaCpp: llamaCpp)
            t.decoder = ByteLevelDecoder()
            addBos = md["tokenizer.ggml.add_bos_token"]?.bool ?? false
        case "llama":
            for (i, tok) in tokens.enumerated() { vocab.insert(tok, id: i) }
            let scores = md["tokenizer.ggml.scores"]?.array?.map { $0.double ?? 0 } ?? []
            let m = try merges ?? sentencePieceMerges(tokens: tokens, scores: scores, vocab: vocab)
            let unk = id("unknown_token_id").flatMap { vocab.string($0) } ?? "<unk>"
            let model = try BPEModel(vocab: vocab, merges: m, unkToken: unk, prefix: nil, suffix: nil,
                                     fuseUnk: true, byteFallback: true, ignoreMerges: false)
            t = Tokenizer(model: model)
            let prefix = md["tokenizer.ggml.add_space_prefix"]?.bool ?? true
            t.preTokenizer = MetaspacePreTokenizer(replacement: 0x2581, scheme: prefix ? "first" : "never", split: false)
            var steps: [TokenDecoder] = [ReplaceDecoder(pattern: LiteralPattern([0x2581]), content: [32]), ByteFallbackDecoder(), FuseDecoder()]
            if prefix { steps.append(StripDecoder(content: " ", start: 1, stop: 0)) }
            t.decoder = SequenceDecoder(items: steps)
            addBos = md["tokenizer.ggml.add_bos_token"]?.bool ?? true
        default:
            throw TokenizerError("unsupported tokenizer.ggml.model \"\(kind)\" (known: gpt2, llama)")
        }
        // Added tokens: bos/eos/unk/pad (transformers registers them as special tokens), CONTROL as
        // special, USER_DEFINED as plain.
        var added: [AddedToken] = []
        for k in ["bos_token_id", "eos_token_id", "unknown_token_id", "padding_token_id"] {
            if let i = id(k), let s = vocab.string(i), !added.contains(where: { $0.id == i }) {
                added.append(AddedToken(content: s, id: i, special: true, normalized: false))
            }
        }
        for (i, ty) in types.enumerated() where i < tokens.count && (ty == 3 || ty == 4) && !added.contains(where: { $0.id == i }) {
            let content = vocab.string(i) ?? ""
            if ty == 3 && kind == "gpt2" && !scalars(content).allSatisfy({ $0 < 324 && ByteLevel.charToByte[Int($0)] >= 0 }) { continue }
            added.append(AddedToken(content: content, id: i, special: ty == 3, normalized: false))
        }
        t.setAddedTokens(added)
        t.bosId = id("bos_token_id"); t.eosId = id("eos_token_id"); t.unkId = id("unknown_token_id"); t.padId = id("padding_token_id")
        let addEos = md["tokenizer.ggml.add_eos_token"]?.bool ?? false
        if t.bosId == nil { addBos = false }
        var single: [TemplateProcessing.Piece] = [], pair: [TemplateProcessing.Piece] = []
        var specials: [String: ([Int], [String])] = [:]
        let bos = t.bosId.flatMap { vocab.string($0) } ?? "", eos = t.eosId.flatMap { vocab.string($0) } ?? ""
        if addBos { single.append(.special(bos, 0)); specials[bos] = ([t.bosId!], [bos]) }  // invariant: addBos implies bosId
        single.append(.seq(0, 0))
        if addEos, let e = t.eosId { single.append(.special(eos, 0)); specials[eos] = ([e], [eos]) }
        pair = single
        if addBos { pair.append(.special(bos, 1)) }
        pair.append(.seq(1, 1))
        if addEos, t.eosId != nil { pair.append(.special(eos, 1)) }
        t.postProcessor = try TemplateProcessing(single: single, pair: pair, specials: specials)
        return t
    }

    /// llama.cpp's pre-tokenizer for tokenizer.ggml.pre, as a Split sequence ending in ByteLevel.
    static func ggufPreTokenizer(_ pre: String, model: BPEModel, llamaCpp: Bool) throws -> PreTokenizer {
        let byteLevel = ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: false)
        let gpt2 = ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true)
        func splits(_ res: [String]) throws -> PreTokenizer {
            SequencePreTokenizer(items: try res.map { PatternPreTokenizer(pattern: try makeSplitPattern(regex: $0), behavior: .isolated, invert: false) } + [byteLevel])
        }
        let llama3 = ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano", "dbrx", "smaug-bpe"]
        let qwen2 = ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez"]
        let others = ["gpt-2", "gpt2", "default", "phi-2", "mpt", "olmo", "jais", "roberta-bpe", "smollm", "starcoder", "refact",
                      "command-r", "codeshell", "exaone", "minerva-7b", "deepseek-llm", "stablelm2", "hunyuan"]
        if !llamaCpp {
            if llama3.contains(pre) { return try splits([LlamaPattern.llama3]) }
            if qwen2.contains(pre) { return try splits([LlamaPattern.qwen2]) }
            if others.contains(pre) { return gpt2 }
            throw TokenizerError("unknown tokenizer.ggml.pre \"\(pre)\" (known: \((llama3 + qwen2 + others).joined(separator: ", ")))")
        }
        switch pre {
        case "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais", "roberta-bpe":
            return gpt2
        case "default":
            return try splits(["[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2Pattern.source, "\\p{N}+", "[0-9][0-9][0-9]"])
        case _ where llama3.contains(pre):
            model.ignoreMerges = true
            return try splits([LlamaPattern.llama3])
        case _ where qwen2.contains(pre), "stablelm2", "hunyuan":
            return try splits([LlamaPattern.qwen2])
        case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b":
            return SequencePreTokenizer(items: [CharSplitPreTokenizer(behavior: .isolated) { UChar.isNumber($0) },
                                                ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true)])
        case "deepseek-llm":
            // The letter ranges as llama.cpp spells them; six code points are written as escapes because
            // they have singleton canonical decompositions (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126,
            // U+212A) and would otherwise be at the mercy of any tool that normalizes this file.
            return try splits(["[\r\n]",
                "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u{1F7D}ᾀ-ᾴᾶ-ᾼ\u{1FBE}ῂ-ῄῆ-ῌῐ-\u{1FD3}ῖ-\u{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u{2126}ℨ\u{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ\u{10400}-\u{1044F}𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
                "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", "[一-龥ࠀ-一가-퟿]+", "\\p{N}+"])
        default:
            throw TokenizerError("unknown tokenizer.ggml.pre \"\(pre)\" (known: gpt-2, default, llama3, llama-bpe, smollm, qwen2, deepseek-llm, ...)")
        }
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
