// LLaMA decoder (Hugging Face LlamaForCausalLM; Mistral and Qwen2 share it): RoPE, grouped-query
// attention, RMSNorm, SwiGLU, tied or untied embeddings, optional q/k/v/o and MLP biases, a KV cache,
// an inputs_embeds entry, causal or bidirectional masking, logits for all positions or the last.
//
//   x = embed[ids]
//   per layer: x += O·attention(rope(Q·n1(x)), rope(K·n1(x)), V·n1(x));  x += D·(silu(G·n2(x)) ⊙ U·n2(x))
//   logits = lm_head(norm(x))            (lm_head = embedᵀ when tied)
//
// Parameter names are the checkpoint's ("model.layers.3.self_attn.q_proj.weight", "lm_head.weight").
// GGUF files are read through LLaMALoading.swift, which maps llama.cpp's names onto these.

public final class LLaMAAttention: Module {
    public let qProj: Linear, kProj: Linear, vProj: Linear, oProj: Linear
    init(_ c: LLaMAConfig, _ w: WeightScope) throws {
        let h = c.hiddenSize, q = c.numAttentionHeads * c.headDim, kv = c.numKeyValueHeads * c.headDim
        qProj = try w.linear("q_proj", h, q, bias: c.qkvBias, std: c.initializerRange)
        kProj = try w.linear("k_proj", h, kv, bias: c.qkvBias, std: c.initializerRange)
        vProj = try w.linear("v_proj", h, kv, bias: c.qkvBias, std: c.initializerRange)
        oProj = try w.linear("o_proj", q, h, bias: c.outputBias, std: c.initializerRange)
        super.init()
        placed(at: w)
    }
}

public final class LLaMAMLP: Module {
    public let gateProj: Linear, upProj: Linear, downProj: Linear
    init(_ c: LLaMAConfig, _ w: WeightScope) throws {
        gateProj = try w.linear("gate_proj", c.hiddenSize, c.intermediateSize, bias: c.mlpBias, std: c.initializerRange)
        upProj = try w.linear("up_proj", c.hiddenSize, c.intermediateSize, bias: c.mlpBias, std: c.initializerRange)
        downProj = try w.linear("down_proj", c.intermediateSize, c.hiddenSize, bias: c.mlpBias, std: c.initializerRange)
        super.init()
        placed(at: w)
    }
    func callAsFunction(_ x: Tensor) -> Tensor { downProj(silu(gateProj(x)) * upProj(x)) }
}

public final class LLaMADecoderLayer: Module {
    public let selfAttn: LLaMAAttention, mlp: LLaMAMLP
    public let inputLayernorm: RMSNorm, postAttentionLayernorm: RMSNorm
    init(_ c: LLaMAConfig, _ w: WeightScope) throws {
        selfAttn = try LLaMAAttention(c, w.pp("self_attn"))
        mlp = try LLaMAMLP(c, w.pp("mlp"))
        inputLayernorm = try w.rmsNorm("input_layernorm", c.hiddenSize, eps: c.rmsNormEps)
        postAttentionLayernorm = try w.rmsNorm("post_attention_layernorm", c.hiddenSize, eps: c.rmsNormEps)
        super.init()
        placed(at: w)
    }
}

public final class LLaMABackbone: Module {
    public let embedTokens: Embedding
    public let layers: [LLaMADecoderLayer]
    public let norm: RMSNorm
    init(_ c: LLaMAConfig, _ w: WeightScope) throws {
        embedTokens = try w.embedding("embed_tokens", c.vocabSize, c.hiddenSize, std: c.initializerRange)
        layers = try (0..<c.numHiddenLayers).map { try LLaMADecoderLayer(c, w.pp("layers").pp($0)) }
        norm = try w.rmsNorm("norm", c.hiddenSize, eps: c.rmsNormEps)
        super.init()
        placed(at: w)
    }
}

/// Which logits a forward pass produces.
public enum LogitsSelection: Sendable { case all, last, none }

/// Replaces the decoder's attention (RoPE, cache and softmax attention) for methods that change how
/// tokens see each other (LM-Infinite's Λ-shaped attention, StreamingLLM). The backend receives the
/// projections before RoPE and keeps whatever cache it needs.
public protocol LLaMAAttentionBackend: AnyObject {
    /// q: [B, T, H, D], k, v: [B, T, Hkv, D] for the T new tokens at layer `layer` (RoPE not applied);
    /// returns the attention output [B, T, H, D].
    func attend(layer: Int, q: Tensor, k: Tensor, v: Tensor) -> Tensor
    /// Called after the last layer of a forward pass over `tokens` new tokens.
    func advance(by tokens: Int)
}

public final class LLaMAModel: Module {
    public let config: LLaMAConfig
    public let model: LLaMABackbone
    /// nil when the embeddings are tied (the output projection is embed_tokensᵀ).
    public let lmHead: Linear?
    public let rope: RoPE

    public init(config c: LLaMAConfig, weights: WeightLoader) throws {
        try c.validate()
        config = c
        let w = WeightScope(weights)
        model = try LLaMABackbone(c, w.pp("model"))
        lmHead = c.tieWordEmbeddings ? nil : try w.linear("lm_head", c.hiddenSize, c.vocabSize, bias: false, std: c.initializerRange)
        rope = c.rope()
        try weights.finish()
        super.init()
        placed(at: w)
    }

    /// Runs the decoder. Give `ids` ([B·T], row-major) or `inputsEmbeds` [B, T, hidden].
    /// - positions: RoPE positions of the T new tokens (default: cache length ..< cache length + T).
    /// - cache: keys/values of earlier tokens; the new ones are appended (inference only).
    /// - keyPadding: [B][past + T] visibility of keys (false = padding).
    /// - causal: false gives bidirectional attention (LS-unLLaMA).
    /// Returns logits [B, T, V] (.all), [B, 1, V] (.last) or the final normalized hidden states (.none).
    /// - backend: an attention replacement (it does RoPE and caching itself; `cache`, `positions`,
    ///   `keyPadding` and `causal` are then unused).
    public func callAsFunction(ids: [Int]? = nil, inputsEmbeds: Tensor? = nil, batch: Int = 1, positions: [Int]? = nil,
                               cache: KVCache? = nil, keyPadding: [[Bool]]? = nil, causal: Bool = true,
                               logits: LogitsSelection = .all, backend: LLaMAAttentionBackend? = nil) -> Tensor {
        var x = decode(ids: ids, inputsEmbeds: inputsEmbeds, batch: batch, positions: positions, cache: cache,
                       keyPadding: keyPadding, causal: causal, backend: backend, lastOnly: logits == .last).lastHidden
        if logits == .none { return x }
        // Decoding's output projection is a matrix-vector product too (as the layers' are).
        if (cache != nil || backend != nil) && !RowPanels.matrixVectorRows { return RowPanels.withMatrixVectorRows { lmLogits(x) } }
        return lmLogits(x)
    }

    /// The decoder's layers over T new tokens (see callAsFunction), with what a Backbone can ask for:
    /// a prefix of P keys/values per layer (the tokens then sit at positions P…), every layer's hidden
    /// states, every layer's keys (after RoPE) and values.
    func decode(ids: [Int]?, inputsEmbeds: Tensor?, batch: Int, positions: [Int]? = nil, cache: KVCache? = nil,
                keyPadding: [[Bool]]?, causal: Bool, backend: LLaMAAttentionBackend? = nil, lastOnly: Bool = false,
                prefix: [LayerKeyValues]? = nil, hiddenStates: Bool = false, keyValues: Bool = false,
                bidirectionalFrom: Int? = nil) -> BackboneOutput {
        // Token-by-token decoding (a cache or an attention backend) takes one-row products as
        // matrix-vector products: faster, and no batch neighbours to be independent of.
        guard cache == nil && backend == nil || RowPanels.matrixVectorRows else {
            return RowPanels.withMatrixVectorRows {
                decode(ids: ids, inputsEmbeds: inputsEmbeds, batch: batch, positions: positions, cache: cache, keyPadding: keyPadding,
                       causal: causal, backend: backend, lastOnly: lastOnly, prefix: prefix, hiddenStates: hiddenStates, keyValues: keyValues,
                       bidirectionalFrom: bidirectionalFrom)
            }
        }
        let c = config
        var x: Tensor
        if let inputsEmbeds {
            precondition(inputsEmbeds.rank == 3 && inputsEmbeds.shape[2] == c.hiddenSize, "LLaMA: inputsEmbeds must be [B, T, \(c.hiddenSize)]")
            x = inputsEmbeds
        } else {
            guard let ids else { preconditionFailure("LLaMA: give ids or inputsEmbeds") }
            precondition(batch > 0 && ids.count % batch == 0, "LLaMA: \(ids.count) ids do not split into \(batch) rows")
            checkIds(ids, vocabulary: c.vocabSize, model: "LLaMA")
            x = model.embedTokens(ids, shape: [batch, ids.count / batch])
        }
        let (b, t) = (x.shape[0], x.shape[1])
        precondition(prefix == nil || (cache == nil && backend == nil && prefix!.count == layers.count),
                     "LLaMA: a prefix is one entry per layer, without a cache or backend")
        let p = prefix?.first?.keys.shape[0] ?? 0
        let past = (cache?.length ?? 0) + p
        let pos = positions ?? Array(past..<(past + t))
        precondition(pos.count == t, "LLaMA: \(pos.count) positions for \(t) tokens")
        let (cos, sin) = backend == nil ? rope.tables(positions: pos, sequenceLength: past + t) : (Tensor.zeros([0]), Tensor.zeros([0]))
        let (h, hkv, d) = (c.numAttentionHeads, c.numKeyValueHeads, c.headDim)
        if let cache { precondition(cache.batch == b && cache.layerCount == layers.count, "LLaMA: cache does not fit this batch/model") }
        let padding = p > 0 ? keyPadding.map { $0.map { [Bool](repeating: true, count: p) + $0 } } : keyPadding
        let mask = AttentionMask(causal: causal, queryOffset: past, keyPadding: padding, window: c.slidingWindow)
        // Layers before bidirectionalFrom keep the causal mask (BiLLM's start layer).
        let causalMask = causal ? mask : AttentionMask(causal: true, queryOffset: past, keyPadding: padding, window: c.slidingWindow)
        let firstBidirectional = causal ? 0 : (bidirectionalFrom ?? 0)
        var out = BackboneOutput(lastHidden: x)
        if hiddenStates { out.hiddenStates.append(x) }

        for (i, layer) in model.layers.enumerated() {
            let a = layer.selfAttn
            let mask = i < firstBidirectional ? causalMask : mask
            let n1 = layer.inputLayernorm(x)
            if let backend {
                let ctx = backend.attend(layer: i, q: a.qProj(n1).reshaped([b, t, h, d]), k: a.kProj(n1).reshaped([b, t, hkv, d]),
                                         v: a.vProj(n1).reshaped([b, t, hkv, d]))
                x = x + a.oProj(ctx.reshaped([b, t, h * d]))
            } else {
                let q = applyRoPE(a.qProj(n1).reshaped([b, t, h, d]), cos: cos, sin: sin)
                let k = applyRoPE(a.kProj(n1).reshaped([b, t, hkv, d]), cos: cos, sin: sin)
                let v = a.vProj(n1).reshaped([b, t, hkv, d])
                if keyValues { out.keyValues.append(LayerKeyValues(keys: k, values: v)) }
                let ctx: Tensor
                if let cache {
                    let (ks, vs) = cache.append(layer: i, keys: k, values: v)
                    ctx = attention(q, ks, vs, keyLength: past + t, mask: mask)
                } else if let pre = prefix?[i] {
                    let ps = [b, p, hkv, d]
                    ctx = attention(q, concat([resolved(pre.keys).unsqueezed(0).broadcasted(to: ps), k], axis: 1),
                                    concat([resolved(pre.values).unsqueezed(0).broadcasted(to: ps), v], axis: 1), mask: mask)
                } else {
                    ctx = attention(q, k, v, mask: mask)
                }
                x = x + a.oProj(ctx.reshaped([b, t, h * d]))
            }
            x = x + layer.mlp(layer.postAttentionLayernorm(x))
            if hiddenStates && i < model.layers.count - 1 { out.hiddenStates.append(x) }
        }
        cache?.advance(by: t)
        backend?.advance(by: t)
        if lastOnly && t > 1 { x = x.slice(axis: 1, t - 1, t) }
        x = model.norm(x)
        if hiddenStates { out.hiddenStates.append(x) }
        out.lastHidden = x
        return out
    }

    public var layers: [LLaMADecoderLayer] { model.layers }

    /// Logits for a few vocabulary entries only: hidden [B, T, C] (final normalized states, from
    /// `logits: .none`) → [B, T, rows.count]. Label-word scoring needs no full output projection.
    public func logits(hidden: Tensor, rows: [Int]) -> Tensor { lmLogits(hidden, rows: rows) }

    /// A cache for `batch` sequences sized for `capacity` tokens (it grows if needed).
    public func makeCache(batch: Int = 1, capacity: Int = 256) -> KVCache {
        KVCache(layers: config.numHiddenLayers, batch: batch, kvHeads: config.numKeyValueHeads,
                headDim: config.headDim, capacity: capacity)
    }
}

/// Keys and values of the tokens seen so far, per layer, as [B, capacity, Hkv, D] buffers whose
/// first `length` rows are valid (the layout `attention` reads without copying). Inference only.
public final class KVCache {
    public let layerCount: Int, batch: Int, kvHeads: Int, headDim: Int
    public private(set) var capacity: Int
    public private(set) var length = 0
    private var keys: [Tensor], values: [Tensor]

    public init(layers: Int, batch: Int, kvHeads: Int, headDim: Int, capacity: Int = 256) {
        (layerCount, self.batch, self.kvHeads, self.headDim, self.capacity) = (layers, batch, kvHeads, headDim, max(capacity, 1))
        keys = (0..<layers).map { _ in Tensor(uninitializedShape: [batch, max(capacity, 1), kvHeads, headDim]) }
        values = (0..<layers).map { _ in Tensor(uninitializedShape: [batch, max(capacity, 1), kvHeads, headDim]) }
    }

    /// Writes `t` new rows for one layer after the valid ones; returns the layer's buffers.
    func append(layer: Int, keys k: Tensor, values v: Tensor) -> (Tensor, Tensor) {
        precondition(!willRecord(k, v), "KVCache is for inference: run the model inside withoutGrad")
        let t = k.shape[1], row = kvHeads * headDim
        if length + t > capacity { grow(to: max(2 * capacity, length + t)) }
        for (buf, src) in [(keys[layer], k), (values[layer], v)] {
            for bi in 0..<batch {
                (buf.data + (bi * capacity + length) * row).update(from: src.data + bi * t * row, count: t * row)
            }
        }
        return (keys[layer], values[layer])
    }

    /// Marks the rows written by the last append of every layer as valid.
    func advance(by t: Int) { length += t }

    /// Forgets everything after the first `n` tokens (to reuse a prompt's cache).
    public func truncate(to n: Int) { length = min(length, max(0, n)) }

    private func grow(to newCapacity: Int) {
        let row = kvHeads * headDim
        func regrow(_ old: Tensor) -> Tensor {
            let t = Tensor(uninitializedShape: [batch, newCapacity, kvHeads, headDim])
            for bi in 0..<batch { (t.data + bi * newCapacity * row).update(from: old.data + bi * capacity * row, count: length * row) }
            return t
        }
        keys = keys.map(regrow)
        values = values.map(regrow)
        capacity = newCapacity
    }
}
