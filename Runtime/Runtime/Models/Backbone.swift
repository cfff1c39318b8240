// Backbone: the one face every pretrained encoder and decoder shows to the programs. A program asks
// the registry (ModelRegistry.swift) for a model and talks to it only through this protocol: token
// embeddings, an inputs_embeds entry, padding masks with causal or bidirectional attention, learned
// prefix keys/values, the hidden states of every layer, the LM head (decoders) or MLM head (encoders
// whose checkpoint has one), and named parameters for LoRA, freezing and optimizers. Everything is
// differentiable (reverse mode) and carries forward-mode tangents.
//
// Dimension letters (ARCHITECTURE.md): B batch, T tokens, P prefix tokens, C model width, E embedding
// width (C except for DeBERTa's embedding_size), V vocabulary, H heads, Hkv key/value heads, D head size.

public enum BackboneKind: String, Sendable { case encoder, decoder }

/// What a program needs to know about a backbone without knowing its architecture.
public struct BackboneDescriptor: Sendable {
    public var modelType: String
    public var kind: BackboneKind
    public var vocabSize: Int
    public var hiddenSize: Int
    /// Width of the token embeddings (inputs_embeds): hiddenSize except for DeBERTa's embedding_size.
    public var embeddingSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// The longest sequence the model takes (absolute positions), or was trained for (RoPE, relative
    /// positions: max_position_embeddings); nil when nothing says.
    public var maxPositions: Int?
    public var padId: Int?
    /// The attention's query and value projection names (PEFT's default LoRA targets for the type).
    public var attentionProjections: [String]
}

/// Keys and values that sit in front of every sequence at one layer (prefix tuning, or captured
/// activations): [P, Hkv, D] each, shared by the whole batch. Tokens then take positions P… as if
/// the prefix were P earlier tokens (Hugging Face's past_key_values semantics).
public struct LayerKeyValues {
    public var keys: Tensor
    public var values: Tensor
    public init(keys: Tensor, values: Tensor) {
        self.keys = keys
        self.values = values
    }
}

public struct BackboneInput {
    /// Token ids [B·T], row-major (or give inputsEmbeds).
    public var ids: [Int]?
    /// [B, T, E] in place of the token embedding lookup (positions and token types are still added).
    public var inputsEmbeds: Tensor?
    public var batch: Int
    public var length: Int
    /// [B][T]: false at padding (nil: nothing is padded).
    public var padding: [[Bool]]?
    /// Token type ids [B·T] (encoders with token types; nil: zeros).
    public var typeIds: [Int]?
    /// nil: the architecture's own (decoders causal, encoders bidirectional); false gives a decoder
    /// bidirectional attention (LS-unLLaMA).
    public var causal: Bool?
    /// With causal == false on a decoder: layers before this index stay causal, the rest are
    /// bidirectional (BiLLM's BiLLM_START_INDEX); nil: every layer bidirectional.
    public var bidirectionalFrom: Int?
    /// One entry per layer.
    public var prefix: [LayerKeyValues]?
    /// Return the hidden states of every layer (Hugging Face's output_hidden_states).
    public var outputHiddenStates = false
    /// Return every layer's keys and values of this input (for prefix initialization from real
    /// activations): [B, T, Hkv, D], keys as attention sees them (after RoPE, for decoders).
    public var outputKeyValues = false

    public init(ids: [Int], batch: Int, length: Int, padding: [[Bool]]? = nil, typeIds: [Int]? = nil) {
        self.ids = ids
        self.batch = batch
        self.length = length
        self.padding = padding
        self.typeIds = typeIds
    }

    public init(inputsEmbeds: Tensor, padding: [[Bool]]? = nil, typeIds: [Int]? = nil) {
        self.inputsEmbeds = inputsEmbeds
        self.batch = inputsEmbeds.shape[0]
        self.length = inputsEmbeds.shape[1]
        self.padding = padding
        self.typeIds = typeIds
    }

    /// Right-padded token sequences.
    public init(_ tokens: TokenBatch) {
        self.init(ids: tokens.ids, batch: tokens.batch, length: tokens.length, padding: tokens.mask, typeIds: tokens.typeIds)
    }

    /// Key visibility [B][P + T] when a prefix of P positions precedes the sequence.
    func keyPadding(prefixLength p: Int) -> [[Bool]]? {
        guard let padding else { return nil }
        return p == 0 ? padding : padding.map { [Bool](repeating: true, count: p) + $0 }
    }
}

public struct BackboneOutput {
    /// [B, T, C]: the encoder's last layer, or the decoder's final normalized states.
    public var lastHidden: Tensor
    /// With outputHiddenStates: L + 1 entries as Hugging Face returns them (the embeddings' output,
    /// then each layer's; a decoder's last entry is normalized).
    public var hiddenStates: [Tensor] = []
    /// With outputKeyValues: one entry per layer, [B, T, Hkv, D] each.
    public var keyValues: [LayerKeyValues] = []

    public init(lastHidden: Tensor) { self.lastHidden = lastHidden }
}

public protocol Backbone: Module {
    var descriptor: BackboneDescriptor { get }
    /// The token embedding table [V, E] (what inputs_embeds replaces).
    var tokenEmbeddings: Embedding { get }
    func callAsFunction(_ input: BackboneInput) -> BackboneOutput
    /// Whether `lmLogits` is available: a decoder's LM head, or an encoder checkpoint's MLM head.
    var hasLMHead: Bool { get }
    /// Vocabulary logits from final hidden states: [..., C] → [..., V].
    func lmLogits(_ hidden: Tensor) -> Tensor
    /// Logits of a few vocabulary entries only: [..., C] → [..., rows.count].
    func lmLogits(_ hidden: Tensor, rows: [Int]) -> Tensor
}

extension Backbone {
    /// Token embeddings of `ids` as [B, T, E] (for building inputs_embeds).
    public func embed(_ ids: [Int], batch: Int) -> Tensor {
        tokenEmbeddings(ids, shape: [batch, ids.count / max(batch, 1)])
    }

    /// Final hidden states of right-padded token sequences.
    public func hidden(_ tokens: TokenBatch) -> Tensor { self(BackboneInput(tokens)).lastHidden }
}
