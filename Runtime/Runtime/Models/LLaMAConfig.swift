// LLaMA-family configuration: from a Hugging Face config.json (llama, mistral, qwen2) or from the
// metadata of a llama.cpp GGUF file.
import Foundation

public struct LLaMAConfig: Sendable {
    public var modelType = "llama"
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var hiddenAct = "silu"
    public var maxPositionEmbeddings = 2048
    public var rmsNormEps: Float = 1e-6
    public var ropeTheta: Double = 10000
    public var ropeScaling: RoPEScaling? = nil
    public var tieWordEmbeddings = false
    /// Biases on the q/k/v projections (Qwen2 has them; attention_bias puts one on o_proj too).
    public var qkvBias = false
    public var outputBias = false
    public var mlpBias = false
    public var initializerRange: Float = 0.02
    public var bosTokenId: Int? = nil
    public var eosTokenIds: [Int] = []
    /// Mistral's sliding window: each token attends to the last `slidingWindow` tokens only.
    public var slidingWindow: Int? = nil

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
                numAttentionHeads: Int, numKeyValueHeads: Int? = nil, headDim: Int? = nil) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
        // 0 heads gives head_dim 0 here; validate() refuses both (a file's values never trap).
        self.headDim = headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
    }

    /// Checks the sizes the layers divide by (a config file's or GGUF's values; errors, never traps).
    public func validate(_ path: String = "config") throws {
        for (name, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                          ("num_attention_heads", numAttentionHeads), ("num_key_value_heads", numKeyValueHeads),
                          ("head_dim", headDim), ("max_position_embeddings", maxPositionEmbeddings)] where v <= 0 {
            throw CheckpointError(path, "\(name) is \(v); it must be positive")
        }
        guard numHiddenLayers >= 0 else { throw CheckpointError(path, "num_hidden_layers is negative") }
        guard hiddenAct == "silu" else { throw CheckpointError(path, "hidden_act '\(hiddenAct)' is not supported (silu is)") }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw CheckpointError(path, "\(numAttentionHeads) attention heads are not divisible into \(numKeyValueHeads) key/value heads")
        }
        guard headDim % 2 == 0 else { throw CheckpointError(path, "head_dim \(headDim) is odd (RoPE rotates pairs)") }
        if let w = slidingWindow, w <= 0 { throw CheckpointError(path, "sliding_window is \(w); it must be positive") }
    }

    public func rope() -> RoPE {
        RoPE(headDim: headDim, theta: ropeTheta, scaling: ropeScaling, maxPositions: maxPositionEmbeddings)
    }

    /// Reads a config.json (transformers 4.x keys, and 5.x's rope_parameters).
    public static func load(configPath path: String) throws -> LLaMAConfig { try load(ConfigFile.read(path)) }

    public static func load(_ file: ConfigFile) throws -> LLaMAConfig {
        let path = file.path, json = try file.json()
        func int(_ k: String) -> Int? { (try? json[k]?.numberValue?.int()) ?? nil }
        func double(_ k: String) -> Double? { (try? json[k]?.numberValue?.double()) ?? nil }
        func need(_ k: String) throws -> Int {
            guard let v = int(k) else { throw CheckpointError(path, "missing integer '\(k)'") }
            return v
        }
        let type = json["model_type"]?.stringValue ?? "llama"
        guard ["llama", "mistral", "qwen2"].contains(type) else {
            throw CheckpointError(path, "model_type '\(type)' is not a LLaMA-family model (llama, mistral, qwen2)")
        }
        var c = LLaMAConfig(vocabSize: try need("vocab_size"), hiddenSize: try need("hidden_size"),
                            intermediateSize: try need("intermediate_size"), numHiddenLayers: try need("num_hidden_layers"),
                            numAttentionHeads: try need("num_attention_heads"), numKeyValueHeads: int("num_key_value_heads"),
                            headDim: int("head_dim"))
        c.modelType = type
        c.hiddenAct = json["hidden_act"]?.stringValue ?? "silu"
        c.maxPositionEmbeddings = int("max_position_embeddings") ?? 2048
        c.rmsNormEps = Float(double("rms_norm_eps") ?? 1e-6)
        c.tieWordEmbeddings = json["tie_word_embeddings"]?.boolValue ?? false
        c.initializerRange = Float(double("initializer_range") ?? 0.02)
        let attentionBias = json["attention_bias"]?.boolValue ?? false
        c.qkvBias = type == "qwen2" || attentionBias
        c.outputBias = attentionBias
        c.mlpBias = json["mlp_bias"]?.boolValue ?? false
        c.bosTokenId = int("bos_token_id")
        if type == "mistral" { c.slidingWindow = int("sliding_window") }
        if type == "qwen2" && json["use_sliding_window"]?.boolValue == true {
            throw CheckpointError(path, "Qwen2's use_sliding_window is not supported")
        }
        if let e = json["eos_token_id"] {
            c.eosTokenIds = e.arrayValue?.compactMap { try? $0.numberValue?.int() } ?? [(try? e.numberValue?.int()) ?? nil].compactMap { $0 }
        }
        // Rope: transformers 5 nests it in rope_parameters; 4.x has rope_theta and rope_scaling.
        let rp = json["rope_parameters"] ?? json["rope_scaling"]
        let nestedTheta: Double? = (try? rp?["rope_theta"]?.numberValue?.double()) ?? nil
        c.ropeTheta = nestedTheta ?? double("rope_theta") ?? 10000
        if let rp, let kindName = rp["rope_type"]?.stringValue ?? rp["type"]?.stringValue, kindName != "default" {
            guard let kind = RoPEScaling.Kind(rawValue: kindName) else {
                throw CheckpointError(path, "rope scaling type '\(kindName)' is not supported (linear, dynamic, llama3, yarn are)")
            }
            func d(_ k: String) -> Double? { (try? rp[k]?.numberValue?.double()) ?? nil }
            var s = RoPEScaling(kind: kind, factor: d("factor") ?? 1,
                                originalMaxPositions: (try? rp["original_max_position_embeddings"]?.numberValue?.int()) ?? nil)
            s.lowFreqFactor = d("low_freq_factor") ?? 1
            s.highFreqFactor = d("high_freq_factor") ?? 4
            s.betaFast = d("beta_fast") ?? 32
            s.betaSlow = d("beta_slow") ?? 1
            s.attentionFactor = d("attention_factor")
            c.ropeScaling = s
        }
        try c.validate(path)
        return c
    }

    /// Reads the `<arch>.*` metadata of a GGUF file (llama, mistral, qwen2 architectures).
    public static func load(gguf f: GGUFFile) throws -> LLaMAConfig {
        let arch = f.metadata["general.architecture"]?.string ?? "?"
        guard ["llama", "mistral", "qwen2"].contains(arch) else {
            throw CheckpointError(f.path, "architecture '\(arch)' is not a LLaMA-family model (llama, mistral, qwen2)")
        }
        func int(_ k: String) -> Int? { f.metadata["\(arch).\(k)"]?.int }
        func need(_ k: String) throws -> Int {
            guard let v = int(k) else { throw CheckpointError(f.path, "missing metadata '\(arch).\(k)'") }
            return v
        }
        let vocab = int("vocab_size") ?? f.metadata["tokenizer.ggml.tokens"]?.array?.count ?? f.info("token_embd.weight")?.shape.first
        guard let vocab else { throw CheckpointError(f.path, "cannot tell the vocabulary size") }
        let heads = try need("attention.head_count"), hidden = try need("embedding_length")
        var c = LLaMAConfig(vocabSize: vocab, hiddenSize: hidden, intermediateSize: try need("feed_forward_length"),
                            numHiddenLayers: try need("block_count"), numAttentionHeads: heads,
                            numKeyValueHeads: int("attention.head_count_kv"),
                            headDim: int("attention.key_length") ?? int("rope.dimension_count"))
        c.modelType = arch
        c.maxPositionEmbeddings = int("context_length") ?? 2048
        c.rmsNormEps = Float(f.metadata["\(arch).attention.layer_norm_rms_epsilon"]?.double ?? 1e-6)
        c.ropeTheta = f.metadata["\(arch).rope.freq_base"]?.double ?? 10000
        c.tieWordEmbeddings = f.info("output.weight") == nil
        c.qkvBias = f.info("blk.0.attn_q.bias") != nil
        c.outputBias = f.info("blk.0.attn_output.bias") != nil
        if let type = f.metadata["\(arch).rope.scaling.type"]?.string, type != "none" {
            guard let kind = RoPEScaling.Kind(rawValue: type) else {
                throw CheckpointError(f.path, "rope scaling type '\(type)' is not supported")
            }
            c.ropeScaling = RoPEScaling(kind: kind, factor: f.metadata["\(arch).rope.scaling.factor"]?.double ?? 1,
                                        originalMaxPositions: int("rope.scaling.original_context_length"))
        }
        c.bosTokenId = f.metadata["tokenizer.ggml.bos_token_id"]?.int
        c.eosTokenIds = [f.metadata["tokenizer.ggml.eos_token_id"]?.int].compactMap { $0 }
        try c.validate(f.path)
        return c
    }
}
