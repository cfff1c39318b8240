// The label-supervised model: a backbone (any decoder or encoder of the registry, LoRA on its
// attention projections) and a linear head on its final hidden states.
//
//   seq    score = Linear(C, K, bias: false) on every position, then pooled over the sequence:
//          last (the last real token), mean or max over real tokens (cls: the first token).
//          Loss: cross-entropy over the batch.
//   token  classifier = Dropout(0.1) → Linear(C, K) per token; loss: cross-entropy over the tokens
//          that carry a label (a word's first sub-token), the rest ignored (−100).
//
// Decoders are causal (LS-LLaMA) or bidirectional (LS-unLLaMA, `unmasked`), with the padding mask
// kept, and pooling over real tokens only; `referenceMask` reproduces the reference's unmasked model:
// no padding mask (every token attends to the pads) and mean/max over the pads too.
import Runtime

public final class LabelSupervisedModel: Module {
    public let backbone: Backbone
    public var head: Linear
    let headDropout: Dropout?
    public let config: LSConfig
    override public var keyMap: [String: String] { ["backbone": "", "head": config.headName, "headDropout": "dropout"] }

    /// A new head, N(0, 0.02²) weights and a zero bias (LlamaPreTrainedModel._init_weights).
    public init(backbone: Backbone, config: LSConfig, generator: RandomGenerator) {
        self.backbone = backbone
        self.config = config
        let c = backbone.descriptor.hiddenSize, k = config.labels.count
        head = Linear(weight: generator.normal([k, c], std: 0.02), bias: config.task == .token ? Tensor.zeros([k]) : nil)
        headDropout = config.task == .token && config.headDropout > 0 ? Dropout(config.headDropout) : nil
        super.init()
    }

    /// The backbone's input for a batch, with the attention the config asks for.
    func backboneInput(_ batch: TokenBatch) -> BackboneInput {
        var input = BackboneInput(batch)
        if backbone.descriptor.kind == .decoder && config.unmasked {
            input.causal = false
            input.bidirectionalFrom = config.bidirectionalFrom
            if config.referenceMask { input.padding = nil }
        }
        return input
    }

    /// Per-position logits [B, T, K].
    public func tokenLogits(_ batch: TokenBatch) -> Tensor {
        var h = backbone(backboneInput(batch)).lastHidden
        if let headDropout { h = headDropout(h) }
        return head(h)
    }

    /// Sequence logits [B, K]: the per-position logits pooled.
    public func sequenceLogits(_ batch: TokenBatch) -> Tensor {
        let logits = tokenLogits(batch)
        var mask = batch.mask
        if config.referenceMask && config.unmasked && config.pooling != .last {
            mask = mask.map { [Bool](repeating: true, count: $0.count) }
        }
        return pool(logits, mask: mask, mode: config.pooling)
    }

    /// Mean cross-entropy: seq targets one class per row; token targets one per position (−100: none).
    public func loss(_ batch: TokenBatch, targets: [Int]) -> Tensor {
        switch config.task {
        case .seq:
            return crossEntropy(sequenceLogits(batch), targets: targets)
        case .token:
            let logits = tokenLogits(batch)
            return crossEntropy(logits.reshaped([batch.batch * batch.length, config.labels.count]), targets: targets)
        }
    }

    /// The trained tensors (LoRA adapters and the head) by their names in the model.
    public func trainedTensors() -> [(String, Tensor)] {
        namedParameters().filter { $0.1.requiresGrad }
    }

    /// The head's tensors by their PEFT names ("score.weight"; "classifier.weight", "classifier.bias").
    public var headTensors: [(String, Tensor)] {
        [(config.headName + ".weight", head.weight)] + (head.bias.map { [(config.headName + ".bias", $0)] } ?? [])
    }
}
