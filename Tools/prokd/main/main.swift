// prokd: zero-resource cross-lingual NER by prototypical knowledge distillation (ProKD, Ge et al.
// AAAI 2023), with direct transfer and TSL (Wu et al. 2020) as its baselines.
import ArgumentParser
import RuntimeCLI

struct ProKD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prokd",
        abstract: "Cross-lingual NER without target labels: a teacher on labelled source data (optionally with contrastive prototype alignment), a student distilled on unlabelled target data (optionally with prototypical self-training).",
        discussion: """
        ProKD has no public code and its method section could not be read: the two prototype components \
        (--cpa, --pst) are a reconstruction from the paper's abstract and introduction, with every free \
        choice an option; TSL's distillation and training recipe follow its code (microsoft/vert-papers). \
        See the README's "What is reconstructed".

        Pipeline:
          prokd teacher --model data/models/multilingual-e5-small --source eng.train --target esp.train --cpa --out t
          prokd student --teacher t --target esp.train --pst --out s
          prokd eval --model s --data esp.testb
        """,
        version: BuildInfo.text(program: "prokd"),
        subcommands: [Teacher.self, Student.self, Predict.self, Eval.self])
}

ProKD.main()
