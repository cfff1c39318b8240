// InfiniteLM on a tiny LLaMA: chunked prefill equals token-by-token decoding in every mode; a window
// covering the sequence equals vanilla; vanilla equals the model's own forward; sampling; passkeys.
import Foundation
import XCTest
import ToolTestSupport
import Runtime
@testable import LMInfiniteCore

final class InfiniteLMTests: XCTestCase {
    private func model() throws -> LLaMAModel { try LLaMAModel.load(path: Repo.path("data/fixtures/llama/tiny-gqa-tied")) }
    private let ids = (0..<40).map { ($0 * 17 + 3) % 61 }

    private func allLogits(_ lm: InfiniteLM, _ ids: [Int], chunk: Int) -> [Float] {
        lm.reset()
        var out: [Float] = []
        lm.feed(ids, chunk: chunk) { _, logits in out += logits.scalars }
        return out
    }

    private func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
    }

    func testPrefillEqualsTokenByTokenDecodingInEveryMode() throws {
        let m = try model()
        for mode in AttentionMode.allCases {
            var o = InfiniteOptions()
            o.mode = mode
            o.local = 8
            o.globals = 3
            let lm = InfiniteLM(model: m, options: o)
            let d = maxDiff(allLogits(lm, ids, chunk: 64), allLogits(lm, ids, chunk: 1))
            XCTAssertLessThan(d, 1e-4, "\(mode): prefill vs decode max |diff| \(d)")
        }
    }

    func testWindowCoveringEverythingIsVanillaAndVanillaIsTheModel() throws {
        let m = try model()
        var o = InfiniteOptions()
        o.mode = .vanilla
        let vanilla = allLogits(InfiniteLM(model: m, options: o), ids, chunk: 7)
        XCTAssertLessThan(maxDiff(vanilla, withoutGrad { m(ids: ids) }.scalars), 1e-4)
        o.mode = .lambda
        o.local = 64
        XCTAssertLessThan(maxDiff(allLogits(InfiniteLM(model: m, options: o), ids, chunk: 16), vanilla), 1e-4)
        o.mode = .streaming
        XCTAssertLessThan(maxDiff(allLogits(InfiniteLM(model: m, options: o), ids, chunk: 16), vanilla), 1e-4)
    }

    func testScoreAndGenerate() throws {
        let m = try model()
        var o = InfiniteOptions()
        o.local = 8
        let lm = InfiniteLM(model: m, options: o)
        let s = score(lm, ids: ids, bucket: 10)
        XCTAssertEqual(s.tokens, ids.count - 1)
        XCTAssertEqual(s.bucketCounts, [9, 10, 10, 10])
        let mean = zip(s.buckets, s.bucketCounts).reduce(0.0) { $0 + $1.0 * Double($1.1) } / Double(s.tokens)
        XCTAssertEqual(mean, s.nll, accuracy: 1e-9)
        let greedy = generate(lm, prompt: Array(ids.prefix(5)), maxTokens: 12, sampler: Sampler(), eos: [])
        XCTAssertEqual(greedy.count, 12)
        XCTAssertEqual(generate(lm, prompt: Array(ids.prefix(5)), maxTokens: 12, sampler: Sampler(), eos: []), greedy)
        let first = greedy[0]
        XCTAssertEqual(generate(lm, prompt: Array(ids.prefix(5)), maxTokens: 12, sampler: Sampler(), eos: [first]), [])
        let a = generate(lm, prompt: [1, 2], maxTokens: 10, sampler: Sampler(temperature: 1, topP: 0.9, seed: 5), eos: [])
        XCTAssertEqual(generate(lm, prompt: [1, 2], maxTokens: 10, sampler: Sampler(temperature: 1, topP: 0.9, seed: 5), eos: []), a)
    }

    func testSamplerTopPAndGreedy() {
        let logits = Tensor([0, 5, 1, 4.9])
        XCTAssertEqual(Sampler().sample(logits), 1)
        let tight = Sampler(temperature: 1, topP: 0.01, seed: 1)
        XCTAssertEqual((0..<20).map { _ in tight.sample(logits) }, Array(repeating: 1, count: 20))
        let two = Sampler(temperature: 1, topP: 0.9, seed: 2)
        XCTAssertEqual(Set((0..<200).map { _ in two.sample(logits) }), [1, 3])
    }

    func testNumpyRandomStateMatchesNumpy() {
        // From numpy 2.4: RandomState(seed=2048): [(randint(1, 10**7), randint(0, 37)) for _ in range(4)]
        var r = NumpyRandomState(seed: 2048)
        XCTAssertEqual((0..<4).map { _ in [r.randint(1, 10_000_000), r.randint(0, 37)] },
                       [[377032, 5], [8042826, 26], [2448588, 1], [416504, 22]])
        var s = NumpyRandomState(seed: 16389)
        XCTAssertEqual((0..<3).map { _ in s.randint(1, 10_000_000) }, [9045037, 8792584, 8428633])
        XCTAssertEqual(s.randint(0, 1), 0)
    }

    func testPasskeyPromptsAreTheReferences() throws {
        try XCTSkipUnless(Repo.haveModels, "run `make models` first")
        let tok = try Tokenizer.load(path: Repo.smollm2)
        let samples = try Passkey.samples(length: 2048, count: 4, tokenizer: tok)
        var r = NumpyRandomState(seed: 2048)
        for s in samples {
            XCTAssertEqual(s.key, r.randint(1, 10_000_000))
            XCTAssertEqual(s.depth, r.randint(0, s.fillers))
            XCTAssertTrue(s.prompt.hasPrefix(Passkey.taskPrefix + " "))
            XCTAssertTrue(s.prompt.hasSuffix(". What is the pass key? The pass key is "))
            XCTAssertTrue(s.prompt.contains("The pass key is \(s.key). Remember it. \(s.key) is the pass key."))
            XCTAssertEqual(s.prompt.components(separatedBy: Passkey.filler).count - 1, s.fillers)
            XCTAssertLessThanOrEqual(try tok.encode(s.prompt).ids.count, 2048 + 20)
        }
        XCTAssertTrue(Passkey.isCorrect(" 377032. Remember", key: 377032))
        XCTAssertFalse(Passkey.isCorrect("The key is 3770", key: 377032))
        XCTAssertFalse(Passkey.isCorrect("no digits", key: 377032))
    }
}
