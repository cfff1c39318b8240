// Tokenizer components against Hugging Face, one option at a time: every normalizer, pre-tokenizer
// and decoder configuration in components.jsonl on the same probe strings, and the hand-built
// tokenizer.json files of tiny.jsonl (post-processors, added-token options, truncation, padding).
// Also: the hand-written split matchers against ICU's regex engine on the whole corpus, and errors.
import Foundation
import XCTest
@testable import Runtime

final class TokenizerComponentTests: XCTestCase {
    typealias P = TokenizerParityTests

    func strs(_ v: JSONValue?) -> [String] { (v?.arrayValue ?? []).map { $0.stringValue ?? "" } }
    func ints(_ v: JSONValue?) -> [Int] { (v?.arrayValue ?? []).map { try! $0.numberValue!.int() } }
    func same(_ a: String, _ b: String) -> Bool { Array(a.unicodeScalars) == Array(b.unicodeScalars) }

    func testNormalizersPreTokenizersDecoders() throws {
        let lines = try P.jsonl("components.jsonl")
        let inputs = strs(lines[0]["inputs"])
        let tokenLists = (lines[0]["tokens"]?.arrayValue ?? []).map { strs($0) }
        var failures = 0
        for l in lines.dropFirst() {
            let cfg = l["config"]!
            let outs = l["outputs"]?.arrayValue ?? []
            switch l["kind"]?.stringValue {
            case "normalizer":
                let n = try makeNormalizer(cfg)!
                for (s, want) in zip(inputs, outs) {
                    var t = NormalizedText(scalars(s), from: 0)
                    n.normalize(&t)
                    if !same(t.string, want.stringValue!) {
                        failures += 1
                        if failures < 20 { print("normalizer \(cfg)\n  in: \(s.debugDescription)\n  ours: \(t.string.debugDescription)\n  HF:   \(want.stringValue!.debugDescription)") }
                    }
                }
            case "pre_tokenizer":
                let p = try makePreTokenizer(cfg)!
                for (s, want) in zip(inputs, outs) {
                    let pieces = p.split(NormalizedText(scalars(s), from: 0), isFirst: true)
                    let ours = pieces.map { q -> String in let (a, b) = q.originalRange(0, q.count); return "\(q.string)|\(a)|\(b)" }
                    let hf = (want.arrayValue ?? []).map { "\($0[0]!.stringValue!)|\(try! $0[1]!.numberValue!.int())|\(try! $0[2]!.numberValue!.int())" }
                    if ours.map({ Array($0.unicodeScalars) }) != hf.map({ Array($0.unicodeScalars) }) {
                        failures += 1
                        if failures < 20 { print("pre_tokenizer \(cfg)\n  in: \(s.debugDescription)\n  ours: \(ours)\n  HF:   \(hf)") }
                    }
                }
            case "decoder":
                let d = try makeDecoder(cfg)!
                for (toks, want) in zip(tokenLists, outs) {
                    let ours = d.chain(toks).joined()
                    if !same(ours, want.stringValue!) {
                        failures += 1
                        if failures < 20 { print("decoder \(cfg)\n  in: \(toks)\n  ours: \(ours.debugDescription)\n  HF:   \(want.stringValue!.debugDescription)") }
                    }
                }
            default: XCTFail("unknown kind")
            }
        }
        XCTAssertEqual(failures, 0)
    }

    func testTinyTokenizers() throws {
        var failures = 0
        for l in try P.jsonl("tiny.jsonl") {
            let name = l["name"]!.stringValue!
            let tok = try Tokenizer(json: l["tokenizer"]!)
            for c in l["cases"]?.arrayValue ?? [] {
                let text = c["text"]!.stringValue!, pair = c["pair"]?.stringValue
                let add = c["add_special_tokens"]!.boolValue!
                let what = "\(name): \(text.debugDescription) + \(pair.debugDescription) special=\(add)"
                guard c["error"] == nil else {
                    XCTAssertThrowsError(try tok.encode(text, pair: pair, addSpecialTokens: add), what)
                    continue
                }
                let e = try tok.encode(text, pair: pair, addSpecialTokens: add)
                let offs = (c["offsets"]?.arrayValue ?? []).flatMap { ints($0) }
                var diffs: [String] = []
                if e.ids != ints(c["ids"]) { diffs.append("ids \(e.ids) vs \(ints(c["ids"]))") }
                if e.tokens != strs(c["tokens"]) { diffs.append("tokens \(e.tokens) vs \(strs(c["tokens"]))") }
                if e.offsets.flatMap({ [$0.0, $0.1] }) != offs { diffs.append("offsets \(e.offsets) vs \(offs)") }
                if e.typeIds != ints(c["type_ids"]) { diffs.append("type_ids \(e.typeIds) vs \(ints(c["type_ids"]))") }
                if e.specialTokensMask != ints(c["special"]) { diffs.append("special \(e.specialTokensMask) vs \(ints(c["special"]))") }
                if e.attentionMask != ints(c["mask"]) { diffs.append("mask \(e.attentionMask) vs \(ints(c["mask"]))") }
                if pair == nil, e.overflowing.map(\.ids) != (c["overflowing"]?.arrayValue ?? []).map({ ints($0) }) {
                    diffs.append("overflowing \(e.overflowing.map(\.ids)) vs \(c["overflowing"]!)")
                }
                if !same(tok.decode(e.ids), c["decoded"]!.stringValue!) { diffs.append("decoded \(tok.decode(e.ids).debugDescription) vs \(c["decoded"]!)") }
                if !same(tok.decode(e.ids, skipSpecialTokens: false), c["decoded_all"]!.stringValue!) {
                    diffs.append("decoded_all \(tok.decode(e.ids, skipSpecialTokens: false).debugDescription) vs \(c["decoded_all"]!)")
                }
                if !diffs.isEmpty { failures += 1; if failures < 15 { print(what + "\n  " + diffs.joined(separator: "\n  ")) } }
            }
            // A batch (pairs), padded as the tokenizer says.
            if let want = l["batch"]?.arrayValue {
                let tiny: [(String, String?)] = (l["cases"]?.arrayValue ?? []).enumerated().compactMap { k, c in
                    k % 2 == 0 ? (c["text"]!.stringValue!, c["pair"]?.stringValue ?? "the cat") : nil
                }
                let encs = try tok.encodeBatch(tiny.map(\.0), pairs: tiny.map { $0.1 ?? "" })
                XCTAssertEqual(encs.map(\.ids), want.map { ints($0) }, "\(name): batch")
            }
        }
        XCTAssertEqual(failures, 0)
    }

    /// The hand-written matchers find exactly what ICU's engine finds, on every corpus line (\\w: ICU
    /// counts Join_Control as a word char like Rust's regex, so the Whitespace variant is compared).
    func testFastMatchersAgreeWithICU() throws {
        let pairs: [(SplitPattern, String)] = [
            (GPT2Pattern(), GPT2Pattern.source), (LlamaPattern(maxDigits: 3), LlamaPattern.llama3),
            (LlamaPattern(maxDigits: 1), LlamaPattern.qwen2), (WordPattern(joinControl: true), WordPattern.source),
        ]
        let extra = ["'S 'ſ 'LL 'Re x'd", "a\u{85}b\u{a0}c\u{2028}d  \n\n e", "\u{3000}x \u{1680}y", "\r\n\r\n  \r x", "12345 ١٢٣٤٥ ²³"]
        for (fast, source) in pairs {
            let icu = try ICUPattern(source)
            var bad = 0
            for line in P.corpus + extra {
                let s = scalars(line)
                let a = fast.matches(s), b = icu.matches(s)
                if a.map({ [$0.0, $0.1] }) != b.map({ [$0.0, $0.1] }) {
                    bad += 1
                    if bad <= 3 { print("\(source)\n  \(line.debugDescription)\n  fast: \(a)\n  ICU:  \(b)") }
                }
            }
            XCTAssertEqual(bad, 0, source)
        }
    }

    func testUnknownComponentsAreErrorsNamingThem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = #"{"model": {"type": "WordPiece", "vocab": {"a": 0, "[UNK]": 1}}"#
        for (extra, name) in [(#", "normalizer": {"type": "Frobnicate"}"#, "Frobnicate"), (#", "pre_tokenizer": {"type": "Chop"}"#, "Chop"),
                              (#", "decoder": {"type": "Undo"}"#, "Undo"), (#", "post_processor": {"type": "Wrap"}"#, "Wrap")] {
            let f = dir.appendingPathComponent("tokenizer.json")
            try (base + extra + "}").write(to: f, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try Tokenizer.load(path: dir.path)) { e in
                let msg = "\(e)"
                XCTAssertTrue(msg.contains(name) && msg.contains(f.path), msg)
            }
        }
        let f = dir.appendingPathComponent("m.json")
        try #"{"model": {"type": "WordLevel", "vocab": {}}}"#.write(to: f, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Tokenizer.load(path: f.path)) { XCTAssertTrue("\($0)".contains("WordLevel"), "\($0)") }
        XCTAssertThrowsError(try Tokenizer.load(path: dir.appendingPathComponent("missing.json").path)) { XCTAssertTrue("\($0)".contains("missing.json")) }
    }

    /// Byte-keyed vocabulary: precomposed and decomposed "é" stay two tokens.
    func testVocabularyKeepsCanonicallyEquivalentTokensApart() throws {
        let j = try JSONValue(parsing: #"{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "caf\u00e9": 1, "cafe\u0301": 2}}, "pre_tokenizer": {"type": "WhitespaceSplit"}}"#)
        let tok = try Tokenizer(json: j)
        XCTAssertEqual(try tok.encode("caf\u{e9} cafe\u{301}").ids, [1, 2])
        XCTAssertEqual(tok.tokenToId("cafe\u{301}"), 2)
        XCTAssertEqual(tok.idToToken(1).map { Array($0.unicodeScalars) }, Array("caf\u{e9}".unicodeScalars))
        XCTAssertEqual(tok.vocabSize, 3)
    }
}
