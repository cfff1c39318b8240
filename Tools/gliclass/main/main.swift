// gliclass: zero- and few-shot text classification with the labels written into one encoder pass
// (GLiClass, Knowledgator; uni-encoder architecture).
import ArgumentParser
import RuntimeCLI

struct GLiClass: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gliclass",
        abstract: "Zero- and few-shot text classification with label tokens in one encoder pass (GLiClass).",
        version: BuildInfo.text(program: "gliclass"),
        subcommands: [Predict.self, Train.self, Evaluate.self])
}

GLiClass.main()
