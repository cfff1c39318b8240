// Tokenizer API: special token ids, explicit truncation and padding, batches, word ids, and the
// GGUF pre-tokenizer choice (transformers' by default, llama.cpp's on request).
import Foundation
import XCTest
@testable import Runtime

final class TokenizerAPITests: XCTestCase {
    typealias P = TokenizerParityTests
    let minilm = P.root.appendingPathComponent("data/models/all-MiniLM-L6-v2").path
    let smol = P.root.appendingPathComponent("data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf").path

    func testSpecialTokenIdsAndVocabulary() throws {
        let t = try Tokenizer.load(path: minilm)
        XCTAssertEqual([t.clsId, t.sepId, t.padId, t.unkId], [101, 102, 0, 100])
        XCTAssertEqual(t.vocabSize, 30522)
        XCTAssertEqual(t.tokenToId("hello"), 7592)
        XCTAssertEqual(t.idToToken(7592), "hello")
        let s = try Tokenizer.load(path: smol)
        XCTAssertEqual([s.bosId, s.eosId, s.unkId, s.padId], [1, 2, 0, 2])
        XCTAssertEqual(s.vocabSize, 49152)
        XCTAssertEqual(s.decode(try s.encode("<|im_start|>user\nhi").ids, skipSpecialTokens: false), "<|im_start|>user\nhi")
        XCTAssertEqual(s.decode(try s.encode("<|im_start|>user\nhi").ids), "user\nhi")
    }

    func testExplicitTruncationPaddingAndBatch() throws {
        let t = try Tokenizer.load(path: minilm)
        t.truncation = Truncation(maxLength: 6)
        t.padding = Padding(padToMultipleOf: 4, padId: 0, padToken: "[PAD]")
        let e = try t.encode("the quick brown fox jumps over the lazy dog")
        XCTAssertEqual(e.ids, [101, 1996, 4248, 2829, 4419, 102, 0, 0])  // 6 tokens, padded to 8 (all values from HF)
        XCTAssertEqual(e.attentionMask, [1, 1, 1, 1, 1, 1, 0, 0])
        XCTAssertEqual(e.specialTokensMask, [1, 0, 0, 0, 0, 1, 1, 1])
        XCTAssertEqual(e.wordIds, [nil, 0, 1, 2, 3, nil, nil, nil])
        // As HF: the cut-off windows get the special tokens and the padding too.
        XCTAssertEqual(e.overflowing.map(\.ids), [[101, 14523, 2058, 1996, 13971, 102, 0, 0], [101, 3899, 102, 0, 0, 0, 0, 0]])
        t.truncation = Truncation(maxLength: 5, left: true)
        t.padding = Padding(left: true)
        let b = try t.encodeBatch(["a b c d e f", "hello"])
        XCTAssertEqual(b.map(\.ids), [[101, 1040, 1041, 1042, 102], [0, 0, 101, 7592, 102]])  // values from HF
    }

    func testGGUFPreTokenizerChoice() throws {
        let hf = try Tokenizer.fromGGUF(path: smol, llamaCpp: false)
        let cpp = try Tokenizer.load(path: smol)
        // llama.cpp's smollm (as SmolLM2's own tokenizer.json) splits digits first, so "\r\n" stays one
        // piece before "2004"; transformers' GGUF loader uses GPT-2's regex alone.
        let text = "offers\r\n2004"
        XCTAssertNotEqual(try hf.encode(text).ids, try cpp.encode(text).ids)
        XCTAssertEqual(try cpp.encode("abc 123").tokens, ["abc", "\u{120}", "1", "2", "3"])
        XCTAssertThrowsError(try Tokenizer.transformersPreTokenizer("no-such-pre")) { XCTAssertTrue("\($0)".contains("no-such-pre")) }
        XCTAssertNil(try LlamaCppPre.choice("no-such-pre"))
        // Every name llama.cpp knows compiles and splits (ICU runs the regexes without a fast path).
        XCTAssertGreaterThanOrEqual(LlamaCppPre.knownNames.count, 90)
        for pre in LlamaCppPre.knownNames {
            let c = try XCTUnwrap(try LlamaCppPre.choice(pre), pre)
            let pieces = c.preTokenizer.split(NormalizedText(scalars("Hello, world 12345\r\n\u{4F60}\u{597D} it's"), from: 0), isFirst: true)
            XCTAssertGreaterThan(pieces.count, 1, pre)
        }
    }
}
