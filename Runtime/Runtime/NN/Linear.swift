// Linear and Embedding layers (PyTorch layouts and default initializations).

/// y = x Wᵀ + b. weight: [out, in] (PyTorch's layout, so checkpoints load as they are); bias: [out].
/// x: [..., in] → [..., out]; the leading axes fold into one GEMM.
///
/// A layer loaded from a GGUF file with its weight kept quantized (`init(quantized:bias:)`) multiplies the
/// blocks directly (Ops/QuantizedMatmul.swift) and holds no Float32 copy; reading `weight` (training it,
/// a zeroth-order resolver, saving, `namedState`) expands it once and the layer is a float layer from then on.
public final class Linear: Module, UnaryLayer {
    private var dense: Tensor?
    /// The weight in its GGUF block format, while it has not been expanded.
    public private(set) var quantized: QuantizedMatrix?
    public var bias: Tensor?
    /// A low-rank adapter added to this layer's output (LoRA.swift); its weights are named
    /// "<layer>.lora_A.weight" and "<layer>.lora_B.weight", as PEFT names them.
    public var lora: LoRA?
    override public var keyMap: [String: String] { ["lora": "", "dense": "weight"] }

    /// The weight [out, in] as Float32.
    public var weight: Tensor {
        get { expandOnce(&dense, &quantized) }
        set {
            dense = newValue
            quantized = nil
        }
    }

    override public func materializeState() { _ = weight }

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                generator: RandomGenerator = Initializer.generator) {
        dense = Initializer.fanInUniform([outFeatures, inFeatures], fanIn: inFeatures, generator: generator)
            .requiringGrad()
        self.bias = bias ? Initializer.fanInUniform([outFeatures], fanIn: inFeatures, generator: generator)
            .requiringGrad() : nil
        super.init()
    }

    /// A layer around given tensors (for models loaded from checkpoints).
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "Linear: weight must be [out, in], got \(weight.shape)")
        if let bias { precondition(bias.shape == [weight.shape[0]], "Linear: bias \(bias.shape) for weight \(weight.shape)") }
        dense = weight
        self.bias = bias
        super.init()
    }

    /// A layer whose weight stays in its block format until something needs it as Float32.
    public init(quantized: QuantizedMatrix, bias: Tensor?) {
        if let bias { precondition(bias.shape == [quantized.rows], "Linear: bias \(bias.shape) for weight \(quantized.shape)") }
        self.quantized = quantized
        self.bias = bias
        super.init()
    }

    public var inFeatures: Int { quantized?.cols ?? weight.shape[1] }
    public var outFeatures: Int { quantized?.rows ?? weight.shape[0] }

    /// Rows `rows` of the weight as Float32 [rows.count, in] (label-word logits).
    public func weightRows(_ rows: [Int]) -> Tensor { rowsOf(quantized, weight, rows) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == inFeatures, "Linear: input \(x.shape) for \(inFeatures) input features")
        var y = productWithTransposed(x, quantized, weight)
        if let bias { y = y + resolved(bias) }
        if let lora { y = y + lora(x) }
        return y
    }
}

/// Lookup table: ids → rows of weight [count, dim]. Initialized N(0, 1) as nn.Embedding.
/// Like Linear, a table loaded with its weight kept quantized expands only the rows it looks up, and
/// serves as a tied output projection without a Float32 copy.
public final class Embedding: Module {
    private var dense: Tensor?
    /// The table in its GGUF block format, while it has not been expanded.
    public private(set) var quantized: QuantizedMatrix?
    override public var keyMap: [String: String] { ["dense": "weight"] }

    /// The table [count, dim] as Float32.
    public var weight: Tensor {
        get { expandOnce(&dense, &quantized) }
        set {
            dense = newValue
            quantized = nil
        }
    }

    override public func materializeState() { _ = weight }

    public init(_ count: Int, _ dim: Int, generator: RandomGenerator = Initializer.generator) {
        dense = Initializer.normal([count, dim], generator: generator).requiringGrad()
        super.init()
    }

    public init(weight: Tensor) {
        precondition(weight.rank == 2, "Embedding: weight must be [count, dim], got \(weight.shape)")
        dense = weight
        super.init()
    }

    public init(quantized: QuantizedMatrix) {
        self.quantized = quantized
        super.init()
    }

    public var count: Int { quantized?.rows ?? weight.shape[0] }
    public var dim: Int { quantized?.cols ?? weight.shape[1] }

    /// Rows `ids` as Float32 [ids.count, dim].
    public func rows(_ ids: [Int]) -> Tensor { rowsOf(quantized, weight, ids) }

    /// h [..., dim] · tableᵀ → [..., count]: the table as a tied output projection.
    public func project(_ h: Tensor) -> Tensor { productWithTransposed(h, quantized, weight) }

    /// ids (any shape given by `shape`, default 1-D) → [shape..., dim].
    public func callAsFunction(_ ids: [Int], shape: [Int]? = nil) -> Tensor {
        let s = shape ?? [ids.count]
        precondition(Tensor.elementCount(s) == ids.count, "Embedding: \(ids.count) ids for shape \(s)")
        return rows(ids).reshaped(s + [dim])
    }
}

/// The float32 weight of a layer that holds either it or its quantized blocks: the blocks are expanded
/// the first time and dropped, so the layer is a float layer from then on.
func expandOnce(_ dense: inout Tensor?, _ quantized: inout QuantizedMatrix?) -> Tensor {
    if let dense { return dense }
    let w = quantized!.dequantized()  // invariant: a layer holds one of the two
    dense = w
    quantized = nil
    return w
}

/// x · Wᵀ for a layer's weight: its quantized blocks while it has them and no resolver is in force,
/// else the (resolved) float32 weight.
func productWithTransposed(_ x: Tensor, _ quantized: QuantizedMatrix?, _ weight: @autoclosure () -> Tensor) -> Tensor {
    if let quantized, Parameters.resolver == nil { return quantizedLinear(x, quantized) }
    return matmul(x, resolved(weight()), transposeB: true)
}

/// Rows `ids` of a layer's weight as float32 (from the blocks when it has them).
func rowsOf(_ quantized: QuantizedMatrix?, _ weight: @autoclosure () -> Tensor, _ ids: [Int]) -> Tensor {
    if let quantized, Parameters.resolver == nil { return quantized.gatherRows(ids) }
    return resolvedRows(weight(), ids)
}
