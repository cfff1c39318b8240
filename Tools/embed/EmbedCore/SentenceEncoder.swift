// SentenceEncoder: text → one vector, as sentence-transformers computes it for a model directory.
//
// It follows the directory's modules.json pipeline: Transformer (the backbone, with
// sentence_bert_config.json's max_seq_length and do_lower_case), Pooling (1_Pooling/config.json;
// several modes are concatenated in sentence-transformers' order), Dense (a linear layer with an
// activation) and Normalize. Any backbone the model registry loads works: a plain encoder directory
// gets mean pooling, a decoder (a directory or a GGUF file) last-token pooling. Flags override
// pooling, normalization and the maximum length. Texts are sorted by length into batches and
// returned in input order.
import Foundation
import Runtime

public final class SentenceEncoder {
    public let backbone: any Backbone
    public let tokenizer: Tokenizer
    public let poolings: [PoolingMode]
    public let dense: [DenseLayer]
    public let normalize: Bool
    public let maxLength: Int
    public let lowercase: Bool

    /// Loads `path` (a model directory or a .gguf file); nil options take the model's own settings.
    public init(path: String, pooling: PoolingMode? = nil, normalize: Bool? = nil, maxLength: Int? = nil) throws {
        var modes: [PoolingMode] = []
        var norm = false, dense: [DenseLayer] = []
        var seqLength: Int? = nil, lower = false
        // A file inside a model directory (model.safetensors, config.json) stands for the directory.
        var isDirectory: ObjCBool = false
        let path = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && !path.hasSuffix(".gguf") ? (path as NSString).deletingLastPathComponent : path
        var backboneDir = path
        let modulesPath = (path as NSString).appendingPathComponent("modules.json")
        if FileManager.default.fileExists(atPath: modulesPath) {
            for module in try readModules(modulesPath) {
                let dir = module.path.isEmpty ? path : path + "/" + module.path
                switch module.type {
                case "sentence_transformers.models.Transformer":
                    backboneDir = dir
                    if let c = try? readJSON(dir + "/sentence_bert_config.json") {
                        seqLength = (try? c["max_seq_length"]?.numberValue?.int()) ?? nil
                        lower = c["do_lower_case"]?.boolValue ?? false
                        if let n = seqLength, n < 1 {
                            throw CheckpointError(dir + "/sentence_bert_config.json", "max_seq_length is \(n); it must be positive")
                        }
                    }
                case "sentence_transformers.models.Pooling":
                    modes = try readPooling(dir + "/config.json")
                case "sentence_transformers.models.Normalize":
                    norm = true
                case "sentence_transformers.models.Dense":
                    dense.append(try DenseLayer(directory: dir))
                default:
                    throw CheckpointError(modulesPath, "module type \(module.type) is not supported (Transformer, Pooling, Dense, Normalize are)")
                }
            }
        }
        let loaded = try ModelRegistry.load(path: backboneDir)
        backbone = loaded.backbone
        tokenizer = loaded.tokenizer
        if modes.isEmpty { modes = [backbone.descriptor.kind == .decoder ? .last : .mean] }
        if let pooling { modes = [pooling] }
        poolings = modes
        // Each Dense layer must take what the one before gives (pooled hidden states first): checked
        // here, not by a matmul on the first record.
        var width = backbone.descriptor.hiddenSize * modes.count
        for (k, d) in dense.enumerated() {
            guard d.linear.inFeatures == width else {
                throw CheckpointError(modulesPath, "Dense module \(k + 1) takes \(d.linear.inFeatures) features but gets \(width) "
                                      + "(\(modes.count) pooling mode(s) of \(backbone.descriptor.hiddenSize))")
            }
            width = d.linear.outFeatures
        }
        self.dense = dense
        self.normalize = normalize ?? norm
        lowercase = lower
        let positions = backbone.descriptor.maxPositions ?? Int.max
        self.maxLength = min(maxLength ?? seqLength ?? tokenizer.truncation?.maxLength ?? positions, positions)
        tokenizer.truncation = Truncation(maxLength: self.maxLength)
        tokenizer.padding = nil
    }

    /// The length of the vectors `embed` returns.
    public var dimension: Int {
        if let last = dense.last { return last.linear.outFeatures }
        return backbone.descriptor.hiddenSize * poolings.count
    }

    /// Token ids of each text (truncated to maxLength, special tokens added).
    public func tokenize(_ texts: [String]) throws -> [[Int]] {
        try tokenizeEach(texts).map { try $0.get() }
    }

    /// Token ids of each text, or why it has none (a text that cannot be tokenized fails alone).
    public func tokenizeEach(_ texts: [String]) -> [Result<[Int], Error>] {
        // Texts are independent and the tokenizer is safe to share: encode them on all threads.
        var ids = [Result<[Int], Error>](repeating: .success([]), count: texts.count)
        ids.withUnsafeMutableBufferPointer { out in
            let out = out
            parallelFor(texts.count, grain: 16) { range in
                for i in range {
                    do { out[i] = .success(try tokenizer.encode(lowercase ? texts[i].lowercased() : texts[i], keepOverflow: false).ids) } catch {
                        out[i] = .failure(error)
                    }
                }
            }
        }
        return ids
    }

    /// Vectors of the texts that tokenize, and the tokenizer's error for those that do not, in order.
    public func embedEach(_ texts: [String], batchSize: Int = 32) -> [Result<[Float], Error>] {
        let ids = tokenizeEach(texts)
        let good = ids.indices.filter { if case .success = ids[$0] { return true }; return false }
        let vectors = embed(ids: good.map { i -> [Int] in if case .success(let t) = ids[i] { return t }; return [] }, batchSize: batchSize)
        var out = ids.map { r -> Result<[Float], Error> in r.map { _ in [] } }
        for (k, i) in good.enumerated() { out[i] = .success(vectors[k]) }
        return out
    }

    /// One vector per text, in input order; texts are sorted by token count into batches of `batchSize`.
    public func embed(_ texts: [String], batchSize: Int = 32) throws -> [[Float]] {
        let ids = try tokenize(texts)
        return embed(ids: ids, batchSize: batchSize)
    }

    public func embed(ids: [[Int]], batchSize: Int = 32) -> [[Float]] {
        var out = [[Float]](repeating: [], count: ids.count)
        let order = ids.indices.sorted { ids[$0].count < ids[$1].count }
        let batches = stride(from: 0, to: order.count, by: max(1, batchSize)).map { Array(order[$0..<min($0 + batchSize, order.count)]) }
        let lock = NSLock()
        // Batches run side by side, one per thread (better scaling than multi-threaded GEMMs on short inputs).
        withoutGrad {
            forEachConcurrently(batches.count) { k in
                let chunk = batches[k]
                let v = encode(chunk.map { ids[$0] })
                let dim = v.shape[1]
                lock.lock()
                for (row, i) in chunk.enumerated() { out[i] = Array(UnsafeBufferPointer(start: v.data + row * dim, count: dim)) }
                lock.unlock()
            }
        }
        return out
    }

    /// Vectors [B, dim] for one batch of token id sequences (no autograd).
    func encode(_ seqs: [[Int]]) -> Tensor {
        let batch = TokenBatch(seqs, padId: tokenizer.padId ?? 0)
        let hidden = backbone.hidden(batch)
        var v = poolings.count == 1 ? pool(hidden, mask: batch.mask, mode: poolings[0])
            : concat(poolings.map { pool(hidden, mask: batch.mask, mode: $0) }, axis: 1)
        for d in dense { v = d(v) }
        return normalize ? l2Normalize(v) : v
    }
}

/// sentence-transformers' Dense module: activation(W x + b), from its directory (config.json +
/// model.safetensors with linear.weight and linear.bias).
public final class DenseLayer {
    public let linear: Linear
    let activation: (Tensor) -> Tensor

    init(directory: String) throws {
        let c = try readJSON(directory + "/config.json")
        guard let inF = try c["in_features"]?.numberValue?.int(), let outF = try c["out_features"]?.numberValue?.int() else {
            throw CheckpointError(directory + "/config.json", "missing in_features/out_features")
        }
        let act = c["activation_function"]?.stringValue ?? "torch.nn.modules.linear.Identity"
        switch act.split(separator: ".").last.map(String.init) ?? "" {
        case "Identity": activation = { $0 }
        case "Tanh": activation = tanh
        case "ReLU": activation = relu
        case "GELU": activation = { gelu($0) }
        case "Sigmoid": activation = sigmoid
        default: throw CheckpointError(directory + "/config.json", "Dense activation \(act) is not supported")
        }
        let source = try SafeTensorsCheckpoint(path: directory)
        let bias = c["bias"]?.boolValue ?? true
        linear = Linear(weight: try source.tensor("linear.weight", shape: [outF, inF]),
                        bias: bias ? try source.tensor("linear.bias", shape: [outF]) : nil)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { activation(linear(x)) }
}

private struct ModuleEntry { let type: String; let path: String }

private func readModules(_ path: String) throws -> [ModuleEntry] {
    guard let list = try readJSON(path).arrayValue else { throw CheckpointError(path, "not a JSON array") }
    return try list.map { m in
        guard let type = m["type"]?.stringValue else { throw CheckpointError(path, "a module without a type") }
        return ModuleEntry(type: type, path: m["path"]?.stringValue ?? "")
    }
}

/// sentence-transformers' Pooling modes that are on, in the order it concatenates them.
private func readPooling(_ path: String) throws -> [PoolingMode] {
    let c = try readJSON(path)
    func on(_ k: String) -> Bool { c[k]?.boolValue ?? false }
    if on("pooling_mode_weightedmean_tokens") {
        throw CheckpointError(path, "weighted-mean pooling is not supported (mean, cls, max, mean_sqrt_len, lasttoken are)")
    }
    let modes: [(String, PoolingMode)] = [("pooling_mode_cls_token", .cls), ("pooling_mode_max_tokens", .max),
                                          ("pooling_mode_mean_tokens", .mean), ("pooling_mode_mean_sqrt_len_tokens", .meanSqrtLen),
                                          ("pooling_mode_lasttoken", .last)]
    let chosen = modes.filter { on($0.0) }.map(\.1)
    guard !chosen.isEmpty else { throw CheckpointError(path, "no pooling mode is enabled") }
    return chosen
}

func readJSON(_ path: String) throws -> JSONValue {
    guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError(path, "cannot read") }
    do { return try JSONValue(parsing: [UInt8](data)) } catch { throw CheckpointError(path, "not valid JSON: \(error)") }
}
