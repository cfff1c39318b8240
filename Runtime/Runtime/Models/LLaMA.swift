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
    override public var keyMap: [String: String] { ["qProj": "q_proj", "kProj": "k_proj", "vProj": "v_proj", "oProj": "o_proj"] }
    init(_ c: LLaMAConfig, _ w: WeightLoader, _ p: String) throws {
        let h = c.hiddenSize, q = c.numAttentionHeads * c.headDim, kv = c.numKeyValueHeads * c.headDim
        qProj = try loadLinear(w, p + "q_proj", h, q, bias: c.qkvBias, std: c.initializerRange)
        kProj = try loadLinear(w, p + "k_proj", h, kv, bias: c.qkvBias, std: c.initializerRange)
        vProj = try loadLinear(w, p + "v_proj", h, kv, bias: c.qkvBias, std: c.initializerRange)
        oProj = try loadLinear(w, p + "o_proj", q, h, bias: c.outputBias, std: c.initializerRange)
    }
}

public final class LLaMAMLP: Module {
    public let gateProj: Linear, upProj: Linear, downProj: Linear
    override public var keyMap: [String: String] { ["gateProj": "gate_proj", "upProj": "up_proj", "downProj": "down_proj"] }
    init(_ c: LLaMAConfig, _ w: WeightLoader, _ p: String) throws {
        gateProj = try loadLinear(w, p + "gate_proj", c.hiddenSize, c.intermediateSize, bias: c.mlpBias, std: c.initializerRange)
        upProj = try loadLinear(w, p + "up_proj", c.hiddenSize, c.intermediateSize, bias: c.mlpBias, std: c.initializerRange)
        downProj = try loadLinear(w, p + "down_proj", c.intermediateSize, c.hiddenSize, bias: c.mlpBias, std: c.initializerRange)
    }
    func callAsFunction(_ x: Tensor) -> Tensor { downProj(silu(gateProj(x)) * upProj(x)) }
}

public final class LLaMADecoderLayer: Module {
    public let selfAttn: LLaMAAttention, mlp: LLaMAMLP
    public let inputLayernorm: RMSNorm, postAttentionLayernorm: RMSNorm
    override public var keyMap: [String: String] {
        ["selfAttn": "self_attn", "inputLayernorm": "input_layernorm", "postAttentionLayernorm": "post_attention_layernorm"]
    }
    init(_ c: LLaMAConfig, _ w: WeightLoader, _ p: String) throws {
        selfAttn = try LLaMAAttention(c, w, p + "self_attn.")
        mlp = try LLaMAMLP(c, w, p + "mlp.")
        inputLayernorm = RMSNorm(weight: try w.weight(p + "input_layernorm.weight", [c.hiddenSize], .ones), eps: c.rmsNormEps)
        postAttentionLayernorm = RMSNorm(weight: try w.weight(p + "post_attention_layernorm.weight", [c.hiddenSize], .ones),
                                         eps: c.rmsNormEps)
    }
}

public final class LLaMABackbone: Module {
    public let embedTokens: Embedding
    public let layers: [LLaMADecoderLayer]
    public let norm: RMSNorm
    override public var keyMap: [String: String] { ["embedTokens": "embed_tokens"] }
    init(embedTokens: Embedding, layers: [LLaMADecoderLayer], norm: RMSNorm) {
        self.embedTokens = embedTokens
        self.layers = layers
        self.norm = norm
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
    override public var keyMap: [String: String] { ["lmHead": "lm_head"] }

    public init(config c: LLaMAConfig, weights w: WeightLoader) throws {
        guard c.hiddenAct == "silu" else { throw CheckpointError("config", "hidden_act '\(c.hiddenAct)' is not supported (silu is)") }
        guard c.numAttentionHeads % c.numKeyValueHeads == 0 else {
            throw CheckpointError("config", "\(c.numAttentionHeads) attention heads not divisible into \(c.numKeyValueHeads) key/value heads")
        }
        config = c
        let embed = Embedding(weight: try w.weight("model.embed_tokens.weight", [c.vocabSize, c.hiddenSize], .normal(std: c.initializerRange)))
        let layers = try (0..<c.numHiddenLayers).map { try LLaMADecoderLayer(c, w, "model.layers.\($0).") }
        let norm = RMSNorm(weight: try w.weight("model.norm.weight", [c.hiddenSize], .ones), eps: c.rmsNormEps)
        model = LLaMABackbone(embedTokens: embed, layers: layers, norm: norm)
        lmHead = c.tieWordEmbeddings ? nil
            : Linear(weight: try w.weight("lm_head.weight", [c.vocabSize, c.hiddenSize], .normal(std: c.initializerRange)), bias: nil)
        rope = c.rope()
        try w.finish()
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
        let c = config
        var x: Tensor
        if let inputsEmbeds {
            precondition(inputsEmbeds.rank == 3 && inputsEmbeds.shape[2] == c.hiddenSize, "LLaMA: inputsEmbeds must be [B, T, \(c.hiddenSize)]")
            x = inputsEmbeds
        } else {
            guard let ids else { preconditionFailure("LLaMA: give ids or inputsEmbeds") }
            precondition(batch > 0 && ids.count % batch == 0, "LLaMA: \(ids.count) ids do not split into \(batch) rows")
            for id in ids { precondition(id >= 0 && id < c.vocabSize, "LLaMA: token id \(id) outside the vocabulary of \(c.vocabSize)") }
            x = model.embedTokens(ids, shape: [batch, ids.count / batch])
        }
        let (b, t) = (x.shape[0], x.shape[1])
        let past = cache?.length ?? 0
        let pos = positions ?? Array(past..<(past + t))
        precondition(pos.count == t, "LLaMA: \(pos.count) positions for \(t) tokens")
        let (cos, sin) = backend == nil ? rope.tables(positions: pos, sequenceLength: past + t) : (Tensor.zeros([0]), Tensor.zeros([0]))
        let (h, hkv, d) = (c.numAttentionHeads, c.numKeyValueHeads, c.headDim)
        if let cache { precondition(cache.batch == b && cache.layerCount == layers.count, "LLaMA: cache does not fit this batch/model") }
        let mask = AttentionMask(causal: causal, queryOffset: past, keyPadding: keyPadding)

        for (i, layer) in model.layers.enumerated() {
            let a = layer.selfAttn
            let n1 = layer.inputLayernorm(x)
            if let backend {
                let ctx = backend.attend(layer: i, q: a.qProj(n1).reshaped([b, t, h, d]), k: a.kProj(n1).reshaped([b, t, hkv, d]),
                                         v: a.vProj(n1).reshaped([b, t, hkv, d]))
                x = x + a.oProj(ctx.reshaped([b, t, h * d]))
                x = x + layer.mlp(layer.postAttentionLayernorm(x))
                continue
            }
            let q = applyRoPE(a.qProj(n1).reshaped([b, t, h, d]), cos: cos, sin: sin)
            let k = applyRoPE(a.kProj(n1).reshaped([b, t, hkv, d]), cos: cos, sin: sin)
            let v = a.vProj(n1).reshaped([b, t, hkv, d])
            let ctx: Tensor
            if let cache {
                let (ks, vs) = cache.append(layer: i, keys: k, values: v)
                ctx = attention(q, ks, vs, keyLength: past + t, mask: mask)
            } else {
                ctx = attention(q, k, v, mask: mask)
            }
            x = x + a.oProj(ctx.reshaped([b, t, h * d]))
            x = x + layer.mlp(layer.postAttentionLayernorm(x))
        }
        cache?.advance(by: t)
        backend?.advance(by: t)
        if logits == .last && t > 1 { x = x.slice(axis: 1, t - 1, t) }
        x = model.norm(x)
        if logits == .none { return x }
        return lmHead.map { $0(x) } ?? matmul(x, resolved(model.embedTokens.weight), transposeB: true)
    }

    public var layers: [LLaMADecoderLayer] { model.layers }

    /// Logits for a few vocabulary entries only: hidden [B, T, H] (final normalized states, from
    /// `logits: .none`) → [B, T, rows.count]. Label-word scoring needs no full output projection.
    public func logits(hidden: Tensor, rows: [Int]) -> Tensor {
        let w = resolvedRows(lmHead?.weight ?? model.embedTokens.weight, rows)
        return matmul(hidden, w, transposeB: true)
    }

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
