// GLiClass's heads on top of the encoder (the reference's layers.py and scorers.py), with the
// reference's weight names so its checkpoints load as they are.
//
// Dimension letters: B batch, S tokens, K label slots, D encoder width, Dh projector width.
//
//   FeaturesProjector   x [.., D] → linear_1 → act → dropout → linear_2 → [.., D]
//   simple              logit[b,k] = t[b]·c[b,k]
//   weighted-dot        (t0,t1) = proj_text(t), (l0,l1) = proj_label(c); out_mlp([t0, l0, t1⊙l1])
//   mlp                 mlp([t, c_k]): Linear(2D,256) ReLU Linear(256,128) ReLU Linear(128,1)
//   hopfield            c' = c + softmax_k(4·(Wq c)·(Wk t))·(Wv t); the mlp above on c'
//   cross-attn          per label, attention over the text's token states; MLP([ctx, c])
//
// The mlp and hopfield scorers are 256 wide whatever scorer_mlp_hidden_size says (the reference passes
// it under a name they do not read); checkpoints are shaped so.
import Runtime

/// Linear(D, Dh) → activation → dropout → Linear(Dh, D).
final class FeaturesProjector: Module {
    let linear1: Linear
    let linear2: Linear
    let dropout: Dropout
    let act: (Tensor) -> Tensor

    init(_ w: WeightScope, width d: Int, hidden: Int, activation act: @escaping (Tensor) -> Tensor, dropout p: Float, std: Float) throws {
        linear1 = try w.linear("linear_1", d, hidden, std: std)
        linear2 = try w.linear("linear_2", hidden, d, std: std)
        dropout = Dropout(p)
        self.act = act
        super.init()
        placed(at: w)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { linear2(dropout(act(linear1(x)))) }
}

/// Scores label slots against a text: text [B, D] (or [B, S, D] for cross-attn), labels [B, K, D] →
/// logits [B, K]. `labelMask` [B][K] is false at padded slots; `textMask` [B][S] at padded tokens.
protocol Scorer: Module {
    func score(text: Tensor, labels: Tensor, labelMask: [[Bool]], textMask: [[Bool]]?) -> Tensor
}

/// text [B, D] beside each of K label slots: [B, K, D].
func expandText(_ text: Tensor, slots k: Int) -> Tensor {
    let (b, d) = (text.shape[0], text.shape[1])
    return text.reshaped([b, 1, d]).broadcasted(to: [b, k, d])
}

final class DotScorer: Module, Scorer {
    func score(text: Tensor, labels: Tensor, labelMask: [[Bool]], textMask: [[Bool]]?) -> Tensor {
        (labels * expandText(text, slots: labels.shape[1])).sum(axis: 2)
    }
}

/// Linear(2D or D, 256) → ReLU → Linear(256, 128) → ReLU → Linear(128, 1), as `mlp.0/2/4`.
final class ScoreMLP: Module {
    let layers: [Linear]
    let activation: (Tensor) -> Tensor

    init(_ w: WeightScope, input: Int, hidden: Int, activation: @escaping (Tensor) -> Tensor, std: Float) throws {
        layers = [try w.linear("0", input, hidden, std: std), try w.linear("2", hidden, hidden / 2, std: std),
                  try w.linear("4", hidden / 2, 1, std: std)]
        self.activation = activation
        super.init()
        placed(at: w)
    }

    /// [.., input] → [..] (the last axis squeezed).
    func callAsFunction(_ x: Tensor) -> Tensor {
        let y = layers[2](activation(layers[1](activation(layers[0](x)))))
        return y.reshaped(Array(y.shape.dropLast()))
    }
}

final class MLPScorer: Module, Scorer {
    let mlp: ScoreMLP

    init(_ w: WeightScope, width d: Int, std: Float) throws {
        mlp = try ScoreMLP(w.pp("mlp"), input: 2 * d, hidden: 256, activation: relu, std: std)
        super.init()
        placed(at: w)
    }

    func score(text: Tensor, labels: Tensor, labelMask: [[Bool]], textMask: [[Bool]]?) -> Tensor {
        mlp(concat([expandText(text, slots: labels.shape[1]), labels], axis: 2))
    }
}

final class WeightedDotScorer: Module, Scorer {
    let projText: Linear
    let projLabel: Linear
    let hidden: Linear
    let out: Linear
    let dropout = Dropout(0.1)

    init(_ w: WeightScope, width d: Int, std: Float) throws {
        projText = try w.linear("proj_text", d, 2 * d, std: std)
        projLabel = try w.linear("proj_label", d, 2 * d, std: std)
        hidden = try w.pp("out_mlp").linear("0", 3 * d, 4 * d, std: std)
        out = try w.pp("out_mlp").linear("3", 4 * d, 1, std: std)
        super.init()
        placed(at: w)
    }

    func score(text: Tensor, labels: Tensor, labelMask: [[Bool]], textMask: [[Bool]]?) -> Tensor {
        let (b, k, d) = (labels.shape[0], labels.shape[1], labels.shape[2])
        let t = projText(text).split([d, d], axis: 1)                  // 2 × [B, D]
        let l = projLabel(labels).split([d, d], axis: 2)               // 2 × [B, K, D]
        let cat = concat([expandText(t[0], slots: k), l[0], expandText(t[1], slots: k) * l[1]], axis: 2)
        return out(relu(dropout(hidden(cat)))).reshaped([b, k])
    }
}

final class HopfieldScorer: Module, Scorer {
    let qProj: Linear
    let kProj: Linear
    let vProj: Linear
    let mlp: ScoreMLP
    let beta: Float = 4
    /// Padded label slots join the softmax over labels as the reference lets them (a label's score
    /// then depends on how many slots its batch pads).
    var referenceSoftmax = false

    init(_ w: WeightScope, width d: Int, std: Float) throws {
        qProj = try w.linear("q_proj", d, d, bias: false, std: std)
        kProj = try w.linear("k_proj", d, d, bias: false, std: std)
        vProj = try w.linear("v_proj", d, d, bias: false, std: std)
        mlp = try ScoreMLP(w.pp("mlp"), input: d, hidden: 256, activation: relu, std: std)
        super.init()
        placed(at: w)
    }

    func score(text: Tensor, labels: Tensor, labelMask: [[Bool]], textMask: [[Bool]]?) -> Tensor {
        let (b, k, d) = (labels.shape[0], labels.shape[1], labels.shape[2])
        let q = qProj(labels)                                          // [B, K, D]
        let key = kProj(text), value = vProj(text)                     // [B, D]
        var a = (q * expandText(key, slots: k)).sum(axis: 2) * beta    // [B, K]
        if !referenceSoftmax {
            let padded = Tensor(shape: [b, k], scalars: labelMask.flatMap { row in (0..<k).map { $0 < row.count && row[$0] ? Float(0) : 1 } })
            a = a.maskedFill(padded, -Float.infinity)
        }
        let attn = softmax(a, axis: 1).reshaped([b, k, 1])
        let context = attn * value.reshaped([b, 1, d])
        return mlp(labels + context)
    }
}

final class CrossAttentionScorer: Module, Scorer {
    let qNorm: LayerNorm, kvNorm: LayerNorm, norm: LayerNorm
    let q: Linear, k: Linear, v: Linear, out: Linear
    let mlp: ScoreMLP
    let heads: Int

    init(_ w: WeightScope, width d: Int, heads: Int, mlpHidden: Int, std: Float) throws {
        qNorm = try w.layerNorm("q_norm", d, eps: 1e-5)
        kvNorm = try w.layerNorm("kv_norm", d, eps: 1e-5)
        norm = try w.layerNorm("norm", d, eps: 1e-5)
        q = try w.linear("q", d, d, std: std)
        k = try w.linear("k", d, d, std: std)
        v = try w.linear("v", d, d, std: std)
        out = try w.linear("out", d, d, std: std)
        mlp = try ScoreMLP(w.pp("score_mlp"), input: 2 * d, hidden: mlpHidden, activation: { gelu($0) }, std: std)
        self.heads = heads
        super.init()
        placed(at: w)
    }

    func score(text: Tensor, labels: Tensor, labelMask: [[Bool]], textMask: [[Bool]]?) -> Tensor {
        let (b, kk, d) = (labels.shape[0], labels.shape[1], labels.shape[2])
        let s = text.shape[1], hd = d / heads
        let query = q(qNorm(labels)).reshaped([b, kk, heads, hd])
        let key = k(kvNorm(text)).reshaped([b, s, heads, hd])
        let value = v(text).reshaped([b, s, heads, hd])
        let ctx = attention(query, key, value, mask: AttentionMask(keyPadding: textMask))
        let c = norm(out(ctx.reshaped([b, kk, d])))
        return mlp(concat([c, labels], axis: 2))
    }
}

/// squeeze_layers: a squeeze-and-excitation weighting of the encoder's layers (layers.py
/// LayerwiseAttention) over the L layer outputs (the reference passes L + 1 states, embeddings
/// included, to a module built for L, and fails). The squeeze averages over real tokens only.
final class LayerwiseAttention: Module {
    let squeeze: Linear, w1: Linear, w2: Linear, outputProjection: Linear

    init(_ w: WeightScope, layers l: Int, width d: Int, std: Float) throws {
        squeeze = try w.linear("squeeze", d, 1, std: std)
        w1 = try w.linear("W1", l, l / 2, std: std)
        w2 = try w.linear("W2", l / 2, l, std: std)
        outputProjection = try w.linear("output_projection", d, d, std: std)
        super.init()
        placed(at: w)
    }

    /// layers: L × [B, S, D]; mask [B, S, 1] (1 at real tokens) → [B, S, D].
    func callAsFunction(_ layers: [Tensor], mask: Tensor) -> Tensor {
        let u = stack(layers, axis: 1)                                 // [B, L, S, D]
        let (b, l, s) = (u.shape[0], u.shape[1], u.shape[2])
        let m = mask.reshaped([b, 1, s])
        let z = (squeeze(u).reshaped([b, l, s]) * m).sum(axis: 2) / clamp(m.sum(axis: 2), min: 1)   // [B, L]
        let weights = sigmoid(w2(relu(w1(z)))).reshaped([b, l, 1, 1])
        return outputProjection((u * weights).sum(axis: 1))
    }
}
