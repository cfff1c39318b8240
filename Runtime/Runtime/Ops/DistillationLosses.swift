// Knowledge-distillation losses beyond Hinton's KD (`distillationKL` in Losses.swift): DKD, decoupled
// KD (Zhao et al., CVPR 2022; mdistiller's `dkd_loss`), and ND, the norm-and-direction loss of Wang et
// al., "Improving Knowledge Distillation via Regularizing Feature Norm and Direction" (reference:
// WangYZ1608/Knowledge-Distillation-via-ND, CIFAR/utils.py `DKDLoss`, `DirectNormLoss`).
//
// Letters: B rows (samples), K classes, D embedding width, T temperature, y the target classes.
//
//   DKD: b = [p_y, Σ_{j≠y} p_j] of p = softmax(z/T) (student and teacher)
//        TCKD = T²/B · Σ_i KL(b_t,i ‖ b_s,i)
//        NCKD = T²/B · Σ_i KL(softmax(z_t/T − 1000·1_y) ‖ softmax(z_s/T − 1000·1_y))
//        DKD  = α·TCKD + β·NCKD;  KL(p_t ‖ p_s) = TCKD_raw + (1 − p_t,y)·NCKD_raw per row
//   ND:  ℓ_i = 1 − s_i·e_{y_i} / max(‖s_i‖, ‖t_i‖),  e_c = μ_c/‖μ_c‖ (teacher class means), mean over i
//
// The teacher's tensors are constants (no gradient). ND's max is Python's `max` on two norms, as the
// reference writes it: ‖s‖ when ‖s‖ ≥ ‖t‖ (ties included), so the gradient flows through ‖s‖ only then.
// The reference takes log of b_s as is: a saturated p_y (b_s = [1, 0]) gives −inf and an infinite or
// NaN loss; `logFloor` clamps b_s first (mdistiller issue #60), off by default for parity.
import Foundation

/// DKD's two parts, each already scaled by T²/B: target-class KD (TCKD) and non-target-class KD (NCKD).
/// student, teacher: [B, K] logits; targets: B class indices.
public func decoupledKDParts(student: Tensor, teacher: Tensor, targets: [Int], temperature t: Float,
                             logFloor: Float? = nil) -> (tckd: Tensor, nckd: Tensor) {
    precondition(student.rank == 2 && student.shape == teacher.shape,
                 "decoupledKD: student and teacher logits must both be [B, K], got \(student.shape) and \(teacher.shape)")
    let (b, k) = (student.shape[0], student.shape[1])
    precondition(targets.count == b && targets.allSatisfy { (0..<k).contains($0) }, "decoupledKD: \(targets.count) targets in 0..<\(k) for \(b) rows")
    let gt = Tensor.zeros([b, k])
    for (i, y) in targets.enumerated() { gt.data[i * k + y] = 1 }
    let other = 1 - gt
    let zt = teacher.detach()
    // b = [p_y, Σ others]: [B, 2]
    func binary(_ p: Tensor) -> Tensor { concat([(p * gt).sum(axis: 1, keepDims: true), (p * other).sum(axis: 1, keepDims: true)], axis: 1) }
    let bs = binary(softmax(scale(student, 1 / t), axis: 1)), bt = binary(softmax(scale(zt, 1 / t), axis: 1))
    let logBs = log(logFloor.map { clamp(bs, min: $0) } ?? bs)
    let factor = t * t / Float(b)
    let tckd = scale(klDivergence(input: logBs, target: bt, reduction: .sum), factor)
    let masked = scale(gt, 1000)
    let pt2 = softmax(scale(zt, 1 / t) - masked, axis: 1)
    let logPs2 = logSoftmax(scale(student, 1 / t) - masked, axis: 1)
    let nckd = scale(klDivergence(input: logPs2, target: pt2, reduction: .sum), factor)
    return (tckd, nckd)
}

/// DKD = α·TCKD + β·NCKD (mdistiller's defaults: α 1, β 8, T 4).
public func decoupledKD(student: Tensor, teacher: Tensor, targets: [Int], alpha: Float = 1, beta: Float = 8,
                        temperature t: Float = 4, logFloor: Float? = nil) -> Tensor {
    let (tckd, nckd) = decoupledKDParts(student: student, teacher: teacher, targets: targets, temperature: t, logFloor: logFloor)
    return scale(tckd, alpha) + scale(nckd, beta)
}

/// Unit class directions e_c = μ_c/‖μ_c‖ from class means μ: [K, D] (a zero mean stays zero).
public func classDirections(_ means: Tensor) -> Tensor {
    precondition(means.rank == 2, "classDirections: means must be [K, D], got \(means.shape)")
    let (k, d) = (means.shape[0], means.shape[1])
    let out = Tensor(uninitializedShape: [k, d])
    for c in 0..<k {
        let src = means.data + c * d, dst = out.data + c * d
        var n: Float = 0
        for j in 0..<d { n += src[j] * src[j] }
        let inv = n > 0 ? 1 / n.squareRoot() : 0
        for j in 0..<d { dst[j] = src[j] * inv }
    }
    return out
}

/// ND, the mean over rows of 1 − s_i·e_{y_i} / max(‖s_i‖, ‖t_i‖). student: [B, D] (gets the gradient),
/// teacher: [B, D] (a constant), directions: [K, D] unit class directions (`classDirections`).
/// `.none` gives the per-row terms.
public func normDirectionLoss(student s: Tensor, teacher: Tensor, directions: Tensor, targets: [Int],
                              reduction: Reduction = .mean) -> Tensor {
    precondition(s.rank == 2 && s.shape == teacher.shape, "normDirectionLoss: student and teacher embeddings must both be [B, D], got \(s.shape) and \(teacher.shape)")
    precondition(directions.rank == 2 && directions.shape[1] == s.shape[1],
                 "normDirectionLoss: directions [K, D] for embeddings of width \(s.shape[1]), got \(directions.shape)")
    let (b, k) = (s.shape[0], directions.shape[0])
    precondition(targets.count == b && targets.allSatisfy { (0..<k).contains($0) }, "normDirectionLoss: \(targets.count) targets in 0..<\(k) for \(b) rows")
    let e = directions.detach().indexSelect(axis: 0, targets)
    let dot = (s * e).sum(axis: 1)
    let squares = (s * s).sum(axis: 1)
    let t = teacher.detach()
    let tNorm = Tensor(shape: [b], scalars: (0..<b).map { i in
        var n: Float = 0
        for j in 0..<t.shape[1] { let v = t.data[i * t.shape[1] + j]; n += v * v }
        return n.squareRoot()
    })
    let useStudent = Tensor(shape: [b], scalars: (0..<b).map { i in squares.data[i].squareRoot() >= tNorm.data[i] ? 1 : 0 })
    // ‖s‖ enters the graph only where it is the max (as in the reference, where the other norm is
    // Python's pick): elsewhere the square root sees 1, so a zero row cannot send 0/0 back.
    let sNorm = sqrt(`where`(useStudent, squares, Tensor.ones([b])))
    return reduce(1 - dot / `where`(useStudent, sNorm, tNorm), reduction)
}
