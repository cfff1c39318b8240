// Convolution layers: Conv1d (with causal left padding) and Conv2d, initialized as PyTorch does.

/// weight: [out, in/groups, K]; bias: [out]. x: [N, in, L] → [N, out, L'].
public final class Conv1d: Module, UnaryLayer {
    public var weight: Tensor
    public var bias: Tensor?
    public let stride: Int, padding: Int, dilation: Int, groups: Int, causal: Bool

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, causal: Bool = false,
                generator: RandomGenerator = Initializer.generator) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "Conv1d: channels not divisible by groups \(groups)")
        let fanIn = inChannels / groups * kernel
        weight = Initializer.fanInUniform([outChannels, inChannels / groups, kernel], fanIn: fanIn, generator: generator)
            .requiringGrad()
        self.bias = bias ? Initializer.fanInUniform([outChannels], fanIn: fanIn, generator: generator).requiringGrad() : nil
        (self.stride, self.padding, self.dilation, self.groups, self.causal) = (stride, padding, dilation, groups, causal)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv1d(x, weight: resolved(weight), bias: bias.map(resolved), stride: stride, padding: padding, dilation: dilation,
               groups: groups, causal: causal)
    }
}

/// weight: [out, in/groups, kh, kw]; bias: [out]. x: [N, in, H, W] → [N, out, H', W'].
public final class Conv2d: Module, UnaryLayer {
    public var weight: Tensor
    public var bias: Tensor?
    public let stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
                generator: RandomGenerator = Initializer.generator) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0, "Conv2d: channels not divisible by groups \(groups)")
        let fanIn = inChannels / groups * kernel.0 * kernel.1
        weight = Initializer.fanInUniform([outChannels, inChannels / groups, kernel.0, kernel.1], fanIn: fanIn,
                                          generator: generator).requiringGrad()
        self.bias = bias ? Initializer.fanInUniform([outChannels], fanIn: fanIn, generator: generator).requiringGrad() : nil
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
        super.init()
    }

    /// A layer around given tensors (weight [out, in/groups, kh, kw]; models loaded from checkpoints).
    public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0, groups: Int = 1) {
        precondition(weight.rank == 4, "Conv2d: weight must be [out, in/groups, kh, kw], got \(weight.shape)")
        self.weight = weight
        self.bias = bias
        (self.stride, self.padding, self.dilation, self.groups) = ((stride, stride), (padding, padding), (1, 1), groups)
        super.init()
    }

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                            bias: Bool = true, generator: RandomGenerator = Initializer.generator) {
        self.init(inChannels, outChannels, kernel: (kernel, kernel), stride: (stride, stride),
                  padding: (padding, padding), bias: bias, generator: generator)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(x, weight: resolved(weight), bias: bias.map(resolved), stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}
