// PTCEnc: the patch encoder of LLMFew, the causal dilated CNN of Franceschi et al. (2019, T-Loss)
// that the reference imports as CausalCNNEncoder:
//   depth blocks of `channels` with dilations 1, 2, 4, …, then one block to `reduced` channels at the
//   next dilation; each block is weight-normed Conv1d → chomp → LeakyReLU(0.01), twice, plus a
//   residual (a plain 1×1 Conv1d when the widths differ), no activation after the sum;
//   then max over time (AdaptiveMaxPool1d(1)) and Linear(reduced → width).
// Parameter names are the reference's state-dict names (network.0.network.i.causal.0.weight_g, …).
import Runtime

public final class CausalConvBlock: Module, UnaryLayer {
    public let conv1: WeightNormConv1d
    public let conv2: WeightNormConv1d
    public let residual: Conv1d?
    override public var keyMap: [String: String] { ["conv1": "causal.0", "conv2": "causal.3", "residual": "upordownsample"] }

    public init(_ cin: Int, _ cout: Int, kernel: Int, dilation: Int, generator: RandomGenerator) {
        // Conv1d(padding (K−1)d) + Chomp1d((K−1)d) is Conv1d(causal: true): the same outputs without
        // computing the dropped ones.
        conv1 = WeightNormConv1d(cin, cout, kernel: kernel, dilation: dilation, causal: true, generator: generator)
        conv2 = WeightNormConv1d(cout, cout, kernel: kernel, dilation: dilation, causal: true, generator: generator)
        residual = cin != cout ? Conv1d(cin, cout, kernel: 1, generator: generator) : nil
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = leakyRelu(conv2(leakyRelu(conv1(x))))
        return h + (residual.map { $0(x) } ?? x)
    }
}

public final class PTCEncoder: Module, UnaryLayer {
    public let blocks: [CausalConvBlock]
    public let linear: Linear
    override public var keyMap: [String: String] { ["blocks": "network.0.network", "linear": "network.3"] }

    public init(inChannels: Int, channels: Int, depth: Int, reduced: Int, width: Int, kernel: Int, generator: RandomGenerator) {
        var blocks: [CausalConvBlock] = []
        var dilation = 1
        for i in 0..<depth {
            blocks.append(CausalConvBlock(i == 0 ? inChannels : channels, channels, kernel: kernel, dilation: dilation, generator: generator))
            dilation *= 2
        }
        blocks.append(CausalConvBlock(depth == 0 ? inChannels : channels, reduced, kernel: kernel, dilation: dilation, generator: generator))
        self.blocks = blocks
        linear = Linear(reduced, width, generator: generator)
        super.init()
    }

    /// x [R, M, P] → [R, width].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = blocks.reduce(x) { $1($0) }
        return linear(h.max(axis: 2))
    }
}
