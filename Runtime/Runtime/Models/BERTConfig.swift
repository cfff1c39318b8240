// The configuration of the BERT family (Hugging Face BertConfig, RobertaConfig, XLMRobertaConfig) and
// the ids every encoder takes: token sequences right-padded into one batch.
import Foundation

public struct BERTConfig: Decodable, Sendable {
    public var modelType = "bert"
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: String = "gelu"
    public var maxPositionEmbeddings: Int = 512
    public var typeVocabSize: Int = 2
    public var layerNormEps: Float = 1e-12
    public var hiddenDropoutProb: Float = 0.1
    public var attentionProbsDropoutProb: Float = 0.1
    public var initializerRange: Float = 0.02
    public var positionEmbeddingType: String = "absolute"
    public var padTokenId: Int = 0

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size", hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps", hiddenDropoutProb = "hidden_dropout_prob"
        case attentionProbsDropoutProb = "attention_probs_dropout_prob", initializerRange = "initializer_range"
        case positionEmbeddingType = "position_embedding_type", padTokenId = "pad_token_id"
    }

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? modelType
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? hiddenAct
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? maxPositionEmbeddings
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? typeVocabSize
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? layerNormEps
        hiddenDropoutProb = try c.decodeIfPresent(Float.self, forKey: .hiddenDropoutProb) ?? hiddenDropoutProb
        attentionProbsDropoutProb = try c.decodeIfPresent(Float.self, forKey: .attentionProbsDropoutProb) ?? attentionProbsDropoutProb
        initializerRange = try c.decodeIfPresent(Float.self, forKey: .initializerRange) ?? initializerRange
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? positionEmbeddingType
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? padTokenId
    }

    /// RoBERTa and XLM-R number positions from the padding index + 1 (fairseq's make_positions).
    public var positionsFromPadding: Bool { ["roberta", "xlm-roberta", "camembert"].contains(modelType) }

    /// Checks the sizes every layer divides by, with the config file's path in the error.
    func validate(_ path: String) throws {
        for (name, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_attention_heads", numAttentionHeads),
                          ("intermediate_size", intermediateSize), ("max_position_embeddings", maxPositionEmbeddings)] where v <= 0 {
            throw CheckpointError(path, "\(name) is \(v); it must be positive")
        }
        guard numHiddenLayers >= 0, typeVocabSize >= 0 else { throw CheckpointError(path, "negative num_hidden_layers or type_vocab_size") }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw CheckpointError(path, "hidden_size \(hiddenSize) is not divisible by \(numAttentionHeads) attention heads")
        }
        guard positionEmbeddingType == "absolute" else {
            throw CheckpointError(path, "position_embedding_type '\(positionEmbeddingType)' is not supported (absolute is)")
        }
        if positionsFromPadding && padTokenId + 2 > maxPositionEmbeddings {
            throw CheckpointError(path, "pad_token_id \(padTokenId) leaves no positions in \(maxPositionEmbeddings)")
        }
    }
}

/// Token ids of several sequences, right-padded to one length, with the padding mask. The length is a
/// multiple of the BLAS kernel's row panel (RowPanels.size), so every sequence starts at the same
/// position within a panel as it would alone: a record's output does not depend on its neighbours.
/// Training batches, which need no such invariance (a step's batch is fixed by the seed), may pad to
/// the longest sequence only (`panelAligned: false`): up to 11 fewer tokens per row.
public struct TokenBatch: Sendable {
    public let ids: [Int]        // [batch * length]
    public let typeIds: [Int]    // [batch * length]
    public let mask: [[Bool]]    // [batch][length], false at padding
    public let lengths: [Int]
    public let batch: Int, length: Int

    public init(_ sequences: [[Int]], typeIds: [[Int]]? = nil, padId: Int = 0, panelAligned: Bool = true) {
        batch = sequences.count
        let longest = sequences.map(\.count).max() ?? 0, r = panelAligned ? RowPanels.size : 1
        length = (longest + r - 1) / r * r
        lengths = sequences.map(\.count)
        var ids = [Int](repeating: padId, count: batch * length), types = [Int](repeating: 0, count: batch * length)
        var mask = [[Bool]]()
        for (b, s) in sequences.enumerated() {
            for (t, id) in s.enumerated() { ids[b * length + t] = id }
            if let ty = typeIds?[b] { for (t, v) in ty.enumerated() where t < length { types[b * length + t] = v } }
            mask.append((0..<length).map { $0 < s.count })
        }
        self.ids = ids
        self.typeIds = types
        self.mask = mask
    }
}
