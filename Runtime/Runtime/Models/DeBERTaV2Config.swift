// DeBERTa-v2/v3 configuration (Hugging Face DebertaV2Config), with its defaults and the checks that
// keep input-derived sizes from reaching the layers unchecked.
import Foundation

public struct DeBERTaV2Config: Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct = "gelu"
    public var hiddenDropoutProb: Float = 0.1
    public var maxPositionEmbeddings = 512
    public var typeVocabSize = 0
    public var initializerRange: Float = 0.02
    public var layerNormEps: Float = 1e-7
    public var relativeAttention = false
    /// < 1 means max_position_embeddings.
    public var maxRelativePositions = -1
    public var padTokenId = 0
    public var positionBiasedInput = true
    /// "c2p", "p2c" (content-to-position, position-to-content terms).
    public var posAttType: [String] = []
    public var embeddingSize: Int
    public var positionBuckets = -1
    public var shareAttKey = false
    public var normRelEmbedding: [String] = ["none"]
    public var convKernelSize = 0
    /// The MLM head's form: legacy (cls.predictions, the default) or lm_predictions.lm_head.
    public var legacy = true

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int) {
        (self.vocabSize, self.hiddenSize, self.numHiddenLayers, self.numAttentionHeads, self.intermediateSize) =
            (vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize)
        embeddingSize = hiddenSize
    }

    /// Reads config.json.
    public static func load(configPath path: String) throws -> DeBERTaV2Config { try load(ConfigFile.read(path)) }

    public static func load(_ file: ConfigFile) throws -> DeBERTaV2Config {
        let path = file.path, json = try file.json()
        func int(_ k: String) -> Int? { (try? json[k]?.numberValue?.int()) ?? nil }
        func float(_ k: String) -> Float? { (try? json[k]?.numberValue?.float()) ?? nil }
        func need(_ k: String) throws -> Int {
            guard let v = int(k) else { throw CheckpointError(path, "missing integer '\(k)'") }
            return v
        }
        var c = DeBERTaV2Config(vocabSize: try need("vocab_size"), hiddenSize: try need("hidden_size"),
                                numHiddenLayers: try need("num_hidden_layers"), numAttentionHeads: try need("num_attention_heads"),
                                intermediateSize: try need("intermediate_size"))
        c.hiddenAct = json["hidden_act"]?.stringValue ?? c.hiddenAct
        c.hiddenDropoutProb = float("hidden_dropout_prob") ?? c.hiddenDropoutProb
        c.maxPositionEmbeddings = int("max_position_embeddings") ?? c.maxPositionEmbeddings
        c.typeVocabSize = int("type_vocab_size") ?? c.typeVocabSize
        c.initializerRange = float("initializer_range") ?? c.initializerRange
        c.layerNormEps = float("layer_norm_eps") ?? c.layerNormEps
        c.relativeAttention = json["relative_attention"]?.boolValue ?? c.relativeAttention
        c.maxRelativePositions = int("max_relative_positions") ?? c.maxRelativePositions
        c.padTokenId = int("pad_token_id") ?? c.padTokenId
        c.positionBiasedInput = json["position_biased_input"]?.boolValue ?? c.positionBiasedInput
        // pos_att_type: a list, or a "p2c|c2p" string (older configs).
        if let list = json["pos_att_type"]?.arrayValue {
            c.posAttType = list.compactMap(\.stringValue).map { $0.lowercased() }
        } else if let s = json["pos_att_type"]?.stringValue {
            c.posAttType = s.lowercased().split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        c.embeddingSize = int("embedding_size") ?? c.hiddenSize
        c.positionBuckets = int("position_buckets") ?? c.positionBuckets
        c.shareAttKey = json["share_att_key"]?.boolValue ?? c.shareAttKey
        c.normRelEmbedding = (json["norm_rel_ebd"]?.stringValue ?? "none").lowercased().split(separator: "|")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        c.convKernelSize = int("conv_kernel_size") ?? 0
        c.legacy = json["legacy"]?.boolValue ?? true
        if let d = int("attention_head_size"), d * c.numAttentionHeads != c.hiddenSize {
            throw CheckpointError(path, "attention_head_size \(d) × \(c.numAttentionHeads) heads ≠ hidden_size \(c.hiddenSize) (not supported)")
        }
        try c.validate(path)
        return c
    }

    func validate(_ path: String) throws {
        for (name, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_attention_heads", numAttentionHeads),
                          ("intermediate_size", intermediateSize), ("embedding_size", embeddingSize),
                          ("max_position_embeddings", maxPositionEmbeddings)] where v <= 0 {
            throw CheckpointError(path, "\(name) is \(v); it must be positive")
        }
        guard numHiddenLayers >= 0, typeVocabSize >= 0 else { throw CheckpointError(path, "negative num_hidden_layers or type_vocab_size") }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw CheckpointError(path, "hidden_size \(hiddenSize) is not divisible by \(numAttentionHeads) attention heads")
        }
        if let bad = posAttType.first(where: { $0 != "c2p" && $0 != "p2c" }) {
            throw CheckpointError(path, "pos_att_type '\(bad)' is not supported (c2p and p2c are)")
        }
        guard convKernelSize == 0 else {
            throw CheckpointError(path, "conv_kernel_size \(convKernelSize): DeBERTa's convolution layer (v2-xlarge) is not supported")
        }
    }

    /// The relative distance span: position_buckets when set, else max_relative_positions (or
    /// max_position_embeddings). rel_embeddings holds 2 × span rows.
    public var attentionSpan: Int { positionBuckets > 0 ? positionBuckets : relativeMaxPositions }
    var relativeMaxPositions: Int { maxRelativePositions < 1 ? maxPositionEmbeddings : maxRelativePositions }

    /// build_relative_position: bucketed query − key for (query position, key position).
    func relativePosition(_ query: Int, _ key: Int) -> Int {
        positionBuckets > 0 ? debertaLogBucket(query - key, bucketSize: positionBuckets, maxPosition: relativeMaxPositions) : query - key
    }
}
