// Next-token choice: greedy (temperature 0), or sampling at a temperature with nucleus (top-p)
// truncation, from a Philox stream so a seed reproduces a completion; and numpy's legacy MT19937
// RandomState, which the reference passkey generator draws its keys and depths from.
import Foundation
import Runtime

public struct Sampler {
    public var temperature: Float
    public var topP: Float
    let rng: RandomGenerator

    public init(temperature: Float = 0, topP: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topP = topP
        rng = RandomGenerator(seed: seed, stream: 0x5A)
    }

    /// A token id from logits [V].
    public func sample(_ logits: Tensor) -> Int {
        let v = logits.count, p = logits.data
        if temperature <= 0 {
            var best = 0
            for i in 1..<v where p[i] > p[best] { best = i }
            return best
        }
        var probs = [Float](repeating: 0, count: v)
        let inv = 1 / temperature
        let m = (0..<v).reduce(-Float.infinity) { max($0, p[$1] * inv) }
        var total: Double = 0
        for i in 0..<v { probs[i] = Foundation.exp(p[i] * inv - m); total += Double(probs[i]) }
        var candidates = Array(0..<v)
        if topP < 1 {
            // Keep the most likely tokens until their mass reaches top-p (the token crossing it included).
            candidates.sort { probs[$0] > probs[$1] }
            var mass: Double = 0, keep = 0
            for i in candidates {
                mass += Double(probs[i]) / total
                keep += 1
                if mass >= Double(topP) { break }
            }
            candidates = Array(candidates.prefix(keep))
            total = candidates.reduce(0) { $0 + Double(probs[$1]) }
        }
        var u = Double(rng.uniform([1]).item()) * total
        for i in candidates {
            u -= Double(probs[i])
            if u < 0 { return i }
        }
        return candidates.last!  // invariant: V >= 1 (validated config) and top-p keeps at least one token
    }
}

/// numpy.random.RandomState(seed) (MT19937, init_genrand seeding) and its legacy randint(low, high):
/// masked rejection sampling on 32-bit draws. Matches numpy for ranges below 2^32.
public struct NumpyRandomState {
    private var mt = [UInt32](repeating: 0, count: 624)
    private var index = 624

    public init(seed: UInt32) {
        mt[0] = seed
        for i in 1..<624 { mt[i] = 1_812_433_253 &* (mt[i - 1] ^ (mt[i - 1] >> 30)) &+ UInt32(i) }
    }

    mutating func next32() -> UInt32 {
        if index >= 624 {
            for i in 0..<624 {
                let y = (mt[i] & 0x8000_0000) | (mt[(i + 1) % 624] & 0x7fff_ffff)
                mt[i] = mt[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_b0df)
            }
            index = 0
        }
        var y = mt[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// An integer in low..<high, as RandomState.randint(low, high).
    public mutating func randint(_ low: Int, _ high: Int) -> Int {
        // invariant: Passkey.samples passes (1, 10^7) and (0, fillers) with 2 <= fillers <= UInt32.max.
        precondition(high > low && high - low - 1 <= Int(UInt32.max), "randint: range too large")
        let range = UInt32(high - low - 1)
        if range == 0 { return low }
        var mask = range
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16
        while true {
            let v = next32() & mask
            if v <= range { return low + Int(v) }
        }
    }
}
