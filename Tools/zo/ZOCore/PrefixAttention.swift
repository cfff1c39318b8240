// Prefix tuning as a LLaMA attention backend: P learned keys and values per layer sit in front of
// every sequence (as a cache of P earlier tokens would: the sequence's tokens take positions P…),
// and every token attends to them; plus the backend that captures a forward pass's keys and values
// to initialize them from real activations.
import Runtime

final class PrefixAttention: LLaMAAttentionBackend {
    let rope: RoPE
    let keys: [Tensor], values: [Tensor]
    let padding: [[Bool]]

    init(model: LLaMAModel, keys: [Tensor], values: [Tensor], padding: [[Bool]]) {
        rope = model.rope
        self.keys = keys
        self.values = values
        self.padding = padding
    }

    func attend(layer: Int, q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        let (b, t) = (q.shape[0], q.shape[1])
        let pk = resolved(keys[layer]), pv = resolved(values[layer])
        let p = pk.shape[0]
        let (cos, sin) = rope.tables(positions: Array(p..<(p + t)), sequenceLength: p + t)
        let qr = applyRoPE(q, cos: cos, sin: sin), kr = applyRoPE(k, cos: cos, sin: sin)
        let shape = [b, p, pk.shape[1], pk.shape[2]]
        let allK = concat([pk.unsqueezed(0).broadcasted(to: shape), kr], axis: 1)
        let allV = concat([pv.unsqueezed(0).broadcasted(to: shape), v], axis: 1)
        let mask = AttentionMask(causal: true, queryOffset: p,
                                 keyPadding: padding.map { [Bool](repeating: true, count: p) + $0 })
        return attention(qr, allK, allV, mask: mask)
    }

    func advance(by tokens: Int) {}
}

/// Standard causal attention that keeps each layer's rotated keys and values of one sequence ([T, Hkv, D]).
final class CaptureAttention: LLaMAAttentionBackend {
    let rope: RoPE
    var keys: [Tensor] = [], values: [Tensor] = []

    init(model: LLaMAModel) { rope = model.rope }

    func attend(layer: Int, q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        let t = q.shape[1]
        let (cos, sin) = rope.tables(positions: Array(0..<t), sequenceLength: t)
        let qr = applyRoPE(q, cos: cos, sin: sin), kr = applyRoPE(k, cos: cos, sin: sin)
        keys.append(kr[0].copy())
        values.append(v[0].copy())
        return attention(qr, kr, v, mask: AttentionMask(causal: true))
    }

    func advance(by tokens: Int) {}
}
