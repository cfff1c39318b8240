// `loki fit` / `loki classify`: a small classifier on feature vectors, so the paper's experiments run
// as pipes: softmax regression (no hidden layer; the paper's grid experiment) or an MLP, trained on
// the observed classes with Adam and cross-entropy (the reference's SingleLayerModel: Adam, lr 1e-3),
// or with the Loki loss (CE of −softmax(z)·D², Runtime/Ops/LokiLoss.swift; its SingleLayerLokiModel).
// Features are standardized with the training set's mean and standard deviation.
//
// A model directory holds model.safetensors (the layers and the standardization), config.json and
// observed.txt (the classes in output order: `loki predict --observed DIR/observed.txt`), each file
// written atomically. Training (ClassifierTraining) runs epoch by epoch so `loki fit` can checkpoint
// and resume it.
import Foundation
import Runtime
import RuntimeCLI

public enum TrainingLoss: String, CaseIterable, Sendable {
    case crossEntropy = "cross-entropy", loki
}

public struct FitOptions {
    public var hidden: [Int] = []
    public var epochs = 20
    public var learningRate: Float = 1e-3
    public var batchSize = 128
    public var weightDecay: Float = 0
    public var seed: UInt64 = 0
    public init() {}
}

public struct ClassifierConfig: Codable, Equatable {
    public var classes: [String]
    public var inputDim: Int
    public var hidden: [Int]
    public var loss: String
    public var epochs: Int

    enum CodingKeys: String, CodingKey {
        case classes, hidden, loss, epochs
        case inputDim = "input_dim"
    }
}

public final class FeatureClassifier {
    public let config: ClassifierConfig
    let net: Sequential
    let mean: Tensor, std: Tensor

    init(config: ClassifierConfig, net: Sequential, mean: Tensor, std: Tensor) {
        self.config = config
        self.net = net
        self.mean = mean
        self.std = std
    }

    public var classes: [String] { config.classes }

    /// Trains on `features` [M, D] with `labels` in 0..<K (positions in `classes`) for every epoch at once
    /// (see ClassifierTraining). `log(epoch, mean loss, training accuracy)` is called after every epoch.
    public static func fit(features: Tensor, labels: [Int], classes: [String], options: FitOptions,
                           loss: TrainingLoss = .crossEntropy, squaredDistances: Tensor? = nil, labelSpaceTargets: [Int]? = nil,
                           log: (Int, Double, Double) -> Void = { _, _, _ in }) throws -> FeatureClassifier {
        let training = try ClassifierTraining(features: features, labels: labels, classes: classes, options: options, loss: loss,
                                              squaredDistances: squaredDistances, labelSpaceTargets: labelSpaceTargets)
        for epoch in 1...max(1, options.epochs) {
            let (l, acc) = try training.epoch()
            log(epoch, l, acc)
        }
        return training.classifier
    }

    /// Class probabilities [B, K] for raw (unstandardized) features [B, D].
    public func probabilities(_ features: Tensor) -> Tensor {
        withoutGrad { softmax(net((features - mean) / std), axis: 1) }
    }

    // MARK: model directory

    /// The files a model directory holds.
    public static let files = ["config.json", "model.safetensors", "observed.txt"]

    public func save(to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeFile([UInt8](try encoder.encode(config)), to: dir + "/config.json")
        try writeSafeTensors(net.namedParameters() + [("standardize.mean", mean), ("standardize.std", std)],
                             metadata: ["format": "loki-classifier"], to: dir + "/model.safetensors")
        let lines = classes.map { name -> String in
            guard name.hasPrefix("\"") || name.contains("\n") || name.hasPrefix("#") else { return name }
            return JSONValue.string(name).jsonText
        }
        try writeFile(lines.joined(separator: "\n") + "\n", to: dir + "/observed.txt")
    }

    public static func load(_ dir: String) throws -> FeatureClassifier {
        let hint = "a directory written by `loki fit`"
        guard let data = FileManager.default.contents(atPath: dir + "/config.json") else {
            throw LoadError(path: dir, problem: "no config.json", hint: hint)
        }
        let config: ClassifierConfig
        do { config = try JSONDecoder().decode(ClassifierConfig.self, from: data) } catch {
            throw LoadError(path: dir + "/config.json", problem: "\(error)", hint: hint)
        }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: dir + "/model.safetensors") } catch {
            throw LoadError(path: dir + "/model.safetensors", problem: "\(error)", hint: hint)
        }
        // The layer sizes come from config.json: each must be positive and their weights (4 bytes each)
        // must be in model.safetensors, so a damaged config is refused before the network is allocated.
        let widths = [config.inputDim] + config.hidden + [config.classes.count]
        let dataBytes = file.tensors.reduce(0) { $0 + ($1.end - $1.start) }
        var weights = 0
        for (a, b) in zip(widths, widths.dropFirst()) {
            guard a > 0, b > 0 else {
                throw LoadError(path: dir + "/config.json", problem: "layer sizes \(widths) (input, hidden, classes) must be positive", hint: hint)
            }
            let (w, o1) = a.multipliedReportingOverflow(by: b)
            let (total, o2) = weights.addingReportingOverflow(w)
            guard !o1, !o2, total <= dataBytes / 4 else {
                throw LoadError(path: dir + "/config.json", problem: "layer sizes \(widths) need more weights than model.safetensors holds", hint: hint)
            }
            weights = total
        }
        let net = MLP(widths, generator: RandomGenerator(seed: 0))
        var state: [String: Tensor] = [:]
        for name in file.names where !name.hasPrefix("standardize.") { state[name] = try file.tensor(name) }
        do { try net.load(state: state) } catch {
            throw LoadError(path: dir + "/model.safetensors", problem: "\(error)", hint: hint)
        }
        let mean = try file.tensor("standardize.mean").copy(), std = try file.tensor("standardize.std").copy()
        guard mean.shape == [config.inputDim], std.shape == [config.inputDim] else {
            throw LoadError(path: dir + "/model.safetensors", problem: "standardization for \(mean.shape), not \(config.inputDim) features", hint: hint)
        }
        return FeatureClassifier(config: config, net: net, mean: mean, std: std)
    }
}

/// Training a FeatureClassifier one epoch at a time, with its state as named tensors (the layers, Adam's
/// moments) and the shuffler's position, so a run can be checkpointed and resumed to the same weights.
public final class ClassifierTraining {
    let features: Tensor, labels: [Int]
    let x: Tensor
    let options: FitOptions
    let loss: TrainingLoss
    let squaredDistances: Tensor?, labelSpaceTargets: [Int]?
    let net: Sequential
    let optimizer: Adam
    public private(set) var shuffler: RandomGenerator
    public private(set) var epochsDone = 0
    public let classifier: FeatureClassifier

    public init(features: Tensor, labels: [Int], classes: [String], options: FitOptions, loss: TrainingLoss = .crossEntropy,
                squaredDistances: Tensor? = nil, labelSpaceTargets: [Int]? = nil) throws {
        guard features.rank == 2 && features.shape[0] == labels.count else {
            throw DataError(description: "fit: features \(features.shape) for \(labels.count) labels")
        }
        guard loss == .crossEntropy || (squaredDistances != nil && labelSpaceTargets?.count == labels.count) else {
            throw DataError(description: "fit: the Loki loss needs squared distances and label-space targets")
        }
        let d = features.shape[1], k = classes.count
        // Standardization: per-feature mean and standard deviation (1 where a feature is constant).
        let mean = features.mean(axis: 0)
        let variance = square(features - mean).mean(axis: 0)
        let std = Tensor(shape: [d], scalars: variance.scalars.map { $0 > 1e-12 ? $0.squareRoot() : 1 })
        x = withoutGrad { (features - mean) / std }
        (self.features, self.labels, self.options, self.loss) = (features, labels, options, loss)
        (self.squaredDistances, self.labelSpaceTargets) = (squaredDistances, labelSpaceTargets)
        net = MLP([d] + options.hidden + [k], generator: RandomGenerator(seed: options.seed, stream: 0x10c1))
        optimizer = Adam(decayGroups(net, lr: options.learningRate, weightDecay: options.weightDecay))
        shuffler = RandomGenerator(seed: options.seed, stream: 0x10c2)
        let config = ClassifierConfig(classes: classes, inputDim: d, hidden: options.hidden, loss: loss.rawValue, epochs: options.epochs)
        classifier = FeatureClassifier(config: config, net: net, mean: mean, std: std)
    }

    /// One pass over the records in a shuffled order: (mean loss, training accuracy). A non-finite loss
    /// stops before its batch changes anything (DataError).
    public func epoch() throws -> (loss: Double, accuracy: Double) {
        let m = labels.count
        let order = shuffler.permutation(m)
        var total = 0.0, correct = 0
        var start = 0
        while start < m {
            let idx = Array(order[start..<min(m, start + options.batchSize)])
            start += options.batchSize
            let logits = net(x.indexSelect(axis: 0, idx))
            let l: Tensor
            switch loss {
            case .crossEntropy: l = crossEntropy(logits, targets: idx.map { labels[$0] })
            case .loki: l = lokiLoss(logits, squaredDistances: squaredDistances!, targets: idx.map { labelSpaceTargets![$0] })  // invariant: init checked both
            }
            guard l.item().isFinite else {
                throw DataError(description: "stopped in epoch \(epochsDone + 1): the loss is \(l.item()) (a lower --lr?)")
            }
            optimizer.zeroGrad()
            l.backward()
            optimizer.step()
            total += Double(l.item()) * Double(idx.count)
            for (r, c) in logits.argmax(axis: 1).enumerated() where c == labels[idx[r]] { correct += 1 }
        }
        epochsDone += 1
        return (total / Double(m), Double(correct) / Double(m))
    }

    public func stateTensors() -> [(String, Tensor)] {
        net.namedParameters().map { ("net." + $0.0, $0.1) } + optimizer.stateTensors().map { ("adam." + $0.0, $0.1) }
    }

    /// Restores a checkpoint's state after `epochs` epochs; `shufflerOffset`: the shuffler's position then.
    public func loadState(_ tensors: [String: Tensor], epochs: Int, shufflerOffset: UInt64) throws {
        var own: [String: Tensor] = [:], adam: [String: Tensor] = [:]
        for (k, t) in tensors {
            if k.hasPrefix("net.") { own[String(k.dropFirst(4))] = t } else if k.hasPrefix("adam.") { adam[String(k.dropFirst(5))] = t }
        }
        try net.load(state: own)
        try optimizer.loadState(adam)
        shuffler = RandomGenerator(seed: options.seed, stream: 0x10c2, offset: shufflerOffset)
        epochsDone = epochs
    }
}

/// `loki classify`: adds the probabilities over the model's classes to each record.
public func classifyRecords(_ runner: JSONLRunner, classifier: FeatureClassifier, field: String, outField: String,
                            asScores: Bool = false) -> Int32 {
    let d = classifier.config.inputDim, k = classifier.classes.count
    return runner.run { records in
        var results = [Result<Record, RecordError>](repeating: .failure(RecordError("not processed")), count: records.count)
        var values: [Float] = [], slots: [Int] = []
        for (i, r) in records.enumerated() {
            do {
                let v = try r.floats(field)
                guard v.count == d else { throw RecordError.field(field, "\(v.count) features, the model takes \(d)") }
                values += v
                slots.append(i)
            } catch let e as RecordError { results[i] = .failure(e) } catch { results[i] = .failure(RecordError("\(error)")) }
        }
        guard !slots.isEmpty else { return results }
        let p = classifier.probabilities(Tensor(shape: [slots.count, d], scalars: values))
        for (row, i) in slots.enumerated() {
            var r = records[i]
            do {
                try setProbabilities(&r, field: outField, names: classifier.classes,
                                     values: UnsafeBufferPointer(start: p.data + row * k, count: k), asScores: asScores)
                results[i] = .success(r)
            } catch let e as RecordError { results[i] = .failure(e) } catch { results[i] = .failure(RecordError("\(error)")) }
        }
        return results
    }
}

/// Training records read by `loki fit`: features [M, D] and each record's class (position in `classes`).
public struct TrainingSet {
    public var classes: [String]
    public var features: [Float] = []
    public var labels: [Int] = []
    public var dimension = -1
    /// Records whose class is not observed (skipped).
    public var skipped = 0
    public var count: Int { labels.count }
    public var labelNames: [String] { labels.map { classes[$0] } }
}

/// Reads `field` (features) and `labelField` from the runner's records. With `observed`, only those
/// classes are kept, in that order; without, every class seen, in order of first appearance.
public func readTrainingRecords(_ runner: JSONLRunner, field: String, labelField: String,
                                observed: [String]?) -> (TrainingSet, Int32) {
    var set = TrainingSet(classes: observed ?? [])
    var position: [String: Int] = [:]
    for (i, c) in set.classes.enumerated() { position[c] = i }
    let status = runner.forEach { r in
        guard let v = r.value(labelField) else { throw RecordError.missing(labelField) }
        guard let name = className(of: v) else { throw RecordError.field(labelField, "expected a class name, got \(v.kindDescription)") }
        var p = position[name]
        if p == nil {
            if observed != nil { set.skipped += 1; return }
            p = set.classes.count
            position[name] = p
            set.classes.append(name)
        }
        let x = try r.floats(field)
        if set.dimension < 0 { set.dimension = x.count }
        guard x.count == set.dimension, x.count > 0 else {
            throw RecordError.field(field, "\(x.count) features, earlier records have \(set.dimension)")
        }
        set.features += x
        set.labels.append(p!)  // invariant: found or added above
    }
    return (set, status)
}
