// Training through Loki's prediction rule (Roberts et al., "Geometry-Aware Adaptation for Pretrained
// Models", NeurIPS 2023; reference: SprocketLab/loki simclr_exps/loki.py `loki_exact_predict` and
// models.py `SingleLayerLokiModel.forward_loki`).
//
// Loki predicts the Fréchet mean argmin_y Σ_i p_i d²(λ_i, y) of the model's probabilities p over the
// K observed classes λ_i, for y in a label space of N classes. Its score for class y is the negative
// Fréchet variance s_y = −Σ_i p_i d²(λ_i, y), so s = −softmax(z)·D² with D² [K, N] the squared
// distances from the observed classes to every class; the reference trains with cross-entropy on s
// as logits:
//
//   z: [B, K] model logits → p = softmax(z): [B, K] → s = −p·D²: [B, N] → CE(s, y), y in 0..<N
//
// Both pieces are compositions of recorded ops (softmax, matmul, neg, crossEntropy), so the backward
// pass comes from theirs: ∂s/∂p = −D²ᵀ, then softmax's Jacobian. D² is a constant (no gradient).
import Foundation

/// Loki's scores s = −softmax(logits)·D²: logits [B, K] over the observed classes, squaredDistances
/// [K, N] (row i: d²(λ_i, y) for every class y) → [B, N]. The largest score is Loki's prediction.
public func lokiLogits(_ logits: Tensor, squaredDistances: Tensor) -> Tensor {
    precondition(logits.rank == 2 && squaredDistances.rank == 2 && logits.shape[1] == squaredDistances.shape[0],
                 "lokiLogits: logits [B, K] and squared distances [K, N], got \(logits.shape) and \(squaredDistances.shape)")
    return neg(matmul(softmax(logits, axis: 1), squaredDistances.detach()))
}

/// Cross-entropy of Loki's scores against class indices in the full label space (0..<N): the
/// reference's `CrossEntropyLoss()(-softmax(z) @ D**2, y)`. `reduction` as in `crossEntropy`.
public func lokiLoss(_ logits: Tensor, squaredDistances: Tensor, targets: [Int],
                     reduction: Reduction = .mean) -> Tensor {
    crossEntropy(lokiLogits(logits, squaredDistances: squaredDistances), targets: targets, reduction: reduction)
}
