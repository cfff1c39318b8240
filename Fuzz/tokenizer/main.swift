// Fuzz harness: a tokenizer.json built and used (the first byte picks what the rest is): either the
// whole input as tokenizer.json, encoding a few texts with it; or arbitrary bytes (as text) encoded,
// paired and decoded by a fixed WordPiece and a fixed Unigram tokenizer and by the small GGUF
// tokenizers of Fuzz/fixtures (every kind read from GGUF: byte-level BPE under several of llama.cpp's
// pre-tokenizers, gemma4, SentencePiece BPE, bert, t5; scripts/fixtures/fuzz_gguf_tokenizers.py).
import Foundation
import FuzzSupport
import Runtime

/// Fixed tokenizers (static members: main.swift's top-level code never runs under libFuzzer, whose
/// main takes its place, but statics are initialized on first use). Constants: parsing them cannot fail.
enum Fixtures {
static let wordPiece = try! Tokenizer(json: JSONValue(parsing: Array(#"""
{"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
 "vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"a":4,"##b":5,"ab":6,"hello":7,"world":8,"##s":9,"é":10}},
 "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
 "pre_tokenizer":{"type":"BertPreTokenizer"},
 "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
  "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},{"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],
  "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},
 "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
 "added_tokens":[{"id":0,"content":"[PAD]","special":true},{"id":1,"content":"[UNK]","special":true},{"id":2,"content":"[CLS]","special":true},{"id":3,"content":"[SEP]","special":true}]}
"""#.utf8)))
static let unigram = try! Tokenizer(json: JSONValue(parsing: Array(#"""
{"model":{"type":"Unigram","unk_id":0,"byte_fallback":true,"vocab":[["<unk>",0],["▁",-1.5],["▁a",-2.0],["b",-2.5],["▁hello",-3.0],["<0x41>",-9],["<0xC3>",-9],["<0xA9>",-9]]},
 "normalizer":{"type":"NFKC"},"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},
 "decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}}
"""#.utf8)))
static let gguf: [Tokenizer] = {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../fixtures").standardized
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    let toks = files.filter { $0.hasSuffix(".gguf") }.sorted().compactMap { try? Tokenizer.load(path: dir.appendingPathComponent($0).path) }
    precondition(toks.count >= 11, "Fuzz/fixtures: \(toks.count) GGUF tokenizers loaded")  // invariant: the committed fixtures load
    return toks
}()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ pointer: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data = pointer else { return 0 }
    let bytes = fuzzBytes(data, size)
    guard let mode = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    if mode & 1 == 0 {
        guard let json = try? JSONValue(parsing: rest), let tok = try? Tokenizer(json: json) else { return 0 }
        for text in ["Hello, world!", "héllo 世界 ﬁ", "", "  a  b  ", "[CLS] x"] {
            if let e = try? tok.encode(text) { _ = tok.decode(e.ids) }
        }
        _ = try? tok.encode("one", pair: "two")
    } else {
        let text = String(decoding: rest, as: UTF8.self)
        // The first byte's other bits pick one fixed tokenizer, so each run costs one encoding.
        let all = [Fixtures.wordPiece, Fixtures.unigram] + Fixtures.gguf
        for tok in [all[Int(mode >> 1) % all.count]] {
            if let e = try? tok.encode(text) { _ = tok.decode(e.ids); _ = tok.decode(e.ids, skipSpecialTokens: false) }
            _ = try? tok.encode(text, pair: text)
        }
    }
    return 0
}

runFuzzer(fuzzTokenizer)
