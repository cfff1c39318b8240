// Pieces the post-LayerNorm encoders (BERT, RoBERTa/XLM-R, MPNet, DeBERTa-v2) share: multi-head
// self-attention over right-padded sequences with optional prefix keys/values and an additive score
// bias, the masked-language-model head, and checks of the ids a batch brings.
//
//   attention:  x [B, T, H·D] projections → softmax(s·Q Kᵀ + bias, padded keys hidden) V
//   MLM head:   logits = LN(act(dense(h))) Wᵀ + b   (W: the decoder, or the word embeddings when tied)

/// Self-attention of one encoder layer. q, k, v: [B, T, heads·D] → context [B, T, heads·D].
/// `prefix` ([P, heads, D] keys and values) is seen by every query; `bias` is [1 or B, heads, T, P + T].
/// With `capture`, the layer's own keys and values [B, T, heads, D] are handed back.
func encoderSelfAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, padding: [[Bool]]?,
                          prefix: LayerKeyValues?, bias: Tensor? = nil, scale: Float? = nil,
                          capture: Bool = false) -> (context: Tensor, keyValues: LayerKeyValues?) {
    let (b, t, width) = (q.shape[0], q.shape[1], q.shape[2])
    let shape = [b, t, heads, width / heads]
    let qh = q.reshaped(shape), kh = k.reshaped(shape), vh = v.reshaped(shape)
    var keys = kh, values = vh, keyPadding = padding
    if let prefix {
        let p = prefix.keys.shape[0]
        let ps = [b, p, heads, width / heads]
        keys = concat([resolved(prefix.keys).unsqueezed(0).broadcasted(to: ps), kh], axis: 1)
        values = concat([resolved(prefix.values).unsqueezed(0).broadcasted(to: ps), vh], axis: 1)
        keyPadding = padding.map { $0.map { [Bool](repeating: true, count: p) + $0 } }
    }
    let ctx = attention(qh, keys, values, mask: AttentionMask(keyPadding: keyPadding), scale: scale, bias: bias)
    return (ctx.reshaped([b, t, width]), capture ? LayerKeyValues(keys: kh, values: vh) : nil)
}

/// The masked-language-model head of an encoder checkpoint (BertOnlyMLMHead, RobertaLMHead,
/// MPNetLMHead, DeBERTa-v2's): dense → activation → LayerNorm → vocabulary projection + bias.
public final class MaskedLMHead: Module {
    let dense: Linear
    let layerNorm: LayerNorm
    /// nil when the projection is tied to the word embeddings (the usual case).
    let decoder: Linear?
    var bias: Tensor
    private let act: (Tensor) -> Tensor
    private let tied: () -> Tensor

    /// `w` is the head's scope ("cls.predictions", "lm_head"); `dense` and `norm` name its layers there.
    init(_ w: WeightScope, dense denseName: String, norm normName: String, hidden: Int, embedding: Int, vocab: Int,
         eps: Float, activation: @escaping (Tensor) -> Tensor, std: Float, tiedTo embeddings: @escaping () -> Tensor) throws {
        dense = try w.linear(denseName, hidden, embedding, std: std)
        layerNorm = try w.layerNorm(normName, embedding, eps: eps)
        decoder = w.pp("decoder").has("weight")
            ? Linear(weight: try w.pp("decoder").tensor("weight", [vocab, embedding], .normal(std: std)), bias: nil).placed(at: w.pp("decoder"))
            : nil
        // The output bias is stored as "bias", as "decoder.bias", or both (the same tensor, tied).
        if w.has("bias") {
            bias = try w.tensor("bias", [vocab], .zeros)
            if w.pp("decoder").has("bias") { w.loader.ignore(w.pp("decoder").name("bias")) }
        } else if w.pp("decoder").has("bias") {
            bias = try w.pp("decoder").tensor("bias", [vocab], .zeros)
        } else {
            bias = try w.tensor("bias", [vocab], .zeros)
        }
        act = activation
        tied = embeddings
        super.init()
        placed(at: w)
    }

    /// The projection weight [V, E].
    var projection: Tensor { decoder?.weight ?? tied() }

    func transform(_ h: Tensor) -> Tensor { layerNorm(act(dense(h))) }

    public func callAsFunction(_ h: Tensor) -> Tensor {
        matmul(transform(h), resolved(projection), transposeB: true) + resolved(bias)
    }

    public func callAsFunction(_ h: Tensor, rows: [Int]) -> Tensor {
        matmul(transform(h), resolvedRows(projection, rows), transposeB: true) + resolved(bias).indexSelect(axis: 0, rows)
    }
}

/// Ids must index the embedding table: checked where they enter a model (a bad id is a caller's
/// error that names the id, never an out-of-bounds read).
func checkIds(_ ids: [Int], vocabulary: Int, model: String) {
    for id in ids where id < 0 || id >= vocabulary {
        preconditionFailure("\(model): token id \(id) outside the vocabulary of \(vocabulary) (the registry checks tokenizers against it)")
    }
}
