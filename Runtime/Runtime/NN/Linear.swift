// Linear and Embedding layers (PyTorch layouts and default initializations).

/// y = x Wᵀ + b. weight: [out, in] (PyTorch's layout, so checkpoints load as they are); bias: [out].
/// x: [..., in] → [..., out]; the leading axes fold into one GEMM.
public final class Linear: Module, UnaryLayer {
    public var weight: Tensor
    public var bias: Tensor?
    /// A low-rank adapter added to this layer's output (LoRA.swift); its weights are named
    /// "<layer>.lora_A.weight" and "<layer>.lora_B.weight", as PEFT names them.
    public var lora: LoRA?
    override public var keyMap: [String: String] { ["lora": ""] }

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                generator: RandomGenerator = Initializer.generator) {
        weight = Initializer.fanInUniform([outFeatures, inFeatures], fanIn: inFeatures, generator: generator)
            .requiringGrad()
        self.bias = bias ? Initializer.fanInUniform([outFeatures], fanIn: inFeatures, generator: generator)
            .requiringGrad() : nil
        super.init()
    }

    /// A layer around given tensors (for models loaded from checkpoints).
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "Linear: weight must be [out, in], got \(weight.shape)")
        if let bias { precondition(bias.shape == [weight.shape[0]], "Linear: bias \(bias.shape) for weight \(weight.shape)") }
        self.weight = weight
        self.bias = bias
        super.init()
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == inFeatures, "Linear: input \(x.shape) for \(inFeatures) input features")
        var y = matmul(x, resolved(weight), transposeB: true)
        if let bias { y = y + resolved(bias) }
        if let lora { y = y + lora(x) }
        return y
    }
}

/// Lookup table: ids → rows of weight [count, dim]. Initialized N(0, 1) as nn.Embedding.
public final class Embedding: Module {
    public var weight: Tensor

    public init(_ count: Int, _ dim: Int, generator: RandomGenerator = Initializer.generator) {
        weight = Initializer.normal([count, dim], generator: generator).requiringGrad()
        super.init()
    }

    public init(weight: Tensor) {
        precondition(weight.rank == 2, "Embedding: weight must be [count, dim], got \(weight.shape)")
        self.weight = weight
        super.init()
    }

    public var count: Int { weight.shape[0] }
    public var dim: Int { weight.shape[1] }

    /// ids (any shape given by `shape`, default 1-D) → [shape..., dim].
    public func callAsFunction(_ ids: [Int], shape: [Int]? = nil) -> Tensor {
        let s = shape ?? [ids.count]
        precondition(Tensor.elementCount(s) == ids.count, "Embedding: \(ids.count) ids for shape \(s)")
        return resolvedRows(weight, ids).reshaped(s + [dim])
    }
}
