// Losses, with PyTorch's definitions and defaults (reduction "mean" unless said otherwise):
// cross-entropy (ignore index, label smoothing, class weights), BCE with logits (pos_weight),
// KL divergence (and the distillation form with a temperature), MSE, L1, cosine similarity.
import Foundation

public enum Reduction: String, Sendable { case mean, sum, none }

func reduce(_ t: Tensor, _ r: Reduction) -> Tensor {
    switch r { case .mean: return t.mean(); case .sum: return t.sum(); case .none: return t }
}

/// Cross-entropy of logits [N, C] against class indices [N], as torch.nn.functional.cross_entropy:
/// - `ignoreIndex`: targets equal to it contribute nothing and are left out of the mean;
/// - `weights` [C]: per-class weights; the mean divides by the sum of the targets' weights;
/// - `labelSmoothing` ε: the target is (1-ε) one-hot + ε/C uniform (the uniform part weighted by
///   the class weights too, as PyTorch).
public func crossEntropy(_ logits: Tensor, targets: [Int], weights: Tensor? = nil, ignoreIndex: Int = -100,
                         labelSmoothing: Float = 0, reduction: Reduction = .mean) -> Tensor {
    precondition(logits.rank == 2, "crossEntropy: logits must be [N, C], got \(logits.shape)")
    let n = logits.shape[0], c = logits.shape[1]
    precondition(targets.count == n, "crossEntropy: \(targets.count) targets for \(n) rows")
    if let weights { precondition(weights.shape == [c], "crossEntropy: weights \(weights.shape) for \(c) classes") }
    for t in targets where t != ignoreIndex {
        precondition(t >= 0 && t < c, "crossEntropy: target \(t) out of range 0..<\(c)")
    }
    let logp = logSoftmax(logits, axis: 1)
    // Per-row target distribution q (smoothed one-hot, times class weights): loss_i = -Σ_c q_ic logp_ic.
    let q = Tensor.zeros([n, c])
    var denominator: Float = 0
    let w = weights?.data
    for i in 0..<n where targets[i] != ignoreIndex {
        let t = targets[i], row = q.data + i * c
        if labelSmoothing > 0 {
            for j in 0..<c { row[j] = labelSmoothing / Float(c) * (w?[j] ?? 1) }
        }
        row[t] += (1 - labelSmoothing) * (w?[t] ?? 1)
        denominator += w?[t] ?? 1
    }
    let perRow = neg((logp * q).sum(axis: 1))
    switch reduction {
    case .none: return perRow
    case .sum: return perRow.sum()
    case .mean: return scale(perRow.sum(), denominator > 0 ? 1 / denominator : .nan)
    }
}

/// Binary cross-entropy on logits, stable: ℓ = -[p·y·log σ(x) + (1-y)·log(1-σ(x))], p = posWeight
/// (broadcast over the last axis, one per label), as torch's BCEWithLogitsLoss. Targets may be soft.
public func bceWithLogits(_ logits: Tensor, targets: Tensor, posWeight: Tensor? = nil,
                          weight: Tensor? = nil, reduction: Reduction = .mean) -> Tensor {
    precondition(logits.shape == targets.shape, "bceWithLogits: logits \(logits.shape) vs targets \(targets.shape)")
    // log σ(x) = -softplus(-x); log(1 - σ(x)) = -softplus(x)
    let spNeg = softplus(neg(logits)), spPos = softplus(logits)
    var pos = targets * spNeg
    if let posWeight { pos = pos * posWeight }
    var loss = pos + (1 - targets) * spPos
    if let weight { loss = loss * weight }
    return reduce(loss, reduction)
}

/// log(1 + exp(x)), stable.
public func softplus(_ x: Tensor) -> Tensor {
    let out = mapKernel(x) { v in Swift.max(v, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(v))) }
    propagate(out, [x]) { mul(x.tangent!, sigmoid(x.detach())) }
    return record(out, "softplus", [x]) { g in [mul(g, sigmoid(x))] }
}

/// torch.nn.functional.kl_div: `input` holds log-probabilities, `target` probabilities (or
/// log-probabilities with `logTarget`); pointwise target·(log target − input), 0 where target is 0.
/// Reduction `.batchMean` divides the sum by the leading dimension (the mathematically right one).
public enum KLReduction: Sendable { case batchMean, mean, sum, none }

public func klDivergence(input: Tensor, target: Tensor, logTarget: Bool = false,
                         reduction: KLReduction = .batchMean) -> Tensor {
    precondition(input.shape == target.shape, "klDivergence: input \(input.shape) vs target \(target.shape)")
    let point = logTarget ? exp(target) * (target - input) : xlogx(target) - target * input
    return klReduce(point, reduction, input.shape)
}

/// x·log x with 0·log 0 = 0; gradient log x + 1.
public func xlogx(_ x: Tensor) -> Tensor {
    let out = mapKernel(x) { $0 > 0 ? $0 * Foundation.log($0) : 0 }
    propagate(out, [x]) { mul(x.tangent!, mapKernel(x) { $0 > 0 ? Foundation.log($0) + 1 : 0 }) }
    return record(out, "xlogx", [x]) { g in [mul(g, mapKernel(x) { $0 > 0 ? Foundation.log($0) + 1 : 0 })] }
}

private func klReduce(_ t: Tensor, _ r: KLReduction, _ shape: [Int]) -> Tensor {
    switch r {
    case .batchMean: return scale(t.sum(), 1 / Float(Swift.max(shape.first ?? 1, 1)))
    case .mean: return t.mean()
    case .sum: return t.sum()
    case .none: return t
    }
}

/// Distillation loss of Hinton et al.: T² · KL(softmax(teacher/T) ‖ softmax(student/T)), batch mean.
/// logits: [N, C]; the teacher gets no gradient.
public func distillationKL(student: Tensor, teacher: Tensor, temperature t: Float = 1) -> Tensor {
    let logQ = logSoftmax(scale(student, 1 / t), axis: -1)
    let logP = logSoftmax(scale(teacher.detach(), 1 / t), axis: -1)
    return scale(klDivergence(input: logQ, target: logP, logTarget: true), t * t)
}

public func mseLoss(_ x: Tensor, _ y: Tensor, reduction: Reduction = .mean) -> Tensor {
    reduce(square(x - y), reduction)
}

public func l1Loss(_ x: Tensor, _ y: Tensor, reduction: Reduction = .mean) -> Tensor {
    reduce(abs(x - y), reduction)
}

/// Cosine similarity along `axis`: x·y / (max(‖x‖, ε) · max(‖y‖, ε)), as current PyTorch.
/// The clamp is applied to ‖x‖² (at ε²) before the square root: the same value, but a zero vector
/// (padding) gets a finite gradient, as in PyTorch, instead of 0/0 from the square root's backward.
public func cosineSimilarity(_ x: Tensor, _ y: Tensor, axis: Int = -1, eps: Float = 1e-8) -> Tensor {
    let dot = (x * y).sum(axis: axis)
    let nx = sqrt(clamp((x * x).sum(axis: axis), min: eps * eps))
    let ny = sqrt(clamp((y * y).sum(axis: axis), min: eps * eps))
    return dot / (nx * ny)
}

/// 1 - cos(x, y), averaged: a loss that pulls embeddings together.
public func cosineLoss(_ x: Tensor, _ y: Tensor, axis: Int = -1, reduction: Reduction = .mean) -> Tensor {
    reduce(1 - cosineSimilarity(x, y, axis: axis), reduction)
}

/// Focal loss on logits (Lin et al., RetinaNet), elementwise, as GLiNER's and GLiClass's
/// focal_loss_with_logits: ℓ = BCE(x, y) · (1 − p_t)^γ (when γ > 0) · (α y + (1 − α)(1 − y)) (when
/// α ≥ 0), with p = σ(x) and p_t = p y + (1 − p)(1 − y). Targets may be soft. No reduction.
public func focalLossWithLogits(_ logits: Tensor, targets: Tensor, alpha: Float, gamma: Float) -> Tensor {
    var loss = bceWithLogits(logits, targets: targets, reduction: .none)
    if gamma > 0 {
        let p = sigmoid(logits)
        let pt = p * targets + (1 - p) * (1 - targets)
        loss = loss * pow(clamp(1 - pt, min: 0), gamma)
    }
    if alpha >= 0 { loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss }
    return loss
}
