// `ptec tune-thresholds`: a threshold per label from dev scores, saved into the model.
import ArgumentParser
import Foundation
import PTECCore
import Runtime
import RuntimeCLI

struct TuneThresholds: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune-thresholds",
        abstract: "Choose each label's decision threshold on dev data and save them into the model.",
        discussion: """
        For each label, the threshold among 0.05, 0.10 … 0.95 with the best F1 of that label on --data \
        (ties: the one nearest 0.5; a label without a positive example keeps 0.5). The reference decides \
        at 0.5 for every label; scores are what makes a per-label choice possible (the paper's point). \
        Writes the thresholds into ptec.json (ch and probe models) and prints them with the dev macro-F1 \
        before and after. Tune on dev data, never on the test set.

        Example:
          ptec tune-thresholds --model hate-ptec --text-field prompt --data dev_preprocessed.json
        """)

    @Option(help: "A directory written by `ptec train` (ch or probe).")
    var model: String

    @Option(help: "The base model, if it moved since training.")
    var base: String?

    @Option(help: ArgumentHelp("Labelled dev data.", valueName: "file"))
    var data: String

    @OptionGroup var fields: DataFields
    @OptionGroup var common: CommonOptions

    func run() throws {
        common.apply()
        let bundle = loadModelOrExit(model, base: base)
        let (texts, _) = readOrExit(data, fields)
        do {
            guard bundle.config.head != .lh else { throw PTECError("lh models generate labels; they have no scores to threshold") }
            let names = bundle.config.labels
            let gold = try goldSets(texts, labels: names, what: "data")
            let ids = try texts.map { try bundle.encode($0.text) }
            let scores = bundle.scores(ids, batch: common.batch)
            let before = MultiLabelReport(labels: names, gold: gold, predicted: scores.map { Set(bundle.decide($0)) })
            var config = bundle.config
            config.thresholds = tuneThresholds(scores: scores, gold: gold, labels: names.count, fallback: config.threshold)
            bundle.model.config = config
            let after = MultiLabelReport(labels: names, gold: gold, predicted: scores.map { Set(bundle.decide($0)) })
            try PTECModelFiles.saveConfig(config, to: model)
            var r = Record()
            r.set("macro_f1_before", JSONValue.finite(before.macro.f1))
            r.set("macro_f1_after", JSONValue.finite(after.macro.f1))
            var o = JSONObject()
            for (l, t) in zip(names, config.thresholds!) { o[l] = JSONValue.finite(t) }
            r.set("thresholds", .object(o))
            print(r.jsonText)
        } catch let e as PTECError {
            printError(program: "ptec", "\(e)")
            throw ExitCode(1)
        } catch {
            fatalLoad(program: "ptec", path: model, problem: "cannot write: \(error)")
        }
    }
}
