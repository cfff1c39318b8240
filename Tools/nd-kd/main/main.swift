// nd-kd: knowledge distillation with the ND (norm and direction) loss (Wang et al., "Improving
// Knowledge Distillation via Regularizing Feature Norm and Direction"): KD++, DKD++ and their baselines.
import ArgumentParser
import RuntimeCLI

struct NDKD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nd-kd",
        abstract: "Knowledge distillation of image classifiers with the ND loss: KD, KD++, DKD, DKD++.",
        version: BuildInfo.text(program: "nd-kd"),
        subcommands: [Teacher.self, Train.self, Predict.self, Eval.self, Images.self])
}

NDKD.main()
