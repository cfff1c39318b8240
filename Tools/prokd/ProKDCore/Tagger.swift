// The token classifier of TSL and ProKD: a pretrained encoder (any backbone of the registry), dropout
// and Linear(C, K) on every token (BertForTokenClassification); words are classified at their first
// sub-token. The embeddings and the bottom layers stay frozen (TSL's freeze_bottom_layer); the layers
// above train in full with the classifier.
import Runtime

public final class TokenTagger: Module {
    public let backbone: Backbone
    public var classifier: Linear
    let dropout: Dropout
    public let config: ProKDConfig
    override public var keyMap: [String: String] { ["backbone": "", "classifier": "classifier", "dropout": "dropout"] }

    /// A new classifier: N(0, 0.02²) weights and a zero bias (BertPreTrainedModel._init_weights).
    public init(backbone: Backbone, config: ProKDConfig, generator: RandomGenerator) {
        self.backbone = backbone
        self.config = config
        classifier = Linear(weight: generator.normal([config.tags.count, backbone.descriptor.hiddenSize], std: 0.02), bias: Tensor.zeros([config.tags.count]))
        dropout = Dropout(config.classifierDropout)
        super.init()
        setTrainable()
    }

    /// The layer index a parameter name belongs to ("….layer.3.…", "….layers.3.…"), nil outside the layers.
    static func layerIndex(_ name: String) -> Int? {
        let parts = name.split(separator: ".")
        for (i, p) in parts.enumerated() where (p == "layer" || p == "layers") && i + 1 < parts.count {
            if let n = Int(parts[i + 1]) { return n }
        }
        return nil
    }

    /// Whether a backbone parameter trains: layers at or above freezeBottom, and what sits above the
    /// layers (a decoder's final norm); never the embeddings (a decoder's tied LM head is its
    /// embedding table), the pooler or an MLM head, which the tagger does not use.
    func trains(_ name: String) -> Bool {
        if let l = Self.layerIndex(name) { return l >= config.freezeBottom }
        let frozen = ["embed", "pooler", "lm_head", "cls.", "mlm"]
        return !frozen.contains { name.contains($0) }
    }

    func setTrainable() {
        freeze()
        unfreeze { self.trains($0) }
    }

    /// This tagger with another role (and input length), sharing its weights (a student started from
    /// its teacher).
    public func copy(role: TaggerRole, maxLength: Int) -> TokenTagger {
        var c = config
        (c.role, c.maxLength) = (role, maxLength)
        let t = TokenTagger(backbone: backbone, config: c, generator: RandomGenerator(seed: 0, stream: 0))
        t.classifier = classifier
        t.setTrainable()
        return t
    }

    /// Final hidden states [B, T, C] of right-padded sequences.
    public func features(_ batch: TokenBatch) -> Tensor { backbone(BackboneInput(batch)).lastHidden }

    /// Tag logits from features (dropout in training mode).
    public func logits(features: Tensor) -> Tensor { classifier(dropout(features)) }

    /// The trained tensors by name (saved in model.safetensors, kept in checkpoints).
    public func trainedTensors() -> [(String, Tensor)] { namedParameters().filter { $0.1.requiresGrad } }
}
