// Tokenizer parity (tier 2): every corpus line through each tokenizer, compared with what Hugging
// Face's tokenizers (and transformers, for the GGUF) produced: ids exactly, offsets, pair encodings,
// and decode(encode(x)). Fixtures come from scripts/fixtures/tokenizers.py; the MiniLM and SmolLM2
// cases read data/models/ (filled by `make models`).
import Foundation
import XCTest
@testable import Runtime

final class TokenizerParityTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("data/fixtures/tokenizers")

    static func jsonl(_ name: String, in directory: URL = fixtures) throws -> [JSONValue] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONValue(parsing: [UInt8]($0)) }
    }

    static let corpus: [String] = (try? jsonl("corpus.jsonl").map { $0.stringValue! }) ?? []

    func ints(_ v: JSONValue?) -> [Int] { (v?.arrayValue ?? []).map { try! $0.numberValue!.int() } }

    /// [gap, len, gap, len...] back to (start, end) pairs.
    func offsets(_ v: JSONValue?) -> [Int] {
        let f = ints(v)
        var out: [Int] = [], prev = 0
        for k in stride(from: 0, to: f.count, by: 2) { let s = prev + f[k], e = s + f[k + 1]; out += [s, e]; prev = e }
        return out
    }

    func flat(_ e: Encoding) -> [Int] { e.offsets.flatMap { [$0.0, $0.1] } }

    /// `offsets: false` only where HF's offsets are known to be off (see testBPEByteFallback).
    func check(_ name: String, _ tok: Tokenizer, offsets checkOffsets: Bool = true, in directory: URL = TokenizerParityTests.fixtures,
               file: StaticString = #filePath, line: UInt = #line) throws {
        tok.truncation = nil
        tok.padding = nil
        let expected = try Self.jsonl(name + ".jsonl", in: directory)
        XCTAssertEqual(expected.count, Self.corpus.count)
        XCTAssertGreaterThanOrEqual(Self.corpus.count, 1000)
        var bad = 0, badOffsets = 0, badDecode = 0, badPair = 0
        for (i, (text, exp)) in zip(Self.corpus, expected).enumerated() {
            let enc = try tok.encode(text)
            let ids = ints(exp["ids"])
            if enc.ids != ids {
                bad += 1
                if bad <= 5 { print("\(name) line \(i + 1) \(text.debugDescription)\n  ours: \(enc.ids)\n  HF:   \(ids)") }
                continue
            }
            if checkOffsets && flat(enc) != offsets(exp["offsets"]) {
                badOffsets += 1
                if badOffsets <= 5 { print("\(name) line \(i + 1) offsets \(text.debugDescription)\n  ours: \(flat(enc))\n  HF:   \(offsets(exp["offsets"]))") }
            }
            let decoded = tok.decode(enc.ids)
            let want = exp["decoded"]?.stringValue ?? text
            if Array(decoded.unicodeScalars) != Array(want.unicodeScalars) {
                badDecode += 1
                if badDecode <= 5 { print("\(name) line \(i + 1) decode\n  ours: \(decoded.debugDescription)\n  HF:   \(want.debugDescription)") }
            }
            if let p = exp["pair"] {
                let pe = try tok.encode(text, pair: Self.corpus[(i + 1) % Self.corpus.count])
                if pe.ids != ints(p["ids"]) || pe.typeIds != ints(p["type_ids"]) || pe.specialTokensMask != ints(p["special"])
                    || (checkOffsets && flat(pe) != offsets(p["offsets"])) {
                    badPair += 1
                    if badPair <= 3 { print("\(name) line \(i + 1) pair\n  ours: \(pe.ids) \(pe.typeIds) \(flat(pe))\n  HF:   \(ints(p["ids"])) \(ints(p["type_ids"])) \(offsets(p["offsets"]))") }
                }
            }
        }
        print("\(name): \(Self.corpus.count) lines, \(bad) id mismatches, \(badOffsets) offset, \(badDecode) decode, \(badPair) pair")
        XCTAssertEqual(bad, 0, "\(name): ids differ on \(bad) lines", file: file, line: line)
        XCTAssertEqual(badOffsets, 0, "\(name): offsets differ on \(badOffsets) lines", file: file, line: line)
        XCTAssertEqual(badDecode, 0, "\(name): decode differs on \(badDecode) lines", file: file, line: line)
        XCTAssertEqual(badPair, 0, "\(name): pair encodings differ on \(badPair) lines", file: file, line: line)
    }

    /// XLM-R's and DeBERTa-v3's SentencePiece-Unigram pipelines (scripts/fixtures/encoders.py).
    func testXLMRAndDeBERTaV3Unigram() throws {
        let dir = Self.root.appendingPathComponent("data/fixtures/encoders/tokenizers")
        for name in ["xlmr", "deberta_v3"] {
            try check(name, Tokenizer.load(path: dir.appendingPathComponent(name + ".tokenizer.json").path), in: dir)
        }
    }

    func testMiniLMWordPiece() throws {
        try check("minilm", Tokenizer.load(path: Self.root.appendingPathComponent("data/models/all-MiniLM-L6-v2").path))
    }

    /// The GGUF as llama.cpp reads it (our default) equals SmolLM2's original tokenizer, which splits
    /// digits one by one (scripts/fixtures/smollm2_original.py); 9 of the corpus lines encode otherwise
    /// under transformers' GGUF conversion, which the next test checks against transformers.
    func testSmolLM2FromGGUF() throws {
        try check("smollm2_original", Tokenizer.load(path: Self.root.appendingPathComponent("data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf").path))
    }

    func testSmolLM2FromGGUFAsTransformers() throws {
        try check("smollm2", Tokenizer.fromGGUF(path: Self.root.appendingPathComponent("data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf").path, llamaCpp: false))
    }

    func testSmolLM2FromTokenizerJSON() throws {
        try check("smollm2", Tokenizer.load(path: Self.fixtures.appendingPathComponent("smollm2.tokenizer.json").path))
    }

    /// tokenizer.ggml.model "llama": SentencePiece BPE with merges derived from scores, byte fallback,
    /// as transformers builds it (llama.cpp's convention is checked by llama.cpp's own suite).
    func testSentencePieceBPEFromGGUF() throws {
        try check("llama_spm", Tokenizer.fromGGUF(path: Self.fixtures.appendingPathComponent("llama-spm.gguf").path, llamaCpp: false))
    }

    func testUnigramPrecompiled() throws {
        try check("unigram", Tokenizer.load(path: Self.fixtures.appendingPathComponent("unigram.tokenizer.json").path))
    }

    func testUnigramByteFallback() throws {
        try check("unigram_bytes", Tokenizer.load(path: Self.fixtures.appendingPathComponent("unigram_bytes.tokenizer.json").path))
    }

    func testBPEWordLevelAddedTokens() throws {
        try check("bpe", Tokenizer.load(path: Self.fixtures.appendingPathComponent("bpe.tokenizer.json").path))
    }

    /// Offsets are not compared: for a byte-fallback token after the first char of a word, HF counts
    /// the bytes of continuing_subword_prefix too, so its offsets run past the word (an HF quirk);
    /// ours give each byte token the range of the char it came from.
    func testBPEByteFallback() throws {
        try check("bpe_bytes", Tokenizer.load(path: Self.fixtures.appendingPathComponent("bpe_bytes.tokenizer.json").path), offsets: false)
    }

    /// The tokenizer's own truncation and padding on a batch of the first 64 lines.
    func testConfiguredTruncationAndPadding() throws {
        for (name, path) in [("minilm", "data/models/all-MiniLM-L6-v2/tokenizer.json"), ("bpe", "data/fixtures/tokenizers/bpe.tokenizer.json")] {
            let tok = try Tokenizer.load(path: Self.root.appendingPathComponent(path).path)
            let got = try tok.encodeBatch(Array(Self.corpus.prefix(64)))
            let want = try Self.jsonl(name + ".padded.jsonl")
            var bad = 0
            for (i, (g, w)) in zip(got, want).enumerated() where g.ids != ints(w["ids"]) || g.attentionMask != ints(w["mask"])
                || g.typeIds != ints(w["type_ids"]) || g.specialTokensMask != ints(w["special"]) {
                bad += 1
                if bad <= 3 { print("\(name) padded line \(i + 1)\n  ours: \(g.ids) \(g.attentionMask)\n  HF:   \(ints(w["ids"])) \(ints(w["mask"]))") }
            }
            XCTAssertEqual(bad, 0, "\(name): \(bad) padded encodings differ")
        }
    }
}
