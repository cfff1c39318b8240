// MPNet encoder (Hugging Face MPNetModel; all-mpnet-base-v2): BERT-like post-LayerNorm blocks without
// token types, positions numbered from the padding index + 1 (padding_idx is fixed at 1), and a
// relative position bias shared by every layer:
//
//   x = LN(word[ids] + position[pos])
//   bias[h, i, j] = R[bucket(j − i), h]           (R: encoder.relative_attention_bias, [32, heads])
//   per layer: a = LN(x + o(softmax(q kᵀ/√D + bias) v));  x = LN(a + W2 act(W1 a))
import Foundation

public struct MPNetConfig: Decodable, Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct = "gelu"
    public var maxPositionEmbeddings = 514
    public var layerNormEps: Float = 1e-12
    public var hiddenDropoutProb: Float = 0.1
    public var initializerRange: Float = 0.02
    public var relativeAttentionNumBuckets = 32
    public var padTokenId = 1

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size", hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings", layerNormEps = "layer_norm_eps"
        case hiddenDropoutProb = "hidden_dropout_prob", initializerRange = "initializer_range"
        case relativeAttentionNumBuckets = "relative_attention_num_buckets", padTokenId = "pad_token_id"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? hiddenAct
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? maxPositionEmbeddings
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? layerNormEps
        hiddenDropoutProb = try c.decodeIfPresent(Float.self, forKey: .hiddenDropoutProb) ?? hiddenDropoutProb
        initializerRange = try c.decodeIfPresent(Float.self, forKey: .initializerRange) ?? initializerRange
        relativeAttentionNumBuckets = try c.decodeIfPresent(Int.self, forKey: .relativeAttentionNumBuckets) ?? relativeAttentionNumBuckets
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? padTokenId
    }

    func validate(_ path: String) throws {
        for (name, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_attention_heads", numAttentionHeads),
                          ("intermediate_size", intermediateSize), ("relative_attention_num_buckets", relativeAttentionNumBuckets)] where v <= 0 {
            throw CheckpointError(path, "\(name) is \(v); it must be positive")
        }
        guard numHiddenLayers >= 0 else { throw CheckpointError(path, "num_hidden_layers is negative") }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw CheckpointError(path, "hidden_size \(hiddenSize) is not divisible by \(numAttentionHeads) attention heads")
        }
        guard maxPositionEmbeddings > MPNetModel.paddingIndex + 1 else {
            throw CheckpointError(path, "max_position_embeddings \(maxPositionEmbeddings) leaves no positions after the padding index")
        }
    }
}

final class MPNetLayer: Module {
    let q: Linear, k: Linear, v: Linear, o: Linear
    let attentionNorm: LayerNorm
    let intermediate: Linear
    let output: Linear, outputNorm: LayerNorm
    let dropout: Dropout
    let heads: Int
    let act: (Tensor) -> Tensor

    init(_ c: MPNetConfig, _ w: WeightScope) throws {
        let h = c.hiddenSize, std = c.initializerRange
        let attn = w.pp("attention").pp("attn")
        q = try attn.linear("q", h, h, std: std)
        k = try attn.linear("k", h, h, std: std)
        v = try attn.linear("v", h, h, std: std)
        o = try attn.linear("o", h, h, std: std)
        attentionNorm = try w.pp("attention").layerNorm("LayerNorm", h, eps: c.layerNormEps)
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

    func callAsFunction(_ x: Tensor, padding: [[Bool]]?, prefix: LayerKeyValues?, bias: Tensor, capture: Bool) -> (Tensor, LayerKeyValues?) {
        let (ctx, kv) = encoderSelfAttention(q(x), k(x), v(x), heads: heads, padding: padding, prefix: prefix, bias: bias, capture: capture)
        let a = attentionNorm(dropout(o(ctx)) + x)
        return (outputNorm(dropout(output(act(intermediate(a)))) + a), kv)
    }
}

public final class MPNetModel: Module, Backbone {
    /// MPNetEmbeddings hard-codes padding_idx = 1 for its positions, whatever pad_token_id says.
    static let paddingIndex = 1
    public let config: MPNetConfig
    let wordEmbeddings: Embedding, positionEmbeddings: Embedding, embeddingNorm: LayerNorm
    let dropout: Dropout
    let layers: [MPNetLayer]
    let relativeAttentionBias: Embedding
    let pooler: Linear?
    public let mlmHead: MaskedLMHead?

    public init(config c: MPNetConfig, weights: WeightLoader, pooler withPooler: Bool = true, mlmHead withHead: Bool = true) throws {
        try c.validate("config.json")
        config = c
        let w = WeightScope(weights), e = w.pp("embeddings"), std = c.initializerRange
        wordEmbeddings = try e.embedding("word_embeddings", c.vocabSize, c.hiddenSize, std: std)
        positionEmbeddings = try e.embedding("position_embeddings", c.maxPositionEmbeddings, c.hiddenSize, std: std)
        embeddingNorm = try e.layerNorm("LayerNorm", c.hiddenSize, eps: c.layerNormEps)
        dropout = Dropout(c.hiddenDropoutProb)
        layers = try (0..<c.numHiddenLayers).map { try MPNetLayer(c, w.pp("encoder").pp("layer").pp($0)) }
        relativeAttentionBias = try w.pp("encoder").embedding("relative_attention_bias", c.relativeAttentionNumBuckets,
                                                             c.numAttentionHeads, std: std)
        pooler = withPooler && w.pp("pooler").pp("dense").has("weight")
            ? try w.pp("pooler").linear("dense", c.hiddenSize, c.hiddenSize, std: std) : nil
        let word = wordEmbeddings
        mlmHead = withHead && w.pp("lm_head").pp("dense").has("weight")
            ? try MaskedLMHead(w.pp("lm_head"), dense: "dense", norm: "layer_norm", hidden: c.hiddenSize, embedding: c.hiddenSize,
                               vocab: c.vocabSize, eps: c.layerNormEps, activation: { gelu($0) }, std: std, tiedTo: { word.weight })
            : nil
        try weights.finish()
        super.init()
        placed(at: w)
    }

    public var descriptor: BackboneDescriptor {
        let c = config
        return BackboneDescriptor(modelType: "mpnet", kind: .encoder, vocabSize: c.vocabSize, hiddenSize: c.hiddenSize,
                                  embeddingSize: c.hiddenSize, layers: c.numHiddenLayers, heads: c.numAttentionHeads,
                                  kvHeads: c.numAttentionHeads, headDim: c.hiddenSize / c.numAttentionHeads,
                                  maxPositions: c.maxPositionEmbeddings - Self.paddingIndex - 1, padId: c.padTokenId, attentionProjections: ["q", "v"])
    }

    public var tokenEmbeddings: Embedding { wordEmbeddings }

    /// bias [1, heads, T, P + T]: queries at positions P…P+T−1, keys at 0…P+T−1 (MPNet computes it
    /// from plain indices, not from the padded position ids).
    func positionBias(length t: Int, prefix p: Int) -> Tensor {
        let heads = config.numAttentionHeads, keys = p + t
        var buckets = [Int](repeating: 0, count: t * keys)
        for i in 0..<t { for j in 0..<keys { buckets[i * keys + j] = mpnetBucket(j - (p + i), buckets: config.relativeAttentionNumBuckets) } }
        // values [T·K, heads] → [1, heads, T, K]
        return relativeAttentionBias(buckets).reshaped([t, keys, heads]).permuted(2, 0, 1).unsqueezed(0)
    }

    public func callAsFunction(_ input: BackboneInput) -> BackboneOutput {
        let c = config, (b, t) = (input.batch, input.length)
        let p = input.prefix?.first?.keys.shape[0] ?? 0
        precondition(input.prefix == nil || input.prefix!.count == layers.count, "MPNet: one prefix entry per layer")
        let pad = Self.paddingIndex
        var positions: [Int]
        let words: Tensor
        if let emb = input.inputsEmbeds {
            precondition(emb.shape == [b, t, c.hiddenSize], "MPNet: inputs_embeds must be [B, T, \(c.hiddenSize)], got \(emb.shape)")
            words = emb
            positions = (0..<b).flatMap { _ in (pad + 1 + p)..<(pad + 1 + p + t) }
        } else {
            guard let ids = input.ids else { preconditionFailure("MPNet: give ids or inputs_embeds") }
            checkIds(ids, vocabulary: c.vocabSize, model: "MPNet")
            words = wordEmbeddings(ids, shape: [b, t])
            positions = [Int](repeating: pad, count: b * t)
            for r in 0..<b {
                var n = 0
                for i in 0..<t where ids[r * t + i] != pad { n += 1; positions[r * t + i] = n + p + pad }
            }
        }
        for (i, pos) in positions.enumerated() where pos >= c.maxPositionEmbeddings {
            precondition(input.padding.map { !$0[i / t][i % t] } ?? false, "MPNet: \(t + p) tokens exceed the position table (callers truncate)")
            positions[i] = Self.paddingIndex
        }
        var x = dropout(embeddingNorm(words + positionEmbeddings(positions, shape: [b, t])))
        let bias = positionBias(length: t, prefix: p)
        var out = BackboneOutput(lastHidden: x)
        if input.outputHiddenStates { out.hiddenStates.append(x) }
        for (i, layer) in layers.enumerated() {
            let (y, kv) = layer(x, padding: input.padding, prefix: input.prefix?[i], bias: bias, capture: input.outputKeyValues)
            x = y
            if input.outputHiddenStates { out.hiddenStates.append(x) }
            if let kv { out.keyValues.append(kv) }
        }
        out.lastHidden = x
        return out
    }

    public func pooled(_ hidden: Tensor) -> Tensor? {
        guard let pooler else { return nil }
        let b = hidden.shape[0], h = hidden.shape[2]
        return tanh(pooler(hidden.slice(axis: 1, 0, 1).reshaped([b, h])))
    }

    public var hasLMHead: Bool { mlmHead != nil }

    public func lmLogits(_ hidden: Tensor) -> Tensor {
        guard let mlmHead else { preconditionFailure("MPNet: this checkpoint has no MLM head (check hasLMHead)") }
        return mlmHead(hidden)
    }

    public func lmLogits(_ hidden: Tensor, rows: [Int]) -> Tensor {
        guard let mlmHead else { preconditionFailure("MPNet: this checkpoint has no MLM head (check hasLMHead)") }
        return mlmHead(hidden, rows: rows)
    }
}
