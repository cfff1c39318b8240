// Weight normalization (Salimans & Kingma, 2016) and the causal chomp of temporal convolutions.
//
// weightNorm: w = g · v / ‖v‖, the norm taken per slice of axis 0 (per output channel of a conv or
// linear weight, torch.nn.utils.weight_norm's dim=0). Built from differentiable ops, so g and v get
// their gradients by reverse mode; at initialization g = ‖v‖ and w = v.
// WeightNormConv1d keeps PyTorch's names (weight_g [out, 1, 1], weight_v [out, in/groups, K]), so
// state dicts of modules built with torch.nn.utils.weight_norm load as they are.
// Chomp1d drops the last n steps: Conv1d(padding: (K−1)·d) followed by Chomp1d((K−1)·d) is a causal
// convolution (the TCN / T-Loss idiom); Conv1d(causal: true) computes the same thing without the
// wasted right-hand outputs.

/// g · v / ‖v‖ with the norm over every axis but the first; g has v's rank, size 1 off axis 0.
public func weightNorm(_ v: Tensor, g: Tensor) -> Tensor {
    precondition(v.rank >= 1 && g.count == v.shape[0], "weightNorm: g must have one entry per slice of v's axis 0, got \(g.shape) for \(v.shape)")
    var sq = square(v)
    for axis in stride(from: v.rank - 1, through: 1, by: -1) { sq = sq.sum(axis: axis, keepDims: true) }
    return g.reshaped(sq.shape) * v / sqrt(sq)
}

/// ‖v‖ per slice of axis 0, shaped [out, 1, …] (weight_norm's initial g).
public func sliceNorms(_ v: Tensor) -> Tensor {
    withoutGrad {
        var sq = square(v)
        for axis in stride(from: v.rank - 1, through: 1, by: -1) { sq = sq.sum(axis: axis, keepDims: true) }
        return sqrt(sq)
    }
}

/// A Conv1d whose weight is weight-normalized: x [N, in, L] → [N, out, L'].
public final class WeightNormConv1d: Module, UnaryLayer {
    public var g: Tensor
    public var v: Tensor
    public var bias: Tensor?
    public let stride: Int, padding: Int, dilation: Int, groups: Int, causal: Bool
    override public var keyMap: [String: String] { ["g": "weight_g", "v": "weight_v"] }

    /// Initialized as PyTorch initializes the wrapped Conv1d, then g = ‖v‖.
    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, causal: Bool = false,
                generator: RandomGenerator = Initializer.generator) {
        let conv = Conv1d(inChannels, outChannels, kernel: kernel, stride: stride, padding: padding, dilation: dilation,
                          groups: groups, bias: bias, generator: generator)
        v = conv.weight
        g = sliceNorms(conv.weight).requiringGrad()
        self.bias = conv.bias
        (self.stride, self.padding, self.dilation, self.groups, self.causal) = (stride, padding, dilation, groups, causal)
        super.init()
    }

    /// The effective weight g · v / ‖v‖ [out, in/groups, K].
    public var weight: Tensor { weightNorm(resolved(v), g: resolved(g)) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv1d(x, weight: weight, bias: bias.map(resolved), stride: stride, padding: padding, dilation: dilation,
               groups: groups, causal: causal)
    }
}

/// Drops the last `n` steps of x [..., L] → [..., L − n].
public final class Chomp1d: Module, UnaryLayer {
    public let n: Int
    public init(_ n: Int) {
        precondition(n >= 0, "Chomp1d: n must be non-negative")
        self.n = n
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let l = x.shape[x.rank - 1]
        precondition(n <= l, "Chomp1d: cannot drop \(n) of \(l) steps")
        return n == 0 ? x : x.slice(axis: x.rank - 1, 0, l - n)
    }
}
