// `llmfew knn`: the 1-nearest-neighbour baselines on the same shots a training run draws.
import ArgumentParser
import Foundation
import LLMFewCore
import Runtime
import RuntimeCLI

struct NearestNeighbour: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "1-nearest-neighbour baselines (Euclidean, DTW) on the shots `llmfew train` would draw.",
        discussion: """
        Draws the training series exactly as `llmfew train` does with the same --shots, --val-split \
        and --seed (the held-out part is not used), then labels every --test series by its nearest \
        training series: Euclidean distance over series zero-padded to a common length, or dependent \
        DTW with a full window (squared Euclidean cost between the channel vectors of two steps). \
        Writes one JSON object of scores (as `llmfew eval`).

        Example:
          llmfew knn --data bm-train.jsonl --test bm-test.jsonl --shots 1 --distance dtw --seed 1
        """)

    @Option(help: ArgumentHelp("Training series.", valueName: "file"))
    var data: String

    @Option(help: ArgumentHelp("Series to label and score.", valueName: "file"))
    var test: String

    @Option(help: "Series per class (0: all).")
    var shots = 1

    @Option(help: "Share of each class held out before the shots are drawn (as `llmfew train`).")
    var valSplit: Double = 0.2

    @Option(help: "euclidean or dtw.")
    var distance: NNDistance = .euclidean

    @OptionGroup var fields: SeriesFieldOptions
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard shots >= 0, (0..<1).contains(valSplit) else { throw ValidationError("--shots must be ≥ 0 and --val-split in [0, 1)") }
    }

    func run() throws {
        common.apply()
        let all = readSeriesOrExit(data, fields: fields)
        let queries = readSeriesOrExit(test, fields: fields)
        let classes = sortedClasses(all.compactMap(\.label))
        do {
            let (train, _) = try selectTrainingSet(all, classes: classes, validationSplit: valSplit, shots: shots, seed: common.seed)
            guard queries.allSatisfy({ $0.label != nil }) else { throw LLMFewError("every test series needs a label") }
            if let m = all.first?.dimensions, let bad = (all + queries).first(where: { $0.dimensions != m }) {
                throw LLMFewError("series with \(bad.dimensions) and \(m) channels: every series needs the same channels")
            }
            let predicted = nearestNeighbourLabels(train: train, queries: queries, distance: distance)
            var r = try scoresRecord(LLMFewScores(gold: queries.map { $0.label! }, predicted: predicted))
            r.set("train_series", int: train.count)
            writeLine(r)
        } catch {
            fatalLoad(program: "llmfew", path: data, problem: "\(error)")
        }
    }
}
