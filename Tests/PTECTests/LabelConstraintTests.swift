// The label constraint of the prompt-tuning baseline on toy tokens, and on SmolLM2's vocabulary (where
// "Specific nation(s); Media" is written with the merged token ");"): only "label(; label)*" then EOS,
// distinct labels, never a string that is not a label list.
import XCTest
import ToolTestSupport
@testable import PTECCore
@testable import Runtime

final class LabelConstraintTests: XCTestCase {
    // Labels "ab", "ac", "d"; tokens: 10 "a", 11 "b", 12 "c", 13 "d", 5 ";", 6 " ", 7 "; ", 20 " a", 23 " d",
    // 30 "b;" (a label's end merged with the separator), 40 "x"; EOS 2.
    let c = LabelConstraint(labels: ["ab", "ac", "d"], separator: "; ", eos: 2, pieces: Dictionary(uniqueKeysWithValues:
        [(10, "a"), (11, "b"), (12, "c"), (13, "d"), (5, ";"), (6, " "), (7, "; "), (20, " a"), (23, " d"), (30, "b;"), (40, "x")].map { ($0.0, ($0.1, $0.1)) }))

    func testStartsWithALabelAndEndsOnlyAfterOne() {
        XCTAssertEqual(c.allowed(after: []).tokens, [10, 13])
        XCTAssertEqual(c.allowed(after: [10]).tokens, [11, 12, 30])
        XCTAssertEqual(c.allowed(after: [10, 11]).tokens, [2, 5, 7])
    }

    func testMergedSeparatorTokensAndNoRepeats() {
        XCTAssertEqual(c.allowed(after: [10, 30]).tokens, [6, 20, 23])
        XCTAssertEqual(c.allowed(after: [10, 30, 20]).labels, [0], "a label is finished once the whole separator follows")
        XCTAssertEqual(c.allowed(after: [10, 11, 7, 10]).tokens, [12], "'ab' is used: only 'ac' is left to finish")
        XCTAssertEqual(c.allowed(after: [10, 11, 7, 10, 12, 7, 13]).tokens, [2], "every label used: only the end")
        XCTAssertEqual(c.allowed(after: [10, 11, 7, 10, 12, 7, 13, 2]).labels, [0, 1, 2])
    }

    func testNothingAfterEOSOrOffTheLanguage() {
        XCTAssertEqual(c.allowed(after: [13, 2]).tokens, [])
        XCTAssertEqual(c.allowed(after: [13, 2]).labels, [2])
        XCTAssertEqual(c.allowed(after: [40]).tokens, [])
    }

    /// Greedy decoding under the constraint with arbitrary scores never leaves the language.
    func testRandomChoicesAlwaysSpellDistinctLabels() {
        var state: UInt64 = 7
        for _ in 0..<500 {
            var out: [Int] = []
            while out.count < 30 {
                let allowed = c.allowed(after: out).tokens
                if allowed.isEmpty { break }
                state = state &* 6364136223846793005 &+ 1442695040888963407
                out.append(allowed[Int(state >> 33) % allowed.count])
                if out.last == 2 { break }
            }
            XCTAssertEqual(out.last, 2, "\(out)")
            let labels = c.allowed(after: out).labels
            XCTAssertFalse(labels.isEmpty)
            XCTAssertEqual(Set(labels).count, labels.count, "\(out)")
            XCTAssertNotNil(c.complete(c.text(out)), c.text(out))
        }
    }

    /// On SmolLM2's vocabulary the training target's own tokens are allowed, merged ");" included.
    func testTheTrainingTargetsTokensAreAllowedOnSmolLM2() throws {
        let tokenizer = try Tokenizer.load(path: Repo.smollm2)
        let labels = ["Specific nation(s)", "Media", "Towards law enforcement", "Neutral"]
        let eos = try XCTUnwrap(tokenizer.eosId)
        let c = try LabelConstraint.build(labels: labels, separator: "; ", tokenizer: tokenizer, eos: eos)
        for target in ["Specific nation(s); Media", "Media; Specific nation(s)", "Neutral", "Towards law enforcement; Neutral; Media"] {
            let ids = try tokenizer.encode(target, addSpecialTokens: false).ids + [eos]
            for i in 0..<ids.count {
                XCTAssertTrue(c.allowed(after: Array(ids[..<i])).tokens.contains(ids[i]), "\(target): token \(i) (\(ids[i])) refused")
            }
            XCTAssertEqual(c.allowed(after: ids).labels.map { labels[$0] }, target.components(separatedBy: "; "))
        }
        XCTAssertFalse(c.isPrefix("Media; Media;"), "a label twice")
        XCTAssertFalse(c.isPrefix("Social"), "not a label")
    }

    func testParsingIsExact() {
        let labels = ["Media", "Social Media", "Politics"]
        XCTAssertEqual(parseLabels("Social Media; Politics", labels: labels, separator: "; "), [1, 2])
        XCTAssertEqual(parseLabels("Social Media; Politics", labels: labels, separator: "; ", substring: true), [0, 1, 2])
        XCTAssertEqual(parseLabels("Politic; Media;Media", labels: labels, separator: "; "), [0])
    }
}
