// ptec: multi-label text classification with a frozen decoder, a trained soft prompt and a linear head
// on the last token (PTEC, "Prompt Tuned Embedding Classification for Multi-Label Industry Sector
// Allocation", EQTPartners/PTEC), with the reference's baselines: prompt tuning that generates the
// labels (with or without a trie), a linear probe on frozen embeddings, k-NN, gzip NCD 1-NN.
import ArgumentParser
import RuntimeCLI

struct PTEC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ptec",
        abstract: "Multi-label classification with a frozen decoder, a soft prompt and a classification head (PTEC), and its baselines.",
        version: BuildInfo.text(program: "ptec"),
        subcommands: [Train.self, Predict.self, Eval.self, TuneThresholds.self, KNN.self, Gzip.self])
}

PTEC.main()
