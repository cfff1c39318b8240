// Composition: Sequential, parameter-free Activation and Dropout layers, and an MLP builder.

/// Applies its layers in order. Keys are "layers.0", "layers.1", ... (nn.Sequential uses "0", "1",
/// ...: load such checkpoints with a prefix map).
public final class Sequential: Module, UnaryLayer {
    public let layers: [Module]
    private let calls: [(Tensor) -> Tensor]

    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
        self.calls = layers.map { layer in { layer($0) } }
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { calls.reduce(x) { $1($0) } }
}

/// A function as a layer (no parameters): Activation(relu), Activation { gelu($0) }.
public final class Activation: Module, UnaryLayer {
    private let f: (Tensor) -> Tensor
    public init(_ f: @escaping (Tensor) -> Tensor) {
        self.f = f
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { f(x) }
}

/// Inverted dropout, active only in training mode.
public final class Dropout: Module, UnaryLayer {
    public let p: Float
    public var generator: RandomGenerator

    public init(_ p: Float, generator: RandomGenerator? = nil) {
        precondition(p >= 0 && p < 1, "Dropout: p must be in [0, 1), got \(p)")
        self.p = p
        self.generator = generator ?? RandomGenerator(seed: Initializer.generator.seed, stream: 0xD0)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { dropout(x, p: p, training: isTraining, generator: generator) }
}

/// Linear layers of the given widths with an activation (and optional dropout) between them:
/// MLP([784, 256, 10]) = Linear(784, 256) → ReLU → Linear(256, 10).
public func MLP(_ widths: [Int], activation: @escaping (Tensor) -> Tensor = relu, dropout p: Float = 0,
                generator: RandomGenerator = Initializer.generator) -> Sequential {
    precondition(widths.count >= 2, "MLP: needs at least input and output widths")
    var layers: [any UnaryLayer] = []
    for i in 0..<(widths.count - 1) {
        layers.append(Linear(widths[i], widths[i + 1], generator: generator))
        if i < widths.count - 2 {
            layers.append(Activation(activation))
            if p > 0 { layers.append(Dropout(p)) }
        }
    }
    return Sequential(layers)
}

extension Module {
    /// Gives every dropout layer in the tree its own stream for training step `step`: layer i (in
    /// namedModules order) draws from (seed, stream (step << 16) | i), so masks differ between layers and
    /// a resumed run draws the masks of an uninterrupted one. Call before each step's forward pass.
    public func seedDropout(seed: UInt64, step: Int) {
        var i: UInt64 = 0
        for (_, m) in namedModules() {
            guard let d = m as? Dropout else { continue }
            d.generator = RandomGenerator(seed: seed, stream: (UInt64(step) << 16) | i)
            i += 1
        }
    }
}
