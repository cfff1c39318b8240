// Dropout (inverted): in training, zero each element with probability p and scale the rest by
// 1/(1-p); in evaluation, the identity. The mask comes from the generator's Philox stream, so a run
// is reproducible from its seed.

public func dropout(_ x: Tensor, p: Float, training: Bool, generator: RandomGenerator) -> Tensor {
    precondition(p >= 0 && p < 1, "dropout: p must be in [0, 1), got \(p)")
    guard training && p > 0 else { return x }
    let mask = generator.uniform(x.shape)
    let keep = 1 / (1 - p)
    let m = mask.data
    for i in 0..<mask.count { m[i] = m[i] >= p ? keep : 0 }
    let out = zipKernel(x, mask, *)
    propagate(out, [x]) { mul(x.tangent!, mask) }
    return record(out, "dropout", [x]) { g in [mul(g, mask)] }
}
