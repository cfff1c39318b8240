// Training (tier 2 and 3): the AdamW groups as the reference makes them, augmentation's guarantees,
// classification scores against scikit-learn's definitions, a new model on a plain encoder (the
// three tokens added, the embedding table grown), saving and loading back to the same logits, and a
// killed `gliclass train` resuming to the weights of a run never interrupted.
import Foundation
import XCTest
import ToolTestSupport
@testable import GLiClassCore
@testable import Runtime

final class GLiClassTrainingTests: XCTestCase {
    let encoder = Repo.path("data/fixtures/gliclass/encoder-bert")
    let trainItems = Repo.path("data/fixtures/gliclass/train.jsonl")

    func testNewModelAddsTheTokensAndSavesAndLoadsBack() throws {
        let bundle = try GLiClassCheckpoint.fresh(encoder: encoder, seed: 3) { $0.poolingStrategy = .avg; $0.scorerType = .mlp }
        let c = bundle.model.config
        XCTAssertEqual([c.classTokenIndex, c.textTokenIndex, c.exampleTokenIndex], [1000, 1001, 1002])
        XCTAssertEqual(c.vocabSize, 1003)
        XCTAssertEqual(bundle.tokenizer.tokenToId("<<SEP>>"), 1001)
        // The new embedding rows are the mean of the old ones (transformers' mean_resizing).
        let table = try XCTUnwrap(bundle.model.namedState().first { $0.0 == "model.encoder_model.embeddings.word_embeddings.weight" }?.1)
        XCTAssertEqual(table.shape, [1003, 32])
        let d = 32, rows = table.scalars
        for j in 0..<d {
            let mean = (0..<1000).map { rows[$0 * d + j] }.reduce(0, +) / 1000
            XCTAssertEqual(rows[1000 * d + j], mean, accuracy: 1e-6)
        }
        let dir = try temporaryDirectory("gliclass-save")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try GLiClassCheckpoint.save(bundle, to: dir)
        let back = try GLiClassCheckpoint.load(directory: dir)
        XCTAssertEqual(back.model.config.poolingStrategy, .avg)
        XCTAssertEqual(back.model.config.scorerType, .mlp)
        let input = ClassificationInput(text: "Shares fell sharply in early trading.", labels: ["business", "sports", "science"])
        bundle.model.eval()
        let a = Predictor(bundle: bundle, maxLength: 128, options: PredictOptions()).predict([input])[0]
        let b = Predictor(bundle: back, maxLength: 128, options: PredictOptions()).predict([input])[0]
        XCTAssertEqual(try a.get().logits, try b.get().logits)
    }

    func testParameterGroupsFollowTheReference() throws {
        let bundle = try GLiClassCheckpoint.fresh(encoder: encoder, seed: 1) { $0.scorerType = .crossAttn; $0.poolingStrategy = .pass; $0.scorerNumHeads = 4 }
        bundle.model.unfreeze()   // as GLiClassTraining does (a loaded encoder starts frozen)
        let groups = GLiClassTraining.groups(bundle.model, TrainOptions())
        XCTAssertEqual(groups.map(\.name), ["encoder", "encoder_no_decay", "others", "others_no_decay"])
        let names = Dictionary(uniqueKeysWithValues: bundle.model.namedParameters().map { (ObjectIdentifier($0.1), $0.0) })
        func members(_ g: ParameterGroup) -> Set<String> { Set(g.parameters.map { names[ObjectIdentifier($0)]! }) }
        XCTAssertTrue(members(groups[0]).contains("model.encoder_model.encoder.layer.0.attention.self.query.weight"))
        XCTAssertTrue(members(groups[1]).contains("model.encoder_model.embeddings.LayerNorm.weight"))
        XCTAssertTrue(members(groups[1]).contains("model.encoder_model.encoder.layer.1.output.dense.bias"))
        XCTAssertTrue(members(groups[2]).contains("model.scorer.q.weight"))
        XCTAssertTrue(members(groups[3]).contains("model.scorer.q_norm.weight"), "a LayerNorm of the heads: no decay")
        XCTAssertEqual(groups[0].baseLR, 1e-5)
        XCTAssertEqual(groups[2].baseLR, 3e-5)
        XCTAssertEqual(groups.map(\.parameters.count).reduce(0, +), bundle.model.namedParameters().count)
    }

    func testAugmentationNeverLeaksTheAnswerOrDuplicatesLabels() throws {
        let items = try readTrainingItems(path: trainItems)
        var o = AugmentOptions()
        (o.removal, o.addition, o.text, o.examples) = (0.5, 0.5, 0.5, 1)
        let aug = Augmenter(items: items, options: o)
        for i in items.indices {
            for s in 0..<5 {
                let item = aug.augment(i, RandomGenerator(seed: UInt64(s), stream: UInt64(i)))
                XCTAssertEqual(Set(item.allLabels).count, item.allLabels.count, "a label listed twice")
                XCTAssertTrue(Set(item.trueOrder).isSubset(of: item.allLabels), "a true label that is not a candidate")
                XCTAssertFalse(item.examples.contains { $0.text == items[i].text }, "the item is its own example")
                XCTAssertLessThanOrEqual(item.examples.count, 2)
            }
        }
    }

    /// Values worked out with sklearn.metrics (precision_recall_fscore_support, zero_division=0).
    func testScoresMatchScikitLearn() {
        let gold: [Set<String>] = [["a"], ["a", "b"], ["c"], ["b"], []]
        let pred: [Set<String>] = [["a"], ["a"], ["b"], ["b", "c"], ["a"]]
        let s = ClassificationScores.multiLabel(gold: gold, predicted: pred)
        // TP a 2, b 1, c 0; FP a 1, b 1, c 1; FN a 0, b 1, c 1.
        XCTAssertEqual(s.microPrecision, 3.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(s.microRecall, 3.0 / 5, accuracy: 1e-12)
        XCTAssertEqual(s.microF1, 2 * 0.5 * 0.6 / 1.1, accuracy: 1e-12)
        let f1a = 2 * (2.0 / 3) * 1 / (2.0 / 3 + 1), f1b = 0.5
        XCTAssertEqual(s.macroF1, (f1a + f1b + 0) / 3, accuracy: 1e-12)
        XCTAssertEqual(s.weightedF1, (f1a * 2 + f1b * 2 + 0 * 1) / 5, accuracy: 1e-12)
        XCTAssertEqual(s.accuracy, 1.0 / 5, accuracy: 1e-12)
        XCTAssertEqual(s.samplesF1, (1 + 2.0 / 3 + 0 + 2.0 / 3 + 0) / 5, accuracy: 1e-12)
        let single = ClassificationScores.singleLabel(gold: ["x", "y", "x", "z"], predicted: ["x", "x", "x", "z"])
        XCTAssertEqual(single.accuracy, 0.75, accuracy: 1e-12)
        XCTAssertEqual(single.microF1, 0.75, accuracy: 1e-12)
        XCTAssertEqual(single.macroF1, (0.8 + 0 + 1) / 3, accuracy: 1e-12)
    }

    /// Soft targets are weights in [0, 1]; a single-label row whose labels were all truncated away
    /// contributes nothing instead of NaN gradients.
    func testSoftTargetsAreCheckedAndEmptyRowsStayFinite() throws {
        let bad = try JSONValue(parsing: Array(#"{"text": "x", "all_labels": ["a", "b"], "true_labels": {"a": 2}}"#.utf8))
        XCTAssertThrowsError(try TrainingItem(json: bad, index: 0))
        let bundle = try GLiClassCheckpoint.fresh(encoder: encoder, seed: 2) { $0.problemType = .singleLabel }
        let model = bundle.model
        model.unfreeze()
        model.train()
        let enc = InputEncoder(tokenizer: bundle.tokenizer, maxLength: 64, promptFirst: true)
        let withLabels = try enc.encode(ClassificationInput(text: "shares fell", labels: ["business", "sports"]))
        let withoutLabels = try bundle.tokenizer.encode("shares fell sharply", maxLength: nil).ids
        let out = model(TokenBatch([withLabels, withoutLabels]), slots: 2, targets: Targets([[1, 0], [1, 0]]))
        XCTAssertTrue(out.loss!.item().isFinite)
        out.loss!.backward()
        for (name, p) in model.namedParameters() where p.grad != nil {
            XCTAssertTrue(p.grad!.scalars.allSatisfy(\.isFinite), "\(name): a gradient is not finite")
        }
    }

    func testRewardIsTheReferencesPerTextF1() {
        XCTAssertEqual(sampleF1([0, 2], [0, 1]), 0.5)
        XCTAssertEqual(sampleF1([], [1]), 0)
        XCTAssertEqual(sampleF1([], []), 0)   // as utils.default_f1_reward
        XCTAssertEqual(sampleF1([3], [3]), 1)
    }

    /// --rl runs, logs its reward, and resumes like the supervised trainer (its draws come from (seed, step)).
    func testRLTrainerRunsAndIsDeterministic() throws {
        let dir = try temporaryDirectory("gliclass-rl")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["train", "--rl", "--kl-beta", "0.1", "--model", encoder, "--data", trainItems, "--epochs", "2", "--train-batch", "8",
                    "--lr", "1e-3", "--encoder-lr", "1e-4", "--threads", "1", "--quiet", "--max-length", "128", "--no-augment"]
        let a = try runTool("gliclass", args + ["--out", dir + "/a"])
        XCTAssertEqual(a.status, 0, a.stderr)
        let b = try runTool("gliclass", args + ["--out", dir + "/b"])
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertEqual(FileManager.default.contents(atPath: dir + "/a/model.safetensors"), FileManager.default.contents(atPath: dir + "/b/model.safetensors"))
        let log = try String(contentsOfFile: dir + "/a/log.jsonl", encoding: .utf8)
        XCTAssertTrue(log.contains("\"reward\""), "the RL log carries the reward")
        XCTAssertTrue(log.contains("eval_samples_f1"))
    }

    func testTrainingLowersTheLossAndResumesAfterKillsToTheSameWeights() throws {
        let dir = try temporaryDirectory("gliclass-train")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["train", "--model", encoder, "--data", trainItems, "--epochs", "6", "--train-batch", "4", "--lr", "1e-3",
                    "--encoder-lr", "1e-4", "--dropout", "0.1", "--label-removal", "0.3", "--add-examples", "0.3",
                    "--checkpoint-every", "3", "--threads", "1", "--quiet", "--max-length", "128"]
        let started = Date()
        let whole = try runTool("gliclass", args + ["--out", dir + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        // Kill delays scaled to this machine: between 10% and 60% of an uninterrupted run (a fixed
        // 0.1-1.2 s range let every run finish first on an idle machine).
        let delays = killDelays(forRunOf: Date().timeIntervalSince(started))
        let log = try String(contentsOfFile: dir + "/whole/log.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONValue(parsing: Array($0.utf8)) }
        let losses = try log.compactMap { try $0["loss"]?.numberValue?.float() }
        XCTAssertEqual(losses.count, 6 * 9)   // 36 training items (4 held out), batches of 4
        XCTAssertLessThan(losses.suffix(9).reduce(0, +), losses.prefix(9).reduce(0, +), "the loss did not fall")
        XCTAssertEqual(log.filter { $0["eval_micro_f1"] != nil }.count, 6, "one evaluation per epoch")
        let (kills, last) = try runKilledAndResumed("gliclass", args + ["--out", dir + "/killed", "--resume"], delays: delays)
        XCTAssertEqual(last.status, 0, last.stderr)
        print("GLiClassTrainingTests: \(kills) of 5 train runs killed before they finished")
        XCTAssertGreaterThan(kills, 0, "no run was killed: the kill test tested nothing")
        for f in ["model.safetensors", "log.jsonl", "config.json", "tokenizer.json"] {
            XCTAssertEqual(FileManager.default.contents(atPath: dir + "/whole/" + f), FileManager.default.contents(atPath: dir + "/killed/" + f), f)
        }
        XCTAssertEqual(try runTool("gliclass", args + ["--out", dir + "/whole"]).status, 2, "another run's directory is refused")
    }
}
