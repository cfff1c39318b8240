// GLiClass, uni-encoder (Knowledgator/GLiClass model.py GLiClassUniEncoder): one encoder pass over
// labels + <<SEP>> + text gives a vector per label (at its <<LABEL>> token) and one for the text (pooled);
// a scorer turns (text, label) pairs into logits.
//
//   H = encoder(ids) (segment embeddings added to the token embeddings when configured)
//   C = classes_projector(read-out of the label tokens of H)            [B, K, D]
//   t = dropout(text_projector(pool(text tokens of H)))                 [B, D]
//   (t, C normalized and the logits scaled by logit_scale, linearly, when normalize_features)
//   logits = scorer(t, C)                                               [B, K]
//
// Weight names are the reference's ("model.encoder_model.…", "model.text_projector.linear_1.weight",
// "model.scorer.mlp.0.weight", "model.logit_scale"), so its checkpoints load and ours load in it.
import Runtime

/// The reference behaviours this port corrects, switched back on to reproduce a released checkpoint's
/// numbers exactly.
public struct ReferenceQuirks: Sendable {
    /// Poolers over padding and label tokens, `last` at position S − 1, the last averaged label span
    /// running to the end of the sequence, padded label slots inside the hopfield softmax and the
    /// contrastive loss, the layer weighting's squeeze averaged over padding.
    public var pooling = false
    /// Every position of a row with examples in segment 2 (the reference's argmin).
    public var segments = false
    public init(pooling: Bool = false, segments: Bool = false) {
        self.pooling = pooling
        self.segments = segments
    }
}

public struct GLiClassOutput {
    /// [B, K]
    public var logits: Tensor
    /// [B][K]: slots that hold a label.
    public var labelMask: [[Bool]]
    /// The projected text vector [B, D] (or states [B, S, D] with pass pooling) and label vectors [B, K, D].
    public var text: Tensor
    public var classes: Tensor
    /// The loss when targets were given.
    public var loss: Tensor?
}

public final class GLiClassModel: Module {
    public let config: GLiClassConfig
    public let backbone: Backbone
    let textProjector: FeaturesProjector
    let classesProjector: FeaturesProjector
    let scorer: Module & Scorer
    let segmentEmbeddings: Embedding?
    let layerwiseAttention: LayerwiseAttention?
    public let logitScale: Tensor
    let dropout: Dropout
    public var quirks = ReferenceQuirks()

    override public var keyMap: [String: String] { ["backbone": "model.encoder_model", "logitScale": "model.logit_scale"] }

    /// Builds the heads from `heads` (a GLiClass checkpoint under "model.", or fresh weights) on `backbone`.
    public init(config c: GLiClassConfig, backbone: Backbone, heads: WeightLoader) throws {
        let d = backbone.descriptor.hiddenSize
        guard d == c.encoderHiddenSize else {
            throw GLiClassError("the encoder is \(d) wide but the GLiClass config says \(c.encoderHiddenSize)")
        }
        guard !c.useLSTM else { throw GLiClassError("use_lstm: the BiLSTM over the text tokens is not supported by this port") }
        config = c
        self.backbone = backbone
        let w = WeightScope(heads).pp("model"), std = c.initializerRange
        let act: (Tensor) -> Tensor
        if c.projectorHiddenAct == "gelu" { act = { gelu($0) } } else {
            guard let f = activation(named: c.projectorHiddenAct) else { throw GLiClassError("unsupported projector_hidden_act") }
            act = f
        }
        textProjector = try FeaturesProjector(w.pp("text_projector"), width: d, hidden: c.hiddenSize, activation: act, dropout: c.dropout, std: std)
        classesProjector = try FeaturesProjector(w.pp("classes_projector"), width: d, hidden: c.hiddenSize, activation: act, dropout: c.dropout, std: std)
        switch c.scorerType {
        case .simple: scorer = DotScorer()
        case .mlp: scorer = try MLPScorer(w.pp("scorer"), width: d, std: std)
        case .weightedDot: scorer = try WeightedDotScorer(w.pp("scorer"), width: d, std: std)
        case .hopfield: scorer = try HopfieldScorer(w.pp("scorer"), width: d, std: std)
        case .crossAttn: scorer = try CrossAttentionScorer(w.pp("scorer"), width: d, heads: c.scorerNumHeads, mlpHidden: c.scorerMLPHiddenSize, std: std)
        }
        segmentEmbeddings = c.useSegmentEmbeddings ? try w.embedding("segment_embeddings", 3, backbone.descriptor.embeddingSize, std: std) : nil
        layerwiseAttention = c.squeezeLayers ? try LayerwiseAttention(w.pp("layer_wise_attention"), layers: backbone.descriptor.layers, width: d, std: std) : nil
        let scale = try w.tensor("logit_scale", [], .ones)
        if heads is InitLoader { scale.data[0] = c.logitScaleInitValue }
        logitScale = scale
        dropout = Dropout(c.dropout)
        try heads.finish()
        super.init()
        placed(at: WeightScope(heads))
    }

    /// Switches the reference behaviours on or off (see ReferenceQuirks).
    public func setQuirks(_ q: ReferenceQuirks) {
        quirks = q
        (scorer as? HopfieldScorer)?.referenceSoftmax = q.pooling
    }

    /// Scores a batch of encoded inputs; with `targets`, also the loss.
    public func callAsFunction(_ tokens: TokenBatch, slots k: Int, targets: Targets? = nil) -> GLiClassOutput {
        let layout = TokenLayout(tokens, config: config)
        var input = BackboneInput(tokens)
        if let seg = segmentEmbeddings {
            let ids = tokens.ids
            input = BackboneInput(inputsEmbeds: backbone.embed(ids, batch: tokens.batch) + seg(layout.segments(reference: quirks.segments), shape: [tokens.batch, tokens.length]),
                                  padding: tokens.mask, typeIds: tokens.typeIds)
        }
        let needStates = config.layerWise || config.squeezeLayers || config.encoderLayerId != -1
        input.outputHiddenStates = needStates
        let out = backbone(input)
        if config.layerWise, let targets {
            var total: Tensor? = nil
            var last: GLiClassOutput? = nil
            for h in out.hiddenStates {
                let o = head(h, layout, slots: k, targets: targets)
                total = total.map { $0 + o.loss! } ?? o.loss   // invariant: head() sets loss when targets are given
                last = o
            }
            last!.loss = total   // invariant: hiddenStates has L + 1 ≥ 1 entries
            return last!
        }
        let h: Tensor
        if config.squeezeLayers, let lw = layerwiseAttention {
            let m = Tensor(shape: [tokens.batch, tokens.length, 1], scalars: layout.real.flatMap { r in r.enumerated().map { i, v in
                (quirks.pooling ? i < layout.longest : v) ? Float(1) : 0 } })
            h = lw(Array(out.hiddenStates.dropFirst()), mask: m)
        } else if config.encoderLayerId != -1 {
            let n = out.hiddenStates.count
            h = out.hiddenStates[config.encoderLayerId >= 0 ? config.encoderLayerId : n + config.encoderLayerId]
        } else {
            h = out.lastHidden
        }
        return head(h, layout, slots: k, targets: targets)
    }

    /// Label and text read-outs, projections, scorer and loss on one layer's states. The products on
    /// per-record rows (pooled texts, label vectors) run each row alone, so a record's scores are the
    /// same bits whatever its batch (RowPanels.withRowsAlone; the encoder aligns whole sequences).
    func head(_ h: Tensor, _ layout: TokenLayout, slots k: Int, targets: Targets?) -> GLiClassOutput {
        RowPanels.withRowsAlone { headRows(h, layout, slots: k, targets: targets) }
    }

    private func headRows(_ h: Tensor, _ layout: TokenLayout, slots k: Int, targets: Targets?) -> GLiClassOutput {
        let c = config
        let classes = matmul(classWeights(layout, slots: k, config: c, reference: quirks.pooling), h)   // [B, K, D]
        let (tokensH, tokenMask) = textTokens(h, layout, config: c)
        let poolMask = poolingMask(tokenMask, layout, config: c, reference: quirks.pooling)
        var t = dropout(textProjector(poolText(tokensH, mask: poolMask, strategy: c.poolingStrategy)))
        var cl = classesProjector(classes)
        if c.normalizeFeatures {
            t = t / (sqrt(square(t).sum(axis: -1, keepDims: true)) + 1e-8)
            cl = cl / (sqrt(square(cl).sum(axis: -1, keepDims: true)) + 1e-8)
        }
        let labelMask = layout.labelMask(slots: k)
        var logits = scorer.score(text: t, labels: cl, labelMask: labelMask, textMask: c.poolingStrategy == .pass ? tokenMask : nil)
        if c.normalizeFeatures { logits = logits * logitScale }
        var o = GLiClassOutput(logits: logits, labelMask: labelMask, text: t, classes: cl)
        if let targets { o.loss = loss(o, targets) }
        return o
    }
}
