// llmfew: few-shot multivariate time-series classification with a decoder LLM (LLMFew, Chen et al.
// 2025): patches encoded by a causal dilated CNN (PTCEnc), fed to a LoRA-adapted decoder as
// inputs_embeds, a LayerNorm + linear head on the flattened outputs.
import ArgumentParser
import RuntimeCLI

struct LLMFew: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llmfew",
        abstract: "Few-shot multivariate time-series classification with a decoder LLM (LLMFew: PTCEnc + LoRA).",
        version: BuildInfo.text(program: "llmfew"),
        subcommands: [Convert.self, Train.self, Predict.self, Eval.self, NearestNeighbour.self])
}

LLMFew.main()
