// GLiClass's losses (the reference's get_loss, gliclass 0.1.21, and loss_functions.py):
//
//   multi-label:   focal BCE per (text, label) (plain BCE with α = γ = −1), summed over the real label
//                  slots and divided by their number ("sum" reduction: not divided)
//   single-label:  cross-entropy over each text's own labels (padded slots take no part; the reference's
//                  version reshapes the logits with num_labels = −1 and fails on every batch)
//   soft targets:  either form takes targets in [0, 1] (a {label: weight} record)
//   contrastive:   + coef · CE of each label vector against the others by cosine (its own index the target)
import Runtime

/// Per record, one target per label in the record's order (1/0, or soft weights).
public struct Targets {
    public var values: [[Float]]
    public init(_ values: [[Float]]) { self.values = values }
}

extension GLiClassModel {
    func loss(_ o: GLiClassOutput, _ targets: Targets) -> Tensor {
        let c = config
        let (b, k) = (o.logits.shape[0], o.logits.shape[1])
        // invariant: the callers build one target row per record of the batch they score
        precondition(targets.values.count == b, "GLiClass loss: \(targets.values.count) target rows for \(b) records")
        var y = [Float](repeating: 0, count: b * k), valid = [Float](repeating: 0, count: b * k)
        for r in 0..<b {
            for (j, v) in targets.values[r].prefix(k).enumerated() where o.labelMask[r][j] && v != Float(c.ignoreIndex) {
                y[r * k + j] = v
                valid[r * k + j] = 1
            }
        }
        let targetsT = Tensor(shape: [b, k], scalars: y), validT = Tensor(shape: [b, k], scalars: valid)
        var loss: Tensor
        switch c.problemType {
        case .multiLabel:
            let all = focalLossWithLogits(o.logits, targets: targetsT, alpha: c.focalLossAlpha, gamma: c.focalLossGamma) * validT
            let n = valid.reduce(0, +)
            loss = c.focalLossReduction == "sum" ? all.sum() : all.sum() / Swift.max(n, 1)
        case .singleLabel:
            // Padded slots at −1e9, not −∞: a row without a single real slot (all labels truncated away)
            // then gives a zero loss and zero gradients instead of NaN ones.
            let logp = logSoftmax(o.logits.maskedFill(1 - validT, -1e9), axis: 1).maskedFill(1 - validT, 0)
            loss = neg((logp * targetsT).sum(axis: 1)).mean()
        }
        if c.contrastiveLossCoef > 0 { loss = loss + c.contrastiveLossCoef * contrastive(o.classes, o.labelMask) }
        return loss
    }

    /// sequence_contrastive_loss: label vectors L2-normalized, S = C Cᵀ (no temperature), CE(S[b,i,:], i)
    /// averaged over real slots. Padded slots are left out of the softmax (the reference keeps them).
    func contrastive(_ classes: Tensor, _ mask: [[Bool]]) -> Tensor {
        let (b, k) = (classes.shape[0], classes.shape[1])
        let n = l2Normalize(classes)
        var sim = matmul(n, n, transposeB: true)                                    // [B, K, K]
        let real = Tensor(shape: [b, k], scalars: mask.flatMap { $0.map { $0 ? Float(1) : 0 } })
        if !quirks.pooling { sim = sim.maskedFill((1 - real).reshaped([b, 1, k]).broadcasted(to: [b, k, k]), -Float.infinity) }
        let logp = logSoftmax(sim, axis: 2)
        let eye = Tensor(shape: [1, k, k], scalars: (0..<(k * k)).map { $0 / k == $0 % k ? 1 : 0 })
        let perSlot = neg((logp.maskedFill((1 - real).reshaped([b, k, 1]).broadcasted(to: [b, k, k]), 0) * eye).sum(axis: 2))   // [B, K]
        return (perSlot * real).sum() / Swift.max(real.sum().item(), 1)
    }
}
