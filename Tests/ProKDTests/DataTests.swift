// Reading CoNLL data as prokd does (the runtime's readTaggedSentences): CoNLL-2003's IOB1 tags become
// IOB2, CoNLL-2002 Dutch's -DOCSTART- lines without a blank line after them are dropped, target data
// is read without its tags (a word-only column works), and word encoding marks each word's first
// sub-token.
import Foundation
import ProKDCore
import Runtime
import ToolTestSupport
import XCTest

final class DataTests: XCTestCase {
    func write(_ text: String, _ name: String) throws -> String {
        let dir = try temporaryDirectory("prokd-data")
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        return dir + "/" + name
    }

    func testIOB1BecomesIOB2AndDocstartLinesAreDropped() throws {
        let eng = try write("-DOCSTART- -X- O O\n\nEU NNP I-NP I-ORG\nrejects VBZ I-VP O\nGerman JJ I-NP I-MISC\ncall NN I-NP O\n\n"
                            + "Peter NNP I-NP I-PER\nBlackburn NNP I-NP I-PER\nSmith NNP I-NP B-PER\n", "eng")
        let s = try readTaggedSentences(path: eng)
        XCTAssertEqual(s.map(\.words), [["EU", "rejects", "German", "call"], ["Peter", "Blackburn", "Smith"]])
        XCTAssertEqual(s.map { $0.tags! }, [["B-ORG", "O", "B-MISC", "O"], ["B-PER", "I-PER", "B-PER"]])
        let ned = try write("-DOCSTART- -DOCSTART- O\nDe Art O\ntekst N O\n\nJan N B-PER\n", "ned")
        XCTAssertEqual(try readTaggedSentences(path: ned).map(\.words), [["De", "tekst"], ["Jan"]])
    }

    func testTargetDataIsReadWithoutTags() throws {
        let words = try write("El\nReal\nMadrid\n\nganó\n", "esp")
        XCTAssertThrowsError(try readTaggedSentences(path: words), "one column is no tagged data")
        let s = try readTaggedSentences(path: words, readTags: false)
        XCTAssertEqual(s, [TaggedSentence(words: ["El", "Real", "Madrid"], tags: nil), TaggedSentence(words: ["ganó"], tags: nil)])
        let tagged = try write("El DA O\nMadrid NC B-LOC\n", "esp2")
        XCTAssertEqual(try readTaggedSentences(path: tagged, readTags: false), [TaggedSentence(words: ["El", "Madrid"], tags: nil)])
    }

    func testFirstSubTokensOfWords() throws {
        let tokenizer = try ModelRegistry.loadTokenizer(path: Repo.path("data/fixtures/gliclass/encoder-bert"))
        let config = ProKDConfig(tags: ["O", "B-LOC"], baseModel: "m", maxLength: 8, freezeBottom: 0, role: .teacher)
        let enc = TaggerEncoder(tokenizer: tokenizer, config: config)
        let e = try enc.encode(TaggedSentence(words: ["Madrid", "is", "big", "and", "old", "and", "far"], tags: ["B-LOC", "O", "O", "O", "O", "O", "O"]), labelled: true)
        let plain = try tokenizer.encode("Madrid is big and old and far", maxLength: 8)
        XCTAssertEqual(e.ids, plain.ids)
        XCTAssertEqual(e.words.first, 0)
        XCTAssertEqual(e.tags.first, 1)
        XCTAssertEqual(e.firstTokens.first, plain.specialTokensMask.firstIndex(of: 0), "the first token that is not a special token")
        XCTAssertEqual(e.firstTokens, e.firstTokens.sorted())
        XCTAssertLessThan(e.words.count, 7, "words past max_length are not labelled")
        XCTAssertEqual(e.words.count, e.firstTokens.count)
        XCTAssertThrowsError(try enc.encode(TaggedSentence(words: ["x"], tags: ["B-PER"]), labelled: true))
    }
}
