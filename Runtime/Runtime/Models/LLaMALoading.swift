// Loading LLaMA-family models: a Hugging Face directory (config.json + safetensors) or a llama.cpp
// GGUF file, whose tensor names map onto ours and whose Q/K rows llama.cpp reordered for its
// interleaved RoPE (we undo that, as transformers does when it reads GGUF).
import Foundation

extension LLaMAModel {
    /// `path`: a model directory, or a .gguf file.
    public static func load(path: String) throws -> LLaMAModel {
        let m: LLaMAModel
        if path.hasSuffix(".gguf") {
            let f = try GGUFFile(path: path)
            let c = try LLaMAConfig.load(gguf: f)
            m = try LLaMAModel(config: c, weights: ggufLoader(f, c))
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

    static func ggufLoader(_ f: GGUFFile, _ c: LLaMAConfig) -> CheckpointLoader {
        // llama.cpp permutes Q and K rows for llama/mistral (not qwen2, which uses NeoX-style RoPE).
        let permuted = c.modelType == "llama" || c.modelType == "mistral"
        return CheckpointLoader(f, ignorable: ["rope_freqs.weight"], rename: ggufName) { name, t in
            guard permuted else { return t }
            if name.hasSuffix("self_attn.q_proj.weight") || name.hasSuffix("self_attn.q_proj.bias") {
                return unpermuteRoPERows(t, heads: c.numAttentionHeads)
            }
            if name.hasSuffix("self_attn.k_proj.weight") || name.hasSuffix("self_attn.k_proj.bias") {
                return unpermuteRoPERows(t, heads: c.numKeyValueHeads)
            }
            return t
        }
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
