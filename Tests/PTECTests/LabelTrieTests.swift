// The trie of the prompt-tuning baseline on toy ids: only "label (sep label)* eos" with distinct labels.
import XCTest
@testable import PTECCore

final class LabelTrieTests: XCTestCase {
    // Labels: A = [10, 11], B = [10, 12], C = [13]; after a label: sep 5 then " A" = [20, 11], " B" = [20, 12], " C" = [23].
    let trie = LabelTrie(first: [[10, 11], [10, 12], [13]], next: [[5, 20, 11], [5, 20, 12], [5, 23]], eos: 2)

    func testStartsWithAnyLabelAndEndsOnlyAfterOne() {
        XCTAssertEqual(trie.allowed(after: []).tokens, [10, 13])
        XCTAssertEqual(trie.allowed(after: [10]).tokens, [11, 12])
        XCTAssertEqual(trie.allowed(after: [10, 11]).tokens, [2, 5])
        XCTAssertEqual(trie.allowed(after: [10, 11]).labels, [])
    }

    func testAFinishedLabelCannotRepeat() {
        XCTAssertEqual(trie.allowed(after: [10, 11, 5]).tokens, [20, 23])
        XCTAssertEqual(trie.allowed(after: [10, 11, 5, 20]).tokens, [12])
        XCTAssertEqual(trie.allowed(after: [10, 11, 5, 20, 12]).labels, [0])
        XCTAssertEqual(trie.allowed(after: [10, 11, 5, 20, 12, 5]).tokens, [23])
        // All three used: only the end is left.
        XCTAssertEqual(trie.allowed(after: [10, 11, 5, 20, 12, 5, 23]).tokens, [2])
        XCTAssertEqual(trie.allowed(after: [10, 11, 5, 20, 12, 5, 23]).labels, [0, 1])
    }

    func testNothingAfterEOSOrOffTheTrie() {
        XCTAssertEqual(trie.allowed(after: [13, 2]).tokens, [])
        XCTAssertEqual(trie.allowed(after: [13, 2]).labels, [2])
        XCTAssertEqual(trie.allowed(after: [99]).tokens, [])
    }

    /// Greedy decoding under the trie with arbitrary scores never leaves the language.
    func testRandomScoresAlwaysSpellDistinctLabels() {
        var state: UInt64 = 7
        for _ in 0..<500 {
            var out: [Int] = []
            while out.count < 20 {
                let allowed = trie.allowed(after: out).tokens
                if allowed.isEmpty { break }
                state = state &* 6364136223846793005 &+ 1442695040888963407
                out.append(allowed[Int(state >> 33) % allowed.count])
                if out.last == 2 { break }
            }
            XCTAssertEqual(out.last, 2, "\(out)")
            let labels = trie.allowed(after: out).labels
            XCTAssertFalse(labels.isEmpty)
            XCTAssertEqual(Set(labels).count, labels.count, "\(out)")
        }
    }

    func testParsingIsExact() {
        let labels = ["Media", "Social Media", "Politics"]
        XCTAssertEqual(parseLabels("Social Media; Politics", labels: labels, separator: "; "), [1, 2])
        XCTAssertEqual(parseLabels("Social Media; Politics", labels: labels, separator: "; ", substring: true), [0, 1, 2])
        XCTAssertEqual(parseLabels("Politic; Media;Media", labels: labels, separator: "; "), [0])
    }
}
