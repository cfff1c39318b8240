// Loading LLaMA-family models: a Hugging Face directory (config.json + safetensors) or a llama.cpp
// GGUF file, whose tensor names map onto ours and whose Q/K rows llama.cpp reordered for its
// interleaved RoPE (we undo that, as transformers does when it reads GGUF).
import Foundation

extension LLaMAModel {
    /// `path`: a model directory, or a .gguf file. `keepQuantized`: a GGUF file's matrices stay in their
    /// block formats and layers multiply them directly (inference; Linear expands a weight when
    /// something needs it as Float32); false expands every weight to Float32 at load.
    public static func load(path: String, keepQuantized: Bool = false) throws -> LLaMAModel {
        let m: LLaMAModel
        if path.hasSuffix(".gguf") {
            let f = try GGUFFile(path: path)
            let c = try LLaMAConfig.load(gguf: f)
            m = try LLaMAModel(config: c, weights: ggufLoader(f, c, keepQuantized: keepQuantized))
        } else {
            let c = try LLaMAConfig.load(configPath: (path as NSString).appendingPathComponent("config.json"))
            let source = try SafeTensorsCheckpoint(path: path)
            // Tied checkpoints may still carry lm_head.weight (a copy): allowed, unused.
            m = try LLaMAModel(config: c, weights: CheckpointLoader(source, ignorable: c.tieWordEmbeddings ? ["lm_head.weight"] : []))
        }
        m.eval()
        return m
    }

    /// Our (Hugging Face) weight name → llama.cpp's.
    static func ggufName(_ name: String) -> String? {
        let fixed = ["model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                     "lm_head.weight": "output.weight"]
        if let f = fixed[name] { return f }
        let parts = name.split(separator: ".").map(String.init)
        guard parts.count >= 5, parts[0] == "model", parts[1] == "layers", let n = Int(parts[2]) else { return nil }
        let rest = parts[3...].joined(separator: ".")
        let map = ["self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                   "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                   "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"]
        for (hf, gg) in map where rest.hasPrefix(hf + ".") {
            return "blk.\(n).\(gg)" + rest.dropFirst(hf.count)
        }
        return nil
    }

    static func ggufLoader(_ f: GGUFFile, _ c: LLaMAConfig, keepQuantized: Bool = false) -> CheckpointLoader {
        // llama.cpp permutes Q and K rows for llama/mistral (not qwen2, which uses NeoX-style RoPE).
        let permuted = c.modelType == "llama" || c.modelType == "mistral"
        let loader = CheckpointLoader(f, ignorable: ["rope_freqs.weight"], rename: ggufName) { name, t in
            guard permuted else { return t }
            if name.hasSuffix("self_attn.q_proj.weight") || name.hasSuffix("self_attn.q_proj.bias") {
                return unpermuteRoPERows(t, heads: c.numAttentionHeads)
            }
            if name.hasSuffix("self_attn.k_proj.weight") || name.hasSuffix("self_attn.k_proj.bias") {
                return unpermuteRoPERows(t, heads: c.numKeyValueHeads)
            }
            return t
        }
        if keepQuantized {
            loader.keepQuantized = { name, q in
                guard permuted else { return q }
                if name.hasSuffix("self_attn.q_proj.weight") { return QuantizedMatrix(reordering: q, unpermutedRoPERow(rows: q.rows, heads: c.numAttentionHeads)) }
                if name.hasSuffix("self_attn.k_proj.weight") { return QuantizedMatrix(reordering: q, unpermutedRoPERow(rows: q.rows, heads: c.numKeyValueHeads)) }
                return q
            }
        }
        return loader
    }
}

/// Which of llama.cpp's rows becomes our row `dst` (see unpermuteRoPERows).
func unpermutedRoPERow(rows: Int, heads: Int) -> (Int) -> Int {
    let half = rows / heads / 2
    return { dst in
        let h = dst / (2 * half), r = dst % (2 * half), j = r / half, i = r % half
        return h * 2 * half + 2 * i + j
    }
}

/// Undoes llama.cpp's row order for RoPE: within each head, its row 2i + j holds our row j·(D/2) + i.
/// (transformers' reverse_permute_weights: reshape(heads, D/2, 2, ...) → swap axes 1, 2.)
public func unpermuteRoPERows(_ w: Tensor, heads: Int) -> Tensor {
    let rows = w.shape[0], cols = w.count / max(rows, 1)
    precondition(rows % (2 * heads) == 0, "unpermuteRoPERows: \(rows) rows for \(heads) heads")
    let half = rows / heads / 2
    let out = Tensor(uninitializedShape: w.shape)
    for h in 0..<heads {
        for i in 0..<half {
            for j in 0..<2 {
                let src = h * 2 * half + 2 * i + j, dst = h * 2 * half + j * half + i
                (out.data + dst * cols).update(from: w.data + src * cols, count: cols)
            }
        }
    }
    return out
}

extension LLaMAModel {
    /// config.json in Hugging Face's LlamaConfig (or Qwen2Config) form.
    public func configJSON() -> JSONValue {
        let c = config
        var o: JSONObject = [
            "architectures": .array([.string(c.modelType == "qwen2" ? "Qwen2ForCausalLM" : c.modelType == "mistral" ? "MistralForCausalLM" : "LlamaForCausalLM")]),
            "model_type": .string(c.modelType), "vocab_size": .number(JSONNumber(c.vocabSize)),
            "hidden_size": .number(JSONNumber(c.hiddenSize)), "intermediate_size": .number(JSONNumber(c.intermediateSize)),
            "num_hidden_layers": .number(JSONNumber(c.numHiddenLayers)), "num_attention_heads": .number(JSONNumber(c.numAttentionHeads)),
            "num_key_value_heads": .number(JSONNumber(c.numKeyValueHeads)), "head_dim": .number(JSONNumber(c.headDim)),
            "hidden_act": .string(c.hiddenAct), "max_position_embeddings": .number(JSONNumber(c.maxPositionEmbeddings)),
            "rms_norm_eps": .number(JSONNumber(Double(c.rmsNormEps))!), "rope_theta": .number(JSONNumber(c.ropeTheta)!),
            "tie_word_embeddings": .bool(c.tieWordEmbeddings), "attention_bias": .bool(c.outputBias),
            "mlp_bias": .bool(c.mlpBias), "initializer_range": .number(JSONNumber(Double(c.initializerRange))!),
            "torch_dtype": "float32",
        ]
        if let b = c.bosTokenId { o.members.append(.init(key: "bos_token_id", value: .number(JSONNumber(b)))) }
        if let e = c.eosTokenIds.first { o.members.append(.init(key: "eos_token_id", value: .number(JSONNumber(e)))) }
        if let w = c.slidingWindow { o.members.append(.init(key: "sliding_window", value: .number(JSONNumber(w)))) }
        if let s = c.ropeScaling {
            o.members.append(.init(key: "rope_scaling", value: .object(["rope_type": .string(s.kind.rawValue), "factor": .number(JSONNumber(s.factor)!)])))
        }
        return .object(o)
    }

    /// Writes config.json and model.safetensors (tied embeddings are stored once) into `directory`,
    /// each file atomically.
    public func save(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var w = JSONWriter()
        w.write(configJSON())
        try writeAtomically(to: directory + "/config.json") { fd in
            try w.bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, directory) }
        }
        try writeSafeTensors(namedState(), metadata: ["format": "pt"], to: directory + "/model.safetensors")
    }
}
