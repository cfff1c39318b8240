// Parameter initialization, as PyTorch's layers do it by default, drawn from Philox streams.
//
// Every layer takes a RandomGenerator; by default the process-wide `Initializer.generator`, which a
// program reseeds from `--seed`, so a model built twice with the same seed is the same model.
import Foundation

public enum Initializer {
    /// The generator layers draw from when none is given.
    public nonisolated(unsafe) static var generator = RandomGenerator(seed: 0, stream: 0x1417)

    /// Reseeds the default generator (programs call this with --seed).
    public static func seed(_ seed: UInt64) { generator = RandomGenerator(seed: seed, stream: 0x1417) }

    /// U(-b, b) with b = 1/√fanIn: what nn.Linear and nn.Conv* use for weights (kaiming_uniform with
    /// a = √5) and biases.
    public static func fanInUniform(_ shape: [Int], fanIn: Int, generator: RandomGenerator) -> Tensor {
        let b = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
        return generator.uniform(shape, low: -b, high: b)
    }

    /// N(0, std²).
    public static func normal(_ shape: [Int], std: Float = 1, generator: RandomGenerator) -> Tensor {
        generator.normal(shape, std: std)
    }

    /// Xavier/Glorot uniform: U(-b, b), b = gain·√(6/(fanIn + fanOut)).
    public static func xavierUniform(_ shape: [Int], fanIn: Int, fanOut: Int, gain: Float = 1,
                                     generator: RandomGenerator) -> Tensor {
        let b = gain * (6 / Float(fanIn + fanOut)).squareRoot()
        return generator.uniform(shape, low: -b, high: b)
    }
}
