// BERT encoder (Hugging Face BertModel): absolute position and token-type embeddings, post-LayerNorm
// blocks with GELU, padding masks, optional pooler. Parameter names are the checkpoint's
// ("encoder.layer.3.attention.self.query.weight"), with or without a "bert." prefix.
//
//   x = LN(word[ids] + position[t] + type[typeIds])
//   per layer: a = LN(x + O(attention(Q x, K x, V x)));  x = LN(a + W2 gelu(W1 a))
//   pooler (if present): tanh(P x[:, 0])
import Foundation

public struct BERTConfig: Decodable, Sendable {
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
}

/// Token ids of several sequences, right-padded to one length, with the padding mask.
public struct TokenBatch: Sendable {
    public let ids: [Int]        // [batch * length]
    public let typeIds: [Int]    // [batch * length]
    public let mask: [[Bool]]    // [batch][length], false at padding
    public let lengths: [Int]
    public let batch: Int, length: Int

    public init(_ sequences: [[Int]], typeIds: [[Int]]? = nil, padId: Int = 0) {
        batch = sequences.count
        length = sequences.map(\.count).max() ?? 0
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

final class BERTEmbeddings: Module {
    let wordEmbeddings: Embedding, positionEmbeddings: Embedding, tokenTypeEmbeddings: Embedding
    let layerNorm: LayerNorm
    let dropout: Dropout
    override var keyMap: [String: String] {
        ["wordEmbeddings": "word_embeddings", "positionEmbeddings": "position_embeddings",
         "tokenTypeEmbeddings": "token_type_embeddings", "layerNorm": "LayerNorm"]
    }

    init(_ c: BERTConfig, _ w: WeightLoader, _ p: String) throws {
        let std = WeightInit.normal(std: c.initializerRange)
        wordEmbeddings = Embedding(weight: try w.weight(p + "word_embeddings.weight", [c.vocabSize, c.hiddenSize], std))
        positionEmbeddings = Embedding(weight: try w.weight(p + "position_embeddings.weight", [c.maxPositionEmbeddings, c.hiddenSize], std))
        tokenTypeEmbeddings = Embedding(weight: try w.weight(p + "token_type_embeddings.weight", [c.typeVocabSize, c.hiddenSize], std))
        layerNorm = try loadLayerNorm(w, p + "LayerNorm", c.hiddenSize, c.layerNormEps)
        dropout = Dropout(c.hiddenDropoutProb)
    }

    func callAsFunction(_ batch: TokenBatch) -> Tensor {
        let positions = (0..<batch.batch).flatMap { _ in 0..<batch.length }
        let x = wordEmbeddings(batch.ids, shape: [batch.batch, batch.length])
            + positionEmbeddings(positions, shape: [batch.batch, batch.length])
            + tokenTypeEmbeddings(batch.typeIds, shape: [batch.batch, batch.length])
        return dropout(layerNorm(x))
    }
}

final class BERTSelfAttention: Module {
    let query: Linear, key: Linear, value: Linear
    init(_ c: BERTConfig, _ w: WeightLoader, _ p: String) throws {
        let h = c.hiddenSize
        query = try loadLinear(w, p + "query", h, h, std: c.initializerRange)
        key = try loadLinear(w, p + "key", h, h, std: c.initializerRange)
        value = try loadLinear(w, p + "value", h, h, std: c.initializerRange)
    }
}

/// dense + dropout + residual + LayerNorm (BertSelfOutput and BertOutput).
final class BERTResidualOutput: Module {
    let dense: Linear, layerNorm: LayerNorm, dropout: Dropout
    override var keyMap: [String: String] { ["layerNorm": "LayerNorm"] }
    init(_ c: BERTConfig, _ w: WeightLoader, _ p: String, inFeatures: Int) throws {
        dense = try loadLinear(w, p + "dense", inFeatures, c.hiddenSize, std: c.initializerRange)
        layerNorm = try loadLayerNorm(w, p + "LayerNorm", c.hiddenSize, c.layerNormEps)
        dropout = Dropout(c.hiddenDropoutProb)
    }
    func callAsFunction(_ x: Tensor, residual: Tensor) -> Tensor { layerNorm(dropout(dense(x)) + residual) }
}

final class BERTAttention: Module {
    let selfAttention: BERTSelfAttention, output: BERTResidualOutput
    override var keyMap: [String: String] { ["selfAttention": "self"] }
    init(_ c: BERTConfig, _ w: WeightLoader, _ p: String) throws {
        selfAttention = try BERTSelfAttention(c, w, p + "self.")
        output = try BERTResidualOutput(c, w, p + "output.", inFeatures: c.hiddenSize)
    }
}

final class BERTLayer: Module {
    let attention: BERTAttention
    let intermediate: BERTIntermediate
    let output: BERTResidualOutput
    let heads: Int
    let act: (Tensor) -> Tensor

    init(_ c: BERTConfig, _ w: WeightLoader, _ p: String) throws {
        attention = try BERTAttention(c, w, p + "attention.")
        intermediate = BERTIntermediate(dense: try loadLinear(w, p + "intermediate.dense", c.hiddenSize, c.intermediateSize,
                                                               std: c.initializerRange))
        output = try BERTResidualOutput(c, w, p + "output.", inFeatures: c.intermediateSize)
        heads = c.numAttentionHeads
        guard let f = activation(named: c.hiddenAct) else {
            throw CheckpointError(p, "unsupported hidden_act '\(c.hiddenAct)'")
        }
        act = f
    }

    func callAsFunction(_ x: Tensor, mask: [[Bool]]) -> Tensor {
        let (b, t, h) = (x.shape[0], x.shape[1], x.shape[2])
        let sa = attention.selfAttention
        let shape = [b, t, heads, h / heads]
        let ctx = Runtime.attention(sa.query(x).reshaped(shape), sa.key(x).reshaped(shape), sa.value(x).reshaped(shape),
                                    mask: AttentionMask(keyPadding: mask))
        let a = attention.output(ctx.reshaped([b, t, h]), residual: x)
        return output(act(intermediate.dense(a)), residual: a)
    }
}

final class BERTIntermediate: Module {
    let dense: Linear
    init(dense: Linear) { self.dense = dense }
}

final class BERTEncoder: Module {
    let layer: [BERTLayer]
    init(layer: [BERTLayer]) { self.layer = layer }
}

final class BERTPooler: Module {
    let dense: Linear
    init(dense: Linear) { self.dense = dense }
}

public final class BERTModel: Module {
    public let config: BERTConfig
    let embeddings: BERTEmbeddings
    let encoder: BERTEncoder
    let pooler: BERTPooler?

    /// Builds the model from `weights` (a checkpoint, or fresh initialization).
    public init(config: BERTConfig, weights: WeightLoader, pooler: Bool = true) throws {
        guard config.positionEmbeddingType == "absolute" else {
            throw CheckpointError("config.json", "position_embedding_type '\(config.positionEmbeddingType)' is not supported (absolute is)")
        }
        guard config.hiddenSize % config.numAttentionHeads == 0 else {
            throw CheckpointError("config.json", "hidden_size \(config.hiddenSize) not divisible by \(config.numAttentionHeads) heads")
        }
        self.config = config
        embeddings = try BERTEmbeddings(config, weights, "embeddings.")
        encoder = BERTEncoder(layer: try (0..<config.numHiddenLayers).map { try BERTLayer(config, weights, "encoder.layer.\($0).") })
        if pooler && weights.has("pooler.dense.weight") {
            self.pooler = BERTPooler(dense: try loadLinear(weights, "pooler.dense", config.hiddenSize, config.hiddenSize,
                                                           std: config.initializerRange))
        } else {
            self.pooler = nil
        }
        try weights.finish()
    }

    /// Loads config.json and the safetensors weights of a Hugging Face BERT directory.
    public static func load(directory: String) throws -> BERTModel {
        let config: BERTConfig = try loadConfig(directory: directory)
        let source = try SafeTensorsCheckpoint(path: directory)
        let prefix = source.hasTensor("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        let loader = CheckpointLoader(source, prefix: prefix,
                                      ignorable: [prefix + "embeddings.position_ids"])
        let m = try BERTModel(config: config, weights: loader)
        m.eval()
        return m
    }

    /// Last hidden states [B, T, H].
    public func callAsFunction(_ batch: TokenBatch) -> Tensor {
        precondition(batch.length <= config.maxPositionEmbeddings,
                     "BERT: sequence of \(batch.length) tokens is longer than \(config.maxPositionEmbeddings) positions")
        var x = embeddings(batch)
        for layer in encoder.layer { x = layer(x, mask: batch.mask) }
        return x
    }

    /// tanh(dense(h[:, 0])) when the checkpoint has a pooler.
    public func pooled(_ hidden: Tensor) -> Tensor? {
        guard let pooler else { return nil }
        let b = hidden.shape[0], h = hidden.shape[2]
        let first = hidden.slice(axis: 1, 0, 1).reshaped([b, h])
        return tanh(pooler.dense(first))
    }
}

// MARK: shared loading helpers

func loadLinear(_ w: WeightLoader, _ name: String, _ inF: Int, _ outF: Int, bias: Bool = true,
                std: Float? = nil) throws -> Linear {
    let initW: WeightInit = std.map { .normal(std: $0) } ?? .fanInUniform(fanIn: inF)
    let weight = try w.weight(name + ".weight", [outF, inF], initW)
    let b = bias ? try w.weight(name + ".bias", [outF], std == nil ? .fanInUniform(fanIn: inF) : .zeros) : nil
    return Linear(weight: weight, bias: b)
}

func loadLayerNorm(_ w: WeightLoader, _ name: String, _ dim: Int, _ eps: Float) throws -> LayerNorm {
    LayerNorm(weight: try w.weight(name + ".weight", [dim], .ones), bias: try w.weight(name + ".bias", [dim], .zeros), eps: eps)
}

/// Decodes `config.json` of a model directory, with errors naming the file.
public func loadConfig<C: Decodable>(directory: String) throws -> C {
    let path = (directory as NSString).appendingPathComponent("config.json")
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CheckpointError(path, "cannot read (is \(directory) a model directory?)")
    }
    do { return try JSONDecoder().decode(C.self, from: data) } catch {
        throw CheckpointError(path, "not a valid config: \(error)")
    }
}
