// loki: geometry-aware prediction over a label metric (the Fréchet mean of a model's probabilities),
// metrics from trees, matrices or embeddings, evaluation against argmax, active next-class selection.
// Subcommands live in PredictCommands.swift and ToolCommands.swift; the logic in LokiCore.
import ArgumentParser
import Foundation
import LokiCore
import Runtime
import RuntimeCLI

struct Loki: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loki",
        abstract: "Geometry-aware prediction over a label metric (Loki: the Fréchet mean instead of argmax).",
        discussion: """
        A model gives probabilities p over K observed classes λ1..λK; the label space has N ≥ K classes and \
        a metric d. Loki predicts argmin over all N classes y of Σ_i p_i d²(λ_i, y) instead of the argmax \
        over the K observed ones, so it can predict classes the model never saw; no training needed \
        (Roberts et al., "Geometry-Aware Adaptation for Pretrained Models", NeurIPS 2023).

        Pipeline:
          embed --model data/models/all-MiniLM-L6-v2 < classes.jsonl > class-emb.jsonl
          embed --model data/models/all-MiniLM-L6-v2 < texts.jsonl \\
            | loki zeroshot --class-embeddings class-emb.jsonl --observed seen.txt \\
            | loki predict --metric tree.tsv --observed seen.txt --top 3 \\
            | loki eval --metric tree.tsv --observed seen.txt --prediction-field prediction
        """,
        version: BuildInfo.text(program: "loki"),
        subcommands: [Predict.self, Eval.self, ZeroShot.self, Select.self, Fit.self, Classify.self, Synth.self])
}

Loki.main()
