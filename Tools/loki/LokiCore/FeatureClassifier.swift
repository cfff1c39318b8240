// `loki fit` / `loki classify`: a small classifier on feature vectors, so the paper's experiments run
// as pipes: softmax regression (no hidden layer; the paper's grid experiment) or an MLP, trained on
// the observed classes with Adam and cross-entropy (the reference's SingleLayerModel: Adam, lr 1e-3),
// or with the Loki loss (CE of −softmax(z)·D², Runtime/Ops/LokiLoss.swift; its SingleLayerLokiModel).
// Features are standardized with the training set's mean and standard deviation.
//
// A model directory holds model.safetensors (the layers and the standardization), config.json and
// observed.txt (the classes in output order: `loki predict --observed DIR/observed.txt`). It is
// written to a temporary directory and renamed into place.
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

    /// Trains on `features` [M, D] with `labels` in 0..<K (positions in `classes`). For the Loki loss,
    /// `squaredDistances` [K, N] and `labelSpaceTargets` (each record's class in 0..<N) are needed.
    /// `log(epoch, mean loss, training accuracy)` is called after every epoch.
    public static func fit(features: Tensor, labels: [Int], classes: [String], options: FitOptions,
                           loss: TrainingLoss = .crossEntropy, squaredDistances: Tensor? = nil, labelSpaceTargets: [Int]? = nil,
                           log: (Int, Double, Double) -> Void = { _, _, _ in }) -> FeatureClassifier {
        precondition(features.rank == 2 && features.shape[0] == labels.count, "fit: features \(features.shape) for \(labels.count) labels")
        precondition(loss == .crossEntropy || (squaredDistances != nil && labelSpaceTargets?.count == labels.count),
                     "fit: the Loki loss needs squared distances and label-space targets")
        let m = features.shape[0], d = features.shape[1], k = classes.count
        // Standardization: per-feature mean and standard deviation (1 where a feature is constant).
        let mean = features.mean(axis: 0)
        let variance = square(features - mean).mean(axis: 0)
        let std = Tensor(shape: [d], scalars: variance.scalars.map { $0 > 1e-12 ? $0.squareRoot() : 1 })
        let x = withoutGrad { (features - mean) / std }

        let generator = RandomGenerator(seed: options.seed, stream: 0x10c1)
        let net = MLP([d] + options.hidden + [k], generator: generator)
        let optimizer = Adam(decayGroups(net, lr: options.learningRate, weightDecay: options.weightDecay))
        let shuffler = RandomGenerator(seed: options.seed, stream: 0x10c2)
        for epoch in 1...max(1, options.epochs) {
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
                case .loki: l = lokiLoss(logits, squaredDistances: squaredDistances!, targets: idx.map { labelSpaceTargets![$0] })
                }
                optimizer.zeroGrad()
                l.backward()
                optimizer.step()
                total += Double(l.item()) * Double(idx.count)
                for (r, c) in logits.argmax(axis: 1).enumerated() where c == labels[idx[r]] { correct += 1 }
            }
            log(epoch, total / Double(m), Double(correct) / Double(m))
        }
        let config = ClassifierConfig(classes: classes, inputDim: d, hidden: options.hidden, loss: loss.rawValue, epochs: options.epochs)
        return FeatureClassifier(config: config, net: net, mean: mean, std: std)
    }

    /// Class probabilities [B, K] for raw (unstandardized) features [B, D].
    public func probabilities(_ features: Tensor) -> Tensor {
        withoutGrad { softmax(net((features - mean) / std), axis: 1) }
    }

    // MARK: model directory

    public func save(to dir: String) throws {
        let fm = FileManager.default
        let tmp = dir + ".tmp-\(getpid())"
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: URL(fileURLWithPath: tmp + "/config.json"))
        try writeSafeTensors(net.namedParameters() + [("standardize.mean", mean), ("standardize.std", std)],
                             metadata: ["format": "loki-classifier"], to: tmp + "/model.safetensors")
        let lines = classes.map { name -> String in
            guard name.hasPrefix("\"") || name.contains("\n") || name.hasPrefix("#") else { return name }
            return JSONValue.string(name).jsonText
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: tmp + "/observed.txt", atomically: false, encoding: .utf8)
        if fm.fileExists(atPath: dir) { try fm.removeItem(atPath: dir) }
        try fm.moveItem(atPath: tmp, toPath: dir)
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
        let net = MLP([config.inputDim] + config.hidden + [config.classes.count], generator: RandomGenerator(seed: 0))
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
        set.labels.append(p!)
    }
    return (set, status)
}
