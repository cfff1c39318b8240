// Long texts under right-side truncation are tokenized from a prefix (Tokenizer.encode(_:keepOverflow:
// false)): the kept tokens must equal those of the whole text, for every tokenizer kind the toolkit
// ships (WordPiece, byte-level BPE, SentencePiece Unigram, MPNet's WordPiece) and for texts with and
// without spaces; and the prefix path must actually be taken for them.
import Foundation
import XCTest
@testable import Runtime

final class TokenizerPrefixTests: XCTestCase {
    typealias P = TokenizerParityTests

    func texts() throws -> [(String, String)] {
        let sst = try String(contentsOf: P.root.appendingPathComponent("data/sst2/dev.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { line -> String? in
                (try? JSONValue(parsing: [UInt8](line.utf8)))?["text"]?.stringValue
            }
        let english = sst.joined(separator: " ")                    // about 100 kB
        let cjk = String(repeating: "東京は日本の首都であり、人口が最も多い都市です。", count: 4000)
        let mixed = String(repeating: "naïve café—déjà vu! 1,234.5 e-mail  \t tabs\n\nnew línea ", count: 3000)
        return [("english", english), ("no spaces", cjk), ("mixed", mixed)]
    }

    func testPrefixEqualsWholeTextForEveryTokenizerKind() throws {
        let models = ["all-MiniLM-L6-v2", "SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf", "multilingual-e5-small", "all-mpnet-base-v2"]
        for name in models {
            let t = try Tokenizer.load(path: P.root.appendingPathComponent("data/models/\(name)").path)
            for maxLength in [16, 128, 512] {
                t.truncation = Truncation(maxLength: maxLength)
                for (what, text) in try texts() {
                    var whole = try t.encode(text)
                    whole.overflowing = []
                    let fast = try t.encode(text, keepOverflow: false)
                    XCTAssertEqual(fast, whole, "\(name) \(what) max \(maxLength)")
                    if what == "english" {
                        XCTAssertNotNil(try t.prefixEncoding(text, addSpecialTokens: true, truncation: t.truncation!), "\(name): prefix path taken")
                    }
                }
            }
            // Short texts and left truncation go the whole way.
            t.truncation = Truncation(maxLength: 8, left: true)
            let text = try texts()[0].1
            var whole = try t.encode(text)
            whole.overflowing = []
            XCTAssertEqual(try t.encode(text, keepOverflow: false), whole, "\(name) left")
            t.truncation = Truncation(maxLength: 8)
            XCTAssertNil(try t.prefixEncoding("a short text", addSpecialTokens: true, truncation: t.truncation!))
        }
    }
}
