// DeBERTa-v2/v3 encoder (Hugging Face DebertaV2Model): disentangled attention over content and
// relative position, the relative-position embeddings shared by every layer (log buckets in v3), an
// optional absolute position input, embedding_size ≠ hidden_size through a projection.
//
//   x = LN(proj(word[ids] + pos[t]? + type[typeIds]?)) ⊙ mask
//   R = LN?(rel_embeddings) [2S, H]; Kr = key_proj(R) or pos_key_proj(R); Qr likewise
//   δ(q, k) = clamp(S + bucket(q − k), 0, 2S − 1)
//   scores[q, k] = (Q_q·K_k + Q_q·Kr_δ(q,k) [c2p] + K_k·Qr_δ(q,k) [p2c]) / √(D · (1 + #terms))
//   per layer: a = LN(x + O·softmax(scores)V);  x = LN(a + W2 act(W1 a))
//
// Padded query rows: transformers masks them entirely (uniform attention over every key); here they
// see the real keys. Real positions are identical either way.
import Foundation

final class DeBERTaLayer: Module {
    let queryProj: Linear, keyProj: Linear, valueProj: Linear
    let posKeyProj: Linear?, posQueryProj: Linear?
    let attentionOutput: Linear, attentionNorm: LayerNorm
    let intermediate: Linear
    let output: Linear, outputNorm: LayerNorm
    let dropout: Dropout
    let heads: Int
    let act: (Tensor) -> Tensor
    let c2p: Bool, p2c: Bool, shareAttKey: Bool

    init(_ c: DeBERTaV2Config, _ w: WeightScope) throws {
        let h = c.hiddenSize, std = c.initializerRange
        let sa = w.pp("attention").pp("self"), ao = w.pp("attention").pp("output")
        queryProj = try sa.linear("query_proj", h, h, std: std)
        keyProj = try sa.linear("key_proj", h, h, std: std)
        valueProj = try sa.linear("value_proj", h, h, std: std)
        c2p = c.posAttType.contains("c2p")
        p2c = c.posAttType.contains("p2c")
        shareAttKey = c.shareAttKey
        let separate = c.relativeAttention && !c.shareAttKey
        posKeyProj = separate && c2p ? try sa.linear("pos_key_proj", h, h, std: std) : nil
        posQueryProj = separate && p2c ? try sa.linear("pos_query_proj", h, h, std: std) : nil
        attentionOutput = try ao.linear("dense", h, h, std: std)
        attentionNorm = try ao.layerNorm("LayerNorm", h, eps: c.layerNormEps)
        intermediate = try w.pp("intermediate").linear("dense", h, c.intermediateSize, std: std)
        output = try w.pp("output").linear("dense", c.intermediateSize, h, std: std)
        outputNorm = try w.pp("output").layerNorm("LayerNorm", h, eps: c.layerNormEps)
        dropout = Dropout(c.hiddenDropoutProb)
        heads = c.numAttentionHeads
        guard let f = activation(named: c.hiddenAct) else { throw CheckpointError("config.json", "unsupported hidden_act '\(c.hiddenAct)'") }
        act = f
        super.init()
        placed(at: w)
    }

    /// x [B, T, C] → (output [B, T, C], this layer's keys/values when captured).
    /// rel: the relative embeddings [2S, H] (nil without relative attention); index: δ [T·(P+T)].
    func callAsFunction(_ x: Tensor, padding: [[Bool]]?, prefix: LayerKeyValues?, rel: Tensor?, index: [Int],
                        capture: Bool) -> (Tensor, LayerKeyValues?) {
        let (b, t, width) = (x.shape[0], x.shape[1], x.shape[2])
        let d = width / heads
        let q = queryProj(x).reshaped([b, t, heads, d])
        let k = keyProj(x).reshaped([b, t, heads, d]), v = valueProj(x).reshaped([b, t, heads, d])
        var keys = k, values = v, keyPadding = padding
        if let prefix {
            let ps = [b, prefix.keys.shape[0], heads, d]
            keys = concat([resolved(prefix.keys).unsqueezed(0).broadcasted(to: ps), k], axis: 1)
            values = concat([resolved(prefix.values).unsqueezed(0).broadcasted(to: ps), v], axis: 1)
            keyPadding = padding.map { $0.map { [Bool](repeating: true, count: ps[1]) + $0 } }
        }
        let tk = keys.shape[1]
        let factor = 1 + (c2p ? 1 : 0) + (p2c ? 1 : 0)
        let scale = (Float(d) * Float(factor)).squareRoot()
        var bias: Tensor? = nil
        if let rel {
            let span2 = rel.shape[0]
            // [2S, H] → [1, heads, 2S, D]
            func perHead(_ y: Tensor) -> Tensor { y.reshaped([span2, heads, d]).permuted(1, 0, 2).unsqueezed(0) }
            var terms: [Tensor] = []
            if c2p {
                let posKey = perHead(shareAttKey ? keyProj(rel) : posKeyProj!(rel))
                let all = matmul(q.permuted(0, 2, 1, 3), posKey, transposeB: true)          // [B, heads, T, 2S]
                terms.append(relativeGather(all, index: index, tq: t, tk: tk))
            }
            if p2c {
                let posQuery = perHead(shareAttKey ? queryProj(rel) : posQueryProj!(rel))
                let all = matmul(keys.permuted(0, 2, 1, 3), posQuery, transposeB: true)     // [B, heads, P+T, 2S]
                terms.append(relativeGather(all, index: index, tq: t, tk: tk, byKeys: true))
            }
            if !terms.isEmpty { bias = terms.dropFirst().reduce(terms[0], +) / scale }
        }
        let ctx = attention(q, keys, values, mask: AttentionMask(keyPadding: keyPadding), scale: 1 / scale, bias: bias)
        let a = attentionNorm(dropout(attentionOutput(ctx.reshaped([b, t, width]))) + x)
        let y = outputNorm(dropout(output(act(intermediate(a)))) + a)
        return (y, capture ? LayerKeyValues(keys: k, values: v) : nil)
    }
}

public final class DeBERTaV2Model: Module, Backbone {
    public let config: DeBERTaV2Config
    let wordEmbeddings: Embedding
    let positionEmbeddings: Embedding?
    let tokenTypeEmbeddings: Embedding?
    let embedProj: Linear?
    let embeddingNorm: LayerNorm
    let dropout: Dropout
    let layers: [DeBERTaLayer]
    let relEmbeddings: Embedding?
    let relNorm: LayerNorm?
    public let mlmHead: MaskedLMHead?

    public init(config c: DeBERTaV2Config, weights: WeightLoader, mlmHead withHead: Bool = true) throws {
        try c.validate("config.json")
        config = c
        let w = WeightScope(weights), e = w.pp("embeddings"), std = c.initializerRange
        wordEmbeddings = try e.embedding("word_embeddings", c.vocabSize, c.embeddingSize, std: std)
        positionEmbeddings = c.positionBiasedInput
            ? try e.embedding("position_embeddings", c.maxPositionEmbeddings, c.embeddingSize, std: std) : nil
        // v3 checkpoints may still carry unused absolute positions (transformers ignores them too).
        if !c.positionBiasedInput && e.pp("position_embeddings").has("weight") { weights.ignore(e.pp("position_embeddings").name("weight")) }
        tokenTypeEmbeddings = c.typeVocabSize > 0 ? try e.embedding("token_type_embeddings", c.typeVocabSize, c.embeddingSize, std: std) : nil
        embedProj = c.embeddingSize != c.hiddenSize ? try e.linear("embed_proj", c.embeddingSize, c.hiddenSize, bias: false, std: std) : nil
        embeddingNorm = try e.layerNorm("LayerNorm", c.hiddenSize, eps: c.layerNormEps)
        dropout = Dropout(c.hiddenDropoutProb)
        let enc = w.pp("encoder")
        layers = try (0..<c.numHiddenLayers).map { try DeBERTaLayer(c, enc.pp("layer").pp($0)) }
        relEmbeddings = c.relativeAttention ? try enc.embedding("rel_embeddings", 2 * c.attentionSpan, c.hiddenSize, std: std) : nil
        relNorm = c.relativeAttention && c.normRelEmbedding.contains("layer_norm")
            ? try enc.layerNorm("LayerNorm", c.hiddenSize, eps: c.layerNormEps) : nil
        // The MLM head: legacy (cls.predictions, decoder tied to the word embeddings) or lm_predictions.lm_head.
        let word = wordEmbeddings
        guard let act = activation(named: c.hiddenAct) else { throw CheckpointError("config.json", "unsupported hidden_act '\(c.hiddenAct)'") }
        if withHead && w.pp("cls").pp("predictions").pp("transform").pp("dense").has("weight") {
            mlmHead = try MaskedLMHead(w.pp("cls").pp("predictions"), dense: "transform.dense", norm: "transform.LayerNorm",
                                       hidden: c.hiddenSize, embedding: c.embeddingSize, vocab: c.vocabSize, eps: c.layerNormEps,
                                       activation: act, std: std, tiedTo: { word.weight })
        } else if withHead && w.pp("lm_predictions").pp("lm_head").pp("dense").has("weight") {
            guard c.embeddingSize == c.hiddenSize else {
                throw CheckpointError("config.json", "lm_predictions head needs embedding_size = hidden_size")
            }
            mlmHead = try MaskedLMHead(w.pp("lm_predictions").pp("lm_head"), dense: "dense", norm: "LayerNorm", hidden: c.hiddenSize,
                                       embedding: c.hiddenSize, vocab: c.vocabSize, eps: c.layerNormEps, activation: act, std: std,
                                       tiedTo: { word.weight })
        } else {
            mlmHead = nil
        }
        // DeBERTa-v3 pre-training checkpoints carry the replaced-token-detection head; not a backbone part.
        if let source = (weights as? CheckpointLoader)?.source {
            for n in source.tensorNames where n.hasPrefix("mask_predictions.") { weights.ignore(n) }
        }
        try weights.finish()
        super.init()
        placed(at: w)
    }

    public var descriptor: BackboneDescriptor {
        let c = config
        return BackboneDescriptor(modelType: "deberta-v2", kind: .encoder, vocabSize: c.vocabSize, hiddenSize: c.hiddenSize,
                                  embeddingSize: c.embeddingSize, layers: c.numHiddenLayers, heads: c.numAttentionHeads,
                                  kvHeads: c.numAttentionHeads, headDim: c.hiddenSize / c.numAttentionHeads,
                                  maxPositions: c.maxPositionEmbeddings, padId: c.padTokenId, attentionProjections: ["query_proj", "value_proj"])
    }

    public var tokenEmbeddings: Embedding { wordEmbeddings }

    public func callAsFunction(_ input: BackboneInput) -> BackboneOutput {
        let c = config, (b, t) = (input.batch, input.length)
        let p = input.prefix?.first?.keys.shape[0] ?? 0
        precondition(input.prefix == nil || input.prefix!.count == layers.count, "DeBERTa: one prefix entry per layer")
        var x: Tensor
        if let emb = input.inputsEmbeds {
            precondition(emb.shape == [b, t, c.embeddingSize], "DeBERTa: inputs_embeds must be [B, T, \(c.embeddingSize)], got \(emb.shape)")
            x = emb
        } else {
            guard let ids = input.ids else { preconditionFailure("DeBERTa: give ids or inputs_embeds") }
            checkIds(ids, vocabulary: c.vocabSize, model: "DeBERTa")
            x = wordEmbeddings(ids, shape: [b, t])
        }
        if let positionEmbeddings {
            var positions = (0..<b).flatMap { _ in p..<(p + t) }
            for (i, pos) in positions.enumerated() where pos >= c.maxPositionEmbeddings {
                precondition(input.padding.map { !$0[i / t][i % t] } ?? false,
                             "DeBERTa: \(p + t) tokens exceed \(c.maxPositionEmbeddings) positions (callers truncate)")
                positions[i] = 0
            }
            x = x + positionEmbeddings(positions, shape: [b, t])
        }
        if let tokenTypeEmbeddings { x = x + tokenTypeEmbeddings(input.typeIds ?? [Int](repeating: 0, count: b * t), shape: [b, t]) }
        if let embedProj { x = embedProj(x) }
        x = embeddingNorm(x)
        if let padding = input.padding {
            x = x * Tensor(shape: [b, t, 1], scalars: padding.flatMap { $0.map { $0 ? Float(1) : 0 } })
        }
        x = dropout(x)
        // Relative positions of queries P…P+T−1 against keys 0…P+T−1, and the shared embeddings.
        let tk = p + t, span = c.attentionSpan
        var index = [Int](repeating: 0, count: t * tk)
        for i in 0..<t { for j in 0..<tk { index[i * tk + j] = min(max(c.relativePosition(p + i, j) + span, 0), 2 * span - 1) } }
        let rel = relEmbeddings.map { r in relNorm.map { $0(resolved(r.weight)) } ?? resolved(r.weight) }
        var out = BackboneOutput(lastHidden: x)
        if input.outputHiddenStates { out.hiddenStates.append(x) }
        for (i, layer) in layers.enumerated() {
            let (y, kv) = layer(x, padding: input.padding, prefix: input.prefix?[i], rel: rel, index: index, capture: input.outputKeyValues)
            x = y
            if input.outputHiddenStates { out.hiddenStates.append(x) }
            if let kv { out.keyValues.append(kv) }
        }
        out.lastHidden = x
        return out
    }

    public var hasLMHead: Bool { mlmHead != nil }

    public func lmLogits(_ hidden: Tensor) -> Tensor {
        guard let mlmHead else { preconditionFailure("DeBERTa: this checkpoint has no MLM head (check hasLMHead)") }
        return mlmHead(hidden)
    }

    public func lmLogits(_ hidden: Tensor, rows: [Int]) -> Tensor {
        guard let mlmHead else { preconditionFailure("DeBERTa: this checkpoint has no MLM head (check hasLMHead)") }
        return mlmHead(hidden, rows: rows)
    }
}
