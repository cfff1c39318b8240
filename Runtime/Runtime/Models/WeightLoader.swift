// Where a model's parameters come from while it is being built: fresh initialization (for training
// from scratch and tiny random test models) or a checkpoint, fetched by name with shape checks.
//
// Models take a WeightLoader and ask for each parameter by its checkpoint name, so building from a
// checkpoint never allocates random weights first, and F32 safetensors weights stay memory-mapped.
// Loading is strict: `finish()` reports every checkpoint tensor the model did not ask for.

public enum WeightInit: Sendable {
    case zeros, ones
    case normal(std: Float)
    /// U(-1/√fanIn, 1/√fanIn), nn.Linear's default.
    case fanInUniform(fanIn: Int)
}

public protocol WeightLoader: AnyObject {
    /// The parameter `name` of shape `shape` (trainable unless the caller freezes it).
    func weight(_ name: String, _ shape: [Int], _ initial: WeightInit) throws -> Tensor
    /// Whether the source has `name` (optional parts such as a BERT pooler or attention biases).
    func has(_ name: String) -> Bool
    /// Marks a checkpoint tensor as deliberately unused (a tied duplicate, a head that is not part of
    /// the model), so `finish()` does not report it.
    func ignore(_ name: String)
    /// Ends loading; throws if a checkpoint held tensors that nothing asked for.
    func finish() throws
    /// The matrix `name` of shape `shape` in its stored block format, when the source keeps weights
    /// quantized (a GGUF file loaded for inference); nil: ask `weight` for Float32.
    func quantized(_ name: String, _ shape: [Int]) throws -> QuantizedMatrix?
}

extension WeightLoader {
    public func quantized(_ name: String, _ shape: [Int]) throws -> QuantizedMatrix? { nil }
}

/// Fresh weights from a Philox stream.
public final class InitLoader: WeightLoader {
    public let generator: RandomGenerator
    public init(generator: RandomGenerator = Initializer.generator) { self.generator = generator }

    public func weight(_ name: String, _ shape: [Int], _ initial: WeightInit) throws -> Tensor {
        let t: Tensor
        switch initial {
        case .zeros: t = Tensor.zeros(shape)
        case .ones: t = Tensor.ones(shape)
        case let .normal(std): t = generator.normal(shape, std: std)
        case let .fanInUniform(fanIn): t = Initializer.fanInUniform(shape, fanIn: fanIn, generator: generator)
        }
        return t.requiringGrad()
    }

    public func has(_ name: String) -> Bool { true }
    public func ignore(_ name: String) {}
    public func finish() throws {}
}

/// Weights from a checkpoint, optionally under a name prefix ("bert.", "model."), with a map from
/// our names to the file's (GGUF uses its own) and per-name transforms (GGUF's Q/K row order).
/// Names whose first component is in `unprefixed` (a task model's heads beside its "bert." body:
/// "cls", "lm_head") are read without the prefix.
public final class CheckpointLoader: WeightLoader {
    public let source: TensorSource
    public let prefix: String
    public let unprefixed: Set<String>
    /// Checkpoint tensors that are not parameters and may be left unused (e.g. "embeddings.position_ids").
    public var ignorable: Set<String>
    let rename: (String) -> String?
    let transform: (String, Tensor) -> Tensor
    /// Keep the matrices of a GGUF source in their block formats (`quantized`), transformed by this.
    public var keepQuantized: ((String, QuantizedMatrix) -> QuantizedMatrix)?
    private var used = Set<String>()

    public init(_ source: TensorSource, prefix: String = "", unprefixed: Set<String> = [], ignorable: Set<String> = [],
                rename: @escaping (String) -> String? = { $0 },
                transform: @escaping (String, Tensor) -> Tensor = { $1 }) {
        self.source = source
        self.prefix = prefix
        self.unprefixed = unprefixed
        self.ignorable = ignorable
        self.rename = rename
        self.transform = transform
    }

    func fileName(_ name: String) -> String? {
        rename(name).map { n in
            let root = n.split(separator: ".", maxSplits: 1).first.map(String.init) ?? n
            return unprefixed.contains(root) ? n : prefix + n
        }
    }

    public func has(_ name: String) -> Bool { fileName(name).map(source.hasTensor) ?? false }

    public func weight(_ name: String, _ shape: [Int], _ initial: WeightInit) throws -> Tensor {
        guard let file = fileName(name) else {
            throw CheckpointError(source.sourcePath, "no checkpoint name for weight '\(name)'")
        }
        let t = transform(name, try source.tensor(file, shape: shape))
        used.insert(file)
        return t
    }

    public func quantized(_ name: String, _ shape: [Int]) throws -> QuantizedMatrix? {
        guard let keepQuantized, let gguf = source as? GGUFFile, let file = fileName(name),
              let q = gguf.quantizedMatrix(file) else { return nil }
        guard q.shape == shape else {
            throw CheckpointError(source.sourcePath, "weight '\(file)' has shape \(q.shape), expected \(shape)")
        }
        used.insert(file)
        return keepQuantized(name, q)
    }

    public func ignore(_ name: String) {
        if let file = fileName(name) { ignorable.insert(file) }
    }

    public func finish() throws {
        // Tensors outside the model's namespace (a task head such as "classifier.*" beside "bert.*") are
        // not the backbone's business; everything inside it must have been asked for.
        func inside(_ n: String) -> Bool {
            n.hasPrefix(prefix) || unprefixed.contains(n.split(separator: ".", maxSplits: 1).first.map(String.init) ?? n)
        }
        let extra = source.tensorNames.filter { inside($0) && !used.contains($0) && !ignorable.contains($0) }
        guard extra.isEmpty else {
            let shown = extra.prefix(8).map { "'\($0)'" }.joined(separator: ", ")
            throw CheckpointError(source.sourcePath, "unexpected weight\(extra.count > 1 ? "s" : "") \(shown)"
                                  + (extra.count > 8 ? " and \(extra.count - 8) more" : "") + " (the model does not use them)")
        }
    }
}

/// A loader whose token embedding table (`name`, stored with `storedRows` rows) is served at the size
/// the model asks for, as Hugging Face's resize_token_embeddings leaves it: extra rows start at the
/// mean of the stored rows (transformers ≥ 4.46's mean_resizing samples N(mean, 1e-9·covariance),
/// the mean to within 1e-5 of a row's scale), and a smaller table keeps its first rows.
public final class ResizedEmbeddingLoader: WeightLoader {
    let inner: WeightLoader
    let name: String
    let storedRows: Int

    public init(_ inner: WeightLoader, name: String, storedRows: Int) {
        self.inner = inner
        self.name = name
        self.storedRows = storedRows
    }

    public func weight(_ name: String, _ shape: [Int], _ initial: WeightInit) throws -> Tensor {
        guard name == self.name, shape.count == 2, shape[0] != storedRows else { return try inner.weight(name, shape, initial) }
        let stored = try inner.weight(name, [storedRows, shape[1]], initial)
        let rows = shape[0], dim = shape[1]
        let out = Tensor.zeros([rows, dim])
        let src = stored.data, dst = out.data
        dst.update(from: src, count: min(rows, storedRows) * dim)
        if rows > storedRows {
            var mean = [Double](repeating: 0, count: dim)
            for r in 0..<storedRows { for j in 0..<dim { mean[j] += Double(src[r * dim + j]) } }
            for r in storedRows..<rows { for j in 0..<dim { dst[r * dim + j] = Float(mean[j] / Double(max(storedRows, 1))) } }
        }
        return out.requiringGrad(stored.requiresGrad)
    }

    public func has(_ name: String) -> Bool { inner.has(name) }
    public func ignore(_ name: String) { inner.ignore(name) }
    public func finish() throws { try inner.finish() }
}
