// labo: interpretable image classification through a language-defined concept bottleneck (LaBo, Yang
// et al., CVPR 2023): concepts chosen per class from a bank by a discriminability + coverage objective,
// image features scored against them, and a class–concept association matrix trained on top.
import ArgumentParser
import RuntimeCLI

struct Labo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labo",
        abstract: "LaBo: concept-bottleneck image classification over CLIP features (select, train, predict, eval, explain).",
        discussion: """
        The features come from `embed` with a CLIP model: image records ({"image": path, "label": …}) \
        and the concept texts ({"text": concept}) through the same model. A pipeline:
          jq -c 'to_entries[] | .value[] | {text: .}' class2concepts.json | sort -u | embed --model CLIP > concept-emb.jsonl
          embed --model CLIP < train-images.jsonl > train.jsonl
          labo select --concepts class2concepts.json --concept-embeddings concept-emb.jsonl --data train.jsonl > selected.json
          labo train --selected selected.json --concept-embeddings concept-emb.jsonl --data train.jsonl --validation val.jsonl --out m
          embed --model CLIP < test-images.jsonl | labo predict --model m
        """,
        version: BuildInfo.text(program: "labo"),
        subcommands: [Select.self, Train.self, Predict.self, Eval.self, Explain.self, Probe.self])
}

Labo.main()
