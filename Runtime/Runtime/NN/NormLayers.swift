// Normalization layers: LayerNorm, RMSNorm, BatchNorm (1d and 2d in one class).

/// LayerNorm over the last axis; weight 1 and bias 0 at start (nn.LayerNorm).
public final class LayerNorm: Module, UnaryLayer {
    public var weight: Tensor?
    public var bias: Tensor?
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-5, affine: Bool = true, bias: Bool = true) {
        self.eps = eps
        weight = affine ? Tensor.ones([dim]).requiringGrad() : nil
        self.bias = affine && bias ? Tensor.zeros([dim]).requiringGrad() : nil
        super.init()
    }

    /// A layer around given tensors (models loaded from checkpoints).
    public init(weight: Tensor?, bias: Tensor?, eps: Float) {
        self.weight = weight
        self.bias = bias
        self.eps = eps
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { layerNorm(x, weight: weight.map(resolved), bias: bias.map(resolved), eps: eps) }
}

/// RMSNorm over the last axis (LLaMA's); weight 1 at start.
public final class RMSNorm: Module, UnaryLayer {
    public var weight: Tensor
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-6) {
        self.eps = eps
        weight = Tensor.ones([dim]).requiringGrad()
        super.init()
    }

    public init(weight: Tensor, eps: Float) {
        self.weight = weight
        self.eps = eps
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { rmsNorm(x, weight: resolved(weight), eps: eps) }
}

/// BatchNorm over the channel axis 1 of [N, C], [N, C, L] or [N, C, H, W] (nn.BatchNorm1d/2d).
/// Training normalizes with batch statistics and updates the running ones; eval() uses the running
/// statistics. State names follow PyTorch: weight, bias, running_mean, running_var, num_batches_tracked.
public final class BatchNorm: Module, UnaryLayer {
    public var weight: Tensor?
    public var bias: Tensor?
    public var runningMean: Tensor?
    public var runningVar: Tensor?
    public var numBatchesTracked: Tensor?
    public let eps: Float
    public let momentum: Float

    public override var keyMap: [String: String] {
        ["runningMean": "running_mean", "runningVar": "running_var", "numBatchesTracked": "num_batches_tracked"]
    }
    public override var bufferNames: Set<String> { ["running_mean", "running_var", "num_batches_tracked"] }

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true) {
        self.eps = eps
        self.momentum = momentum
        weight = affine ? Tensor.ones([channels]).requiringGrad() : nil
        bias = affine ? Tensor.zeros([channels]).requiringGrad() : nil
        runningMean = trackRunningStats ? Tensor.zeros([channels]) : nil
        runningVar = trackRunningStats ? Tensor.ones([channels]) : nil
        numBatchesTracked = trackRunningStats ? Tensor.zeros([]) : nil
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if isTraining, let n = numBatchesTracked { n.data[0] += 1 }
        return batchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: weight.map(resolved), bias: bias.map(resolved),
                         training: isTraining, momentum: momentum, eps: eps)
    }
}
