// The BERT family (Hugging Face BertModel, RobertaModel, XLMRobertaModel): absolute position and
// token-type embeddings, post-LayerNorm blocks, padding masks, optional pooler and MLM head.
// RoBERTa/XLM-R differ only in numbering positions from the padding index + 1.
//
//   x = LN(word[ids] + position[pos] + type[typeIds])            (inputs_embeds replace word[ids])
//   per layer: a = LN(x + O·attention(Q x, K x, V x));  x = LN(a + W2 act(W1 a))
//   pooler (if present): tanh(P x[:, 0]);  MLM head (if present): LN(gelu(D x)) W_wordᵀ + b
//
// Checkpoint names ("encoder.layer.3.attention.self.query.weight") are written once, in the scopes
// below; a "bert."/"roberta." prefix is the loader's business.
import Foundation

final class BERTEmbeddings: Module {
    let wordEmbeddings: Embedding, positionEmbeddings: Embedding, tokenTypeEmbeddings: Embedding
    let layerNorm: LayerNorm
    let dropout: Dropout

    init(_ c: BERTConfig, _ w: WeightScope) throws {
        wordEmbeddings = try w.embedding("word_embeddings", c.vocabSize, c.hiddenSize, std: c.initializerRange)
        positionEmbeddings = try w.embedding("position_embeddings", c.maxPositionEmbeddings, c.hiddenSize, std: c.initializerRange)
        tokenTypeEmbeddings = try w.embedding("token_type_embeddings", max(c.typeVocabSize, 1), c.hiddenSize, std: c.initializerRange)
        layerNorm = try w.layerNorm("LayerNorm", c.hiddenSize, eps: c.layerNormEps)
        dropout = Dropout(c.hiddenDropoutProb)
        super.init()
        placed(at: w)
    }
}

final class BERTLayer: Module {
    let query: Linear, key: Linear, value: Linear
    let attentionOutput: Linear, attentionNorm: LayerNorm
    let intermediate: Linear
    let output: Linear, outputNorm: LayerNorm
    let dropout: Dropout
    let heads: Int
    let act: (Tensor) -> Tensor

    init(_ c: BERTConfig, _ w: WeightScope) throws {
        let h = c.hiddenSize, std = c.initializerRange
        let sa = w.pp("attention").pp("self"), ao = w.pp("attention").pp("output")
        query = try sa.linear("query", h, h, std: std)
        key = try sa.linear("key", h, h, std: std)
        value = try sa.linear("value", h, h, std: std)
        attentionOutput = try ao.linear("dense", h, h, std: std)
        attentionNorm = try ao.layerNorm("LayerNorm", h, eps: c.layerNormEps)
        intermediate = try w.pp("intermediate").linear("dense", h, c.intermediateSize, std: std)
        output = try w.pp("output").linear("dense", c.intermediateSize, h, std: std)
        outputNorm = try w.pp("output").layerNorm("LayerNorm", h, eps: c.layerNormEps)
        dropout = Dropout(c.hiddenDropoutProb)
        heads = c.numAttentionHeads
        guard let f = activation(named: c.hiddenAct) else {
            throw CheckpointError("config.json", "unsupported hidden_act '\(c.hiddenAct)'")
        }
        act = f
        super.init()
        placed(at: w)
    }

    func callAsFunction(_ x: Tensor, padding: [[Bool]]?, prefix: LayerKeyValues?, capture: Bool) -> (Tensor, LayerKeyValues?) {
        let (ctx, kv) = encoderSelfAttention(query(x), key(x), value(x), heads: heads, padding: padding, prefix: prefix, capture: capture)
        let a = attentionNorm(dropout(attentionOutput(ctx)) + x)
        return (outputNorm(dropout(output(act(intermediate(a)))) + a), kv)
    }
}

public final class BERTModel: Module, Backbone {
    public let config: BERTConfig
    let embeddings: BERTEmbeddings
    let layers: [BERTLayer]
    let pooler: Linear?
    public let mlmHead: MaskedLMHead?

    /// Builds the model from `weights` (a checkpoint, or fresh initialization). The pooler and the MLM
    /// head are built when the source has them (`pooler: false`, `mlmHead: false` leave them out).
    public init(config c: BERTConfig, weights: WeightLoader, pooler withPooler: Bool = true, mlmHead withHead: Bool = true) throws {
        try c.validate("config.json")
        config = c
        let w = WeightScope(weights)
        embeddings = try BERTEmbeddings(c, w.pp("embeddings"))
        layers = try (0..<c.numHiddenLayers).map { try BERTLayer(c, w.pp("encoder").pp("layer").pp($0)) }
        let hasPooler = withPooler && w.pp("pooler").pp("dense").has("weight")
        pooler = hasPooler ? try w.pp("pooler").linear("dense", c.hiddenSize, c.hiddenSize, std: c.initializerRange) : nil
        let word = embeddings.wordEmbeddings
        let headScope = c.positionsFromPadding ? w.pp("lm_head") : w.pp("cls").pp("predictions")
        let names = c.positionsFromPadding ? ("dense", "layer_norm") : ("transform.dense", "transform.LayerNorm")
        if withHead && headScope.pp(names.0).has("weight") {
            guard let act = activation(named: c.positionsFromPadding ? "gelu" : c.hiddenAct) else {
                throw CheckpointError("config.json", "unsupported hidden_act '\(c.hiddenAct)'")
            }
            mlmHead = try MaskedLMHead(headScope, dense: names.0, norm: names.1, hidden: c.hiddenSize, embedding: c.hiddenSize,
                                       vocab: c.vocabSize, eps: c.layerNormEps, activation: act, std: c.initializerRange,
                                       tiedTo: { word.weight })
        } else {
            mlmHead = nil
        }
        // BertForPreTraining's next-sentence head is not a backbone part.
        for n in ["cls.seq_relationship.weight", "cls.seq_relationship.bias"] where weights.has(n) { weights.ignore(n) }
        try weights.finish()
        super.init()
        placed(at: w)
    }

    /// Loads config.json and the safetensors weights of a Hugging Face BERT/RoBERTa/XLM-R directory.
    public static func load(directory: String) throws -> BERTModel {
        let m = try ModelRegistry.loadBackbone(path: directory)
        guard let bert = m as? BERTModel else {
            throw CheckpointError(directory, "a \(m.descriptor.modelType) model, not a BERT-family one")
        }
        return bert
    }

    public var descriptor: BackboneDescriptor {
        let c = config
        return BackboneDescriptor(modelType: c.modelType, kind: .encoder, vocabSize: c.vocabSize, hiddenSize: c.hiddenSize,
                                  embeddingSize: c.hiddenSize, layers: c.numHiddenLayers, heads: c.numAttentionHeads,
                                  kvHeads: c.numAttentionHeads, headDim: c.hiddenSize / c.numAttentionHeads,
                                  maxPositions: c.maxPositionEmbeddings - (c.positionsFromPadding ? c.padTokenId + 1 : 0),
                                  padId: c.padTokenId, attentionProjections: ["query", "value"])
    }

    public var tokenEmbeddings: Embedding { embeddings.wordEmbeddings }

    /// Position ids [B·T]: 0… (BERT), or padding index + 1… over non-padding tokens (RoBERTa's
    /// create_position_ids_from_input_ids; sequential from pad + 1 for inputs_embeds). A prefix of P
    /// shifts them by P, as past_key_values do.
    func positionIds(_ input: BackboneInput, prefixLength p: Int) -> [Int] {
        let (b, t) = (input.batch, input.length)
        guard config.positionsFromPadding else { return (0..<b).flatMap { _ in p..<(p + t) } }
        let pad = config.padTokenId
        guard let ids = input.ids else { return (0..<b).flatMap { _ in (pad + 1 + p)..<(pad + 1 + p + t) } }
        var out = [Int](repeating: pad, count: b * t)
        for r in 0..<b {
            var count = 0
            for i in 0..<t where ids[r * t + i] != pad {
                count += 1
                out[r * t + i] = count + p + pad
            }
        }
        return out
    }

    public func callAsFunction(_ input: BackboneInput) -> BackboneOutput {
        let c = config, (b, t) = (input.batch, input.length)
        let p = input.prefix?.first?.keys.shape[0] ?? 0
        precondition(input.prefix == nil || input.prefix!.count == layers.count, "BERT: one prefix entry per layer")
        var positions = positionIds(input, prefixLength: p)
        for (i, pos) in positions.enumerated() where pos >= c.maxPositionEmbeddings {
            // Padding past the position table (a batch rounded up to whole row panels) reads position 0.
            precondition(input.padding.map { !$0[i / t][i % t] } ?? false,
                         "BERT: \(t + p) tokens exceed \(c.maxPositionEmbeddings) positions (callers truncate)")
            positions[i] = 0
        }
        let e = embeddings
        let words: Tensor
        if let emb = input.inputsEmbeds {
            precondition(emb.shape == [b, t, c.hiddenSize], "BERT: inputs_embeds must be [B, T, \(c.hiddenSize)], got \(emb.shape)")
            words = emb
        } else {
            guard let ids = input.ids else { preconditionFailure("BERT: give ids or inputs_embeds") }
            checkIds(ids, vocabulary: c.vocabSize, model: "BERT")
            words = e.wordEmbeddings(ids, shape: [b, t])
        }
        let types = input.typeIds ?? [Int](repeating: 0, count: b * t)
        var x = words + e.positionEmbeddings(positions, shape: [b, t]) + e.tokenTypeEmbeddings(types, shape: [b, t])
        x = e.dropout(e.layerNorm(x))
        var out = BackboneOutput(lastHidden: x)
        if input.outputHiddenStates { out.hiddenStates.append(x) }
        for (i, layer) in layers.enumerated() {
            let (y, kv) = layer(x, padding: input.padding, prefix: input.prefix?[i], capture: input.outputKeyValues)
            x = y
            if input.outputHiddenStates { out.hiddenStates.append(x) }
            if let kv { out.keyValues.append(kv) }
        }
        out.lastHidden = x
        return out
    }

    /// Last hidden states [B, T, C] of right-padded token sequences.
    public func callAsFunction(_ batch: TokenBatch) -> Tensor { hidden(batch) }

    /// tanh(dense(h[:, 0])) when the checkpoint has a pooler.
    public func pooled(_ hidden: Tensor) -> Tensor? {
        guard let pooler else { return nil }
        let b = hidden.shape[0], h = hidden.shape[2]
        return tanh(pooler(hidden.slice(axis: 1, 0, 1).reshaped([b, h])))
    }

    public var hasLMHead: Bool { mlmHead != nil }

    public func lmLogits(_ hidden: Tensor) -> Tensor {
        guard let mlmHead else { preconditionFailure("BERT: this checkpoint has no MLM head (check hasLMHead)") }
        return mlmHead(hidden)
    }

    public func lmLogits(_ hidden: Tensor, rows: [Int]) -> Tensor {
        guard let mlmHead else { preconditionFailure("BERT: this checkpoint has no MLM head (check hasLMHead)") }
        return mlmHead(hidden, rows: rows)
    }
}
