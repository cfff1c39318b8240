// Scores and label sets from a trained model, the probe's training on frozen embeddings, and
// per-label thresholds tuned on dev data.
import Foundation
import Runtime

extension PTECBundle {
    /// ch: σ(logits) per label; probe: σ of the linear head on the mean-pooled states. Rows are token ids.
    public func scores(_ rows: [[Int]]) -> [[Float]] {
        withoutGrad {
            model.eval()
            let logits: Tensor
            switch config.head {
            case .ch: logits = model.logits(rows)
            case .probe: logits = model.head(features(rows))
            case .lh: preconditionFailure("lh models generate their labels (Generator)")
            }
            let p = sigmoid(logits).scalars, k = config.labels.count
            return (0..<rows.count).map { Array(p[($0 * k)..<(($0 + 1) * k)]) }
        }
    }

    /// Scores of many texts, `batch` at a time.
    public func scores(_ rows: [[Int]], batch: Int) -> [[Float]] {
        stride(from: 0, to: rows.count, by: max(batch, 1)).flatMap { scores(Array(rows[$0..<min($0 + max(batch, 1), rows.count)])) }
    }

    /// Mean-pooled final hidden states [B, C] of texts without a soft prompt (the probe's and k-NN's
    /// embeddings: the reference's generate_embeddings.py "mean_pooling").
    public func features(_ rows: [[Int]]) -> Tensor {
        withoutGrad {
            let batch = TokenBatch(rows, padId: model.padId)
            return pool(model.backbone(BackboneInput(batch)).lastHidden, mask: batch.mask, mode: .mean)
        }
    }

    /// The labels whose score passes its threshold (strictly above, as the reference's `> 0.5`).
    public func decide(_ scores: [Float]) -> [Int] {
        scores.indices.filter { Double(scores[$0]) > config.threshold(for: $0) }
    }
}

/// Feature rows in batches (the embeddings of many texts).
public func featureRows(_ bundle: PTECBundle, _ rows: [[Int]], batch: Int, progress: ((Int) -> Void)? = nil) -> [[Float]] {
    var out: [[Float]] = []
    for start in stride(from: 0, to: rows.count, by: batch) {
        let f = bundle.features(Array(rows[start..<min(start + batch, rows.count)]))
        let c = f.shape[1], s = f.scalars
        for r in 0..<f.shape[0] { out.append(Array(s[(r * c)..<((r + 1) * c)])) }
        progress?(out.count)
    }
    return out
}

public struct ProbeOptions: Sendable {
    public var epochs = 100
    public var lr: Float = 1e-3
    public var weightDecay: Float = 0
    public var batch = 128
    public var maxGradNorm: Float = 5
    public var seed: UInt64 = 42
    public init() {}
}

/// The reference's CH baseline (classification_head_model.py): Linear(C, K) with a bias on fixed
/// embeddings, torch Adam (L2 weight decay), BCE without pos_weight, batches of 128 in a fresh order
/// each epoch, gradients clipped to norm 5; the epoch with the best dev macro-F1 (σ > threshold) is
/// kept (strictly better; the last epoch when there is no dev data). Returns the dev macro-F1 per epoch.
public func fitProbe(_ head: Linear, features: [[Float]], targets: [[Float]], dev: (features: [[Float]], gold: [Set<Int>])?,
                       labels: [String], threshold: Double, options: ProbeOptions, log: (Int, Float, Double?) throws -> Void) throws -> [Double] {
    let n = features.count, c = features.first?.count ?? 0, k = labels.count
    guard n > 0 else { throw PTECError("no training examples") }
    head.weight.requiresGrad = true
    head.bias?.requiresGrad = true
    let optimizer = Adam([ParameterGroup(head.parameters(), lr: options.lr, weightDecay: options.weightDecay)])
    var best = -1.0, bestState = head.namedState().map { ($0.0, $0.1.copy()) }
    var history: [Double] = []
    let devX = dev.map { Tensor(shape: [$0.features.count, c], scalars: $0.features.flatMap { $0 }) }
    for epoch in 0..<options.epochs {
        let order = RandomGenerator(seed: options.seed, stream: 0x9_80BE_0000 | UInt64(epoch)).permutation(n)
        var total: Float = 0
        for start in stride(from: 0, to: n, by: options.batch) {
            let idx = Array(order[start..<min(start + options.batch, n)])
            let x = Tensor(shape: [idx.count, c], scalars: idx.flatMap { features[$0] })
            let y = Tensor(shape: [idx.count, k], scalars: idx.flatMap { targets[$0] })
            let (value, _) = try optimizer.update(bceWithLogits(head(x), targets: y), maxGradNorm: options.maxGradNorm)
            total += value * Float(idx.count)
        }
        var f1: Double? = nil
        if let dev, let devX {
            let p = withoutGrad { sigmoid(head(devX)).scalars }
            let predicted = (0..<dev.gold.count).map { r in Set((0..<k).filter { Double(p[r * k + $0]) > threshold }) }
            let score = MultiLabelReport(labels: labels, gold: dev.gold, predicted: predicted).macro.f1
            history.append(score)
            f1 = score
            if score > best { best = score; bestState = head.namedState().map { ($0.0, $0.1.copy()) } }
        }
        try log(epoch + 1, total / Float(n), f1)
    }
    if dev != nil { try head.load(state: Dictionary(uniqueKeysWithValues: bestState)) }
    return history
}

/// Per-label thresholds that maximise each label's F1 on dev scores: candidates 0.05, 0.10 … 0.95
/// (ties: the one nearest `fallback`); a label without a positive dev example keeps `fallback`.
public func tuneThresholds(scores: [[Float]], gold: [Set<Int>], labels: Int, fallback: Double = 0.5) -> [Double] {
    let candidates = (1...19).map { Double($0) * 0.05 }
    return (0..<labels).map { l in
        let positives = gold.filter { $0.contains(l) }.count
        guard positives > 0 else { return fallback }
        var best = (f1: -1.0, t: fallback)
        for t in candidates {
            var tp = 0, fp = 0
            for (s, g) in zip(scores, gold) where Double(s[l]) > t { if g.contains(l) { tp += 1 } else { fp += 1 } }
            let p = tp + fp == 0 ? 0 : Double(tp) / Double(tp + fp), r = Double(tp) / Double(positives)
            let f = p + r == 0 ? 0 : 2 * p * r / (p + r)
            if f > best.f1 + 1e-12 || (abs(f - best.f1) <= 1e-12 && abs(t - fallback) < abs(best.t - fallback)) { best = (f, t) }
        }
        return best.t
    }
}
