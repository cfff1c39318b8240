// `ptec knn` and `ptec gzip`: the reference's nearest-neighbour baselines, labelling stdin's texts from
// a labelled training file.
import ArgumentParser
import Foundation
import PTECCore
import Runtime
import RuntimeCLI

struct KNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "k-nearest-neighbour labels from frozen mean-pooled embeddings (the reference's KNN baseline).",
        discussion: """
        Embeds the --train texts and each input text (mean of the model's final hidden states), then per \
        label a vote of the k nearest training texts weighted by 1/distance (scikit-learn's \
        KNeighborsClassifier(weights="distance")): `scores` holds each label's weighted share, the \
        labels are those with more than half. k: --k, or the best dev macro-F1 for k in 1 … --max-k on \
        --dev (the reference searched 1 … 100 by Bayesian optimisation on dev).

        Example:
          ptec knn --model data/models/SmolLM2-135M-Instruct --text-field prompt --train train.json \\
            --dev dev.json < test.json | ptec eval --text-field prompt --data test.json
        """)

    @Option(help: "The model whose embeddings are compared (a directory or a .gguf).")
    var model: String

    @Option(help: ArgumentHelp("Labelled training texts.", valueName: "file"))
    var train: String

    @Option(help: ArgumentHelp("Labelled dev texts for choosing k.", valueName: "file"))
    var dev: String?

    @Option(help: "Neighbours (default: chosen on --dev; 5 without it).")
    var k: Int?

    @Option(help: "Largest k tried on --dev.")
    var maxK = 100

    @Option(help: "Tokens per text.")
    var maxLength = 512

    @Option(help: "Field the predicted labels go to.")
    var outputField = "labels"

    @OptionGroup var fields: DataFields
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func validate() throws {
        guard k.map({ $0 >= 1 }) ?? true, maxK >= 1, maxLength >= 1 else { throw ValidationError("--k, --max-k and --max-length must be at least 1") }
    }

    func run() throws {
        common.apply()
        let (trainTexts, columns) = readOrExit(train, fields)
        let devTexts = dev.map { readOrExit($0, fields).texts } ?? []
        guard !trainTexts.isEmpty else { fatalLoad(program: "ptec", path: train, problem: "no training texts") }
        let names = labelOrder(given: nil, columns: columns, texts: [trainTexts])
        let config = PTECConfig(head: .probe, labels: names, baseModel: model, spLen: 0, posWeight: [Float](repeating: 1, count: names.count), maxLength: maxLength)
        let bundle: PTECBundle
        do { bundle = try PTECModelFiles.fresh(config, promptInit: .fixed, seed: 0) } catch { fatalLoad(program: "ptec", path: model, problem: "\(error)") }
        let knn: NearestNeighbours, chosen: Int
        do {
            let gold = try goldSets(trainTexts, labels: names, what: "training")
            let x = featureRows(bundle, try trainTexts.map { try bundle.encode($0.text) }, batch: common.batch)
            knn = NearestNeighbours(train: x, targets: gold.map { g in (0..<names.count).map { g.contains($0) } })
            if let k { chosen = k } else if devTexts.isEmpty { chosen = 5 } else {
                let devGold = try goldSets(devTexts, labels: names, what: "dev")
                let near = featureRows(bundle, try devTexts.map { try bundle.encode($0.text) }, batch: common.batch).map { knn.neighbours($0) }
                var best = (f1: -1.0, k: 1)
                for k in 1...min(maxK, x.count) {
                    let predicted = near.map { n in Set(knn.scores(neighbours: n, k: k).enumerated().filter { $0.element > 0.5 }.map(\.offset)) }
                    let f1 = MultiLabelReport(labels: names, gold: devGold, predicted: predicted).macro.f1
                    if f1 > best.f1 { best = (f1, k) }
                }
                chosen = best.k
                if !common.quiet { printError(program: "ptec", "k = \(chosen) (dev macro-F1 \(String(format: "%.4f", best.f1)))") }
            }
        } catch {
            fatalLoad(program: "ptec", path: train, problem: "\(error)")
        }
        let runner = JSONLRunner(program: "ptec", io: io, common: common)
        let status = runner.mapBatches(batchSize: common.batch, read: { r in try bundle.encode(try r.string(fields.textField)) },
                                       compute: { rows in featureRows(bundle, rows, batch: rows.count).map { knn.scores(neighbours: knn.neighbours($0), k: chosen) } },
                                       write: { r, s in
            writePrediction(&r, labels: names, scores: s.map(Float.init), predicted: s.indices.filter { s[$0] > 0.5 }, field: outputField)
        })
        throw ExitCode(status)
    }
}

struct Gzip: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "gzip-distance 1-nearest-neighbour labels (the reference's gzip baseline).",
        discussion: """
        Each input text takes the labels of the training text at the smallest normalised compression \
        distance NCD(x, y) = (C(x y) − min(C(x), C(y))) / max(C(x), C(y)), C the length of Python's \
        gzip.compress at level 9 (the texts joined by a space). Ties go to the earliest training text \
        (the reference leaves them to numpy's sort: 125 of its 556 test texts have tied neighbours). \
        Needs no model; the texts are compared as UTF-8 bytes.

        Example:
          ptec gzip --text-field prompt --train train.json < test.json | ptec eval --text-field prompt --data test.json
        """)

    @Option(help: ArgumentHelp("Labelled training texts.", valueName: "file"))
    var train: String

    @Option(help: "Field the predicted labels go to.")
    var outputField = "labels"

    @OptionGroup var fields: DataFields
    @OptionGroup var common: CommonOptions
    @OptionGroup var io: IOOptions

    func run() throws {
        common.apply()
        let (trainTexts, columns) = readOrExit(train, fields)
        guard !trainTexts.isEmpty else { fatalLoad(program: "ptec", path: train, problem: "no training texts") }
        let names = labelOrder(given: nil, columns: columns, texts: [trainTexts])
        let gold: [Set<Int>]
        do { gold = try goldSets(trainTexts, labels: names, what: "training") } catch { fatalLoad(program: "ptec", path: train, problem: "\(error)") }
        let texts = trainTexts.map(\.text)
        let runner = JSONLRunner(program: "ptec", io: io, common: common)
        let status = runner.mapBatches(batchSize: max(common.batch, 1), read: { r in try r.string(fields.textField) },
                                       compute: { gzipNearest(queries: $0, train: texts) }, write: { r, i in
            r.set("nearest", int: i)
            writePrediction(&r, labels: names, scores: nil, predicted: Array(gold[i]), field: outputField)
        })
        throw ExitCode(status)
    }
}
