// The soft prompt and the head on a frozen backbone.
//
// Input (ch, lh): the soft prompt's sp_len vectors, then the text's token embeddings, as the reference
// builds `[PROMPT]*sp_len + tokenizer.encode(text)` and overwrites the [PROMPT] rows. The reference pads
// on the left and reads position −1; we pad on the right and read the last real token. RoPE is
// relative and pads are masked, so the two agree (to rounding: the parity test checks both against
// PyTorch).
//
// ch: logits = score(h_last), score = Linear(C, K, bias: false) initialised N(0, 0.02²); loss
//     BCE-with-logits with pos_weight, mean over B×K.
// lh: the LM head over "label; label; …" + EOS after `encode(text + " ")`; per row the mean token
//     cross-entropy over the target, weighted by the sum of the row's labels' pos_weight, summed over
//     the rows (pt_tuner.py compute_loss).
import Foundation
import Runtime

public final class PTECModel: Module {
    public let backbone: Backbone
    /// [sp_len, C] (empty for probe).
    public var softPrompt: Tensor
    /// ch: [K, C] without bias; probe: [K, C] with bias; lh: unused (the LM head decides).
    public var head: Linear
    /// Thresholds may change after training (tune-thresholds, --threshold); the rest is fixed.
    public var config: PTECConfig
    public let padId: Int
    override public var keyMap: [String: String] { ["backbone": "", "softPrompt": "soft_prompt", "head": "score"] }

    public init(backbone: Backbone, config: PTECConfig, softPrompt: Tensor, generator: RandomGenerator) {
        self.backbone = backbone
        self.config = config
        self.softPrompt = softPrompt
        let c = backbone.descriptor.hiddenSize, k = config.labels.count
        head = Linear(weight: generator.normal([k, c], std: 0.02), bias: config.head == .probe ? Tensor.zeros([k]) : nil)
        padId = backbone.descriptor.padId ?? 0
        super.init()
        backbone.freeze()
        softPrompt.requiresGrad = config.head != .probe && config.spLen > 0
        head.weight.requiresGrad = config.head != .lh
        head.bias?.requiresGrad = config.head == .probe
    }

    /// The trained tensors by their saved names.
    public var trainedTensors: [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        if config.head != .probe && config.spLen > 0 { out.append(("soft_prompt", softPrompt)) }
        if config.head != .lh { out.append(("score.weight", head.weight)) }
        if let b = head.bias, config.head == .probe { out.append(("score.bias", b)) }
        return out
    }

    /// inputs_embeds [B, T, C] and the padding mask for rows of token ids, each behind the soft prompt.
    /// Inference batches are padded to whole row panels (a record's result does not depend on its
    /// neighbours); training batches to the longest row.
    public func inputs(_ rows: [[Int]], panelAligned: Bool = true) -> (Tensor, [[Bool]]) {
        let sp = config.spLen
        let batch = TokenBatch(rows.map { [Int](repeating: padId, count: sp) + $0 }, padId: padId, panelAligned: panelAligned)
        var x = backbone.embed(batch.ids, batch: batch.batch)
        if sp > 0 {
            let c = x.shape[2]
            let prompt = softPrompt.unsqueezed(0).broadcasted(to: [batch.batch, sp, c])
            x = batch.length > sp ? concat([prompt, x.slice(axis: 1, sp, batch.length)], axis: 1) : prompt
        }
        return (x, batch.mask)
    }

    /// Final hidden states [B, T, C] with their mask.
    public func hidden(_ rows: [[Int]], panelAligned: Bool = true) -> (Tensor, [[Bool]]) {
        let (x, mask) = inputs(rows, panelAligned: panelAligned)
        return (backbone(BackboneInput(inputsEmbeds: x, padding: mask)).lastHidden, mask)
    }

    /// ch: logits [B, K] from the last real token.
    public func logits(_ rows: [[Int]], panelAligned: Bool = true) -> Tensor {
        let (h, mask) = hidden(rows, panelAligned: panelAligned)
        return head(pool(h, mask: mask, mode: .last))
    }

    /// ch: BCE with pos_weight, mean over B×K. targets: [B][K] 0/1.
    public func classificationLoss(_ rows: [[Int]], targets: [[Float]]) -> Tensor {
        let logits = self.logits(rows, panelAligned: false)
        let y = Tensor(shape: logits.shape, scalars: targets.flatMap { $0 })
        return bceWithLogits(logits, targets: y, posWeight: Tensor(shape: [config.labels.count], scalars: config.posWeight))
    }

    /// lh: Σ_rows weight_r · mean over the row's target tokens of −log p(token). Each example is a query
    /// (the text and a space) and its target (the label string's tokens and EOS).
    public func generationLoss(queries: [[Int]], targets: [[Int]], weights: [Float]) -> Tensor {
        let h = hidden(zip(queries, targets).map { $0 + $1 }, panelAligned: false).0
        let (b, t, c) = (h.shape[0], h.shape[1], h.shape[2])
        var positions: [Int] = [], tokens: [Int] = [], w: [Float] = []
        for r in 0..<b {
            let start = config.spLen + queries[r].count - 1
            for (j, token) in targets[r].enumerated() {
                positions.append(r * t + start + j)
                tokens.append(token)
                w.append(weights[r] / Float(targets[r].count))
            }
        }
        let states = h.reshaped([b * t, c]).indexSelect(axis: 0, positions)
        let ce = crossEntropy(backbone.lmLogits(states), targets: tokens, reduction: .none)
        return (ce * Tensor(shape: [w.count], scalars: w)).sum()
    }
}
