// ls-llama: label-supervised fine-tuning of decoders for sequence and token classification
// (LS-LLaMA and LS-unLLaMA, Li et al. 2023): LoRA plus a linear head, no prompt.
import ArgumentParser
import RuntimeCLI

struct LSLlama: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls-llama",
        abstract: "Label-supervised LoRA fine-tuning of decoders (LS-LLaMA / LS-unLLaMA) for text and token classification.",
        version: BuildInfo.text(program: "ls-llama"),
        subcommands: [Train.self, Predict.self, Eval.self])
}

LSLlama.main()
