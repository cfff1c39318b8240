// Evaluation of a trained classifier: top-1 and top-5 accuracy, mean cross-entropy, and against a
// teacher the feature statistics the paper discusses: the mean of ‖s‖/‖t‖ and of cos(s, e_y), s the
// student's embedding (through its ND projector when it has one), t the teacher's, e_y the teacher's
// class direction. Also the class means a teacher writes, and probabilities for `predict`.
import Foundation
import Runtime

public struct EvalReport: Sendable {
    public var count = 0
    public var top1 = 0.0, top5 = 0.0, loss = 0.0
    public var normRatio: Double? = nil, cosine: Double? = nil
}

/// Embeddings and logits of `indices`, eval mode, no gradient, in batches.
func embedAll(_ net: ImageClassifier, _ set: ImageSet, mean: [Float], std: [Float], batch: Int,
              views: ((Int) -> View)? = nil, padding: Int = 0,
              _ body: ([Int], Tensor, Tensor) -> Void) {
    net.eval()
    withoutGrad {
        for start in stride(from: 0, to: set.count, by: batch) {
            let idx = Array(start..<min(start + batch, set.count))
            let x = makeBatch(set, idx, views: views.map { v in idx.map(v) }, padding: padding, mean: mean, std: std)
            let (e, z) = net.forward(x)
            body(idx, e, z)
        }
    }
}

/// The teacher's embeddings of `set` [N, D] (for `evaluate`'s statistics; a fixed set's can be kept).
public func teacherEmbeddings(_ teacher: NDModel, _ set: ImageSet, batch: Int = 256) -> Tensor {
    guard set.count > 0 else { return Tensor.zeros([0, teacher.config.arch.embeddingWidth]) }
    var parts: [Tensor] = []
    embedAll(teacher.net, set, mean: teacher.config.mean, std: teacher.config.std, batch: batch) { _, e, _ in parts.append(e) }
    return concat(parts, axis: 0)
}

public func evaluate(_ model: NDModel, _ set: ImageSet, batch: Int = 256, teacher: NDModel? = nil, projector: Projector? = nil,
                     teacherEmbeddings known: Tensor? = nil) -> EvalReport {
    var r = EvalReport()
    let c = model.config
    let tEmb = known ?? teacher.map { teacherEmbeddings($0, set, batch: batch) }
    let directions = teacher?.classMeans.map(classDirections)
    projector?.eval()
    var ratio = 0.0, cos = 0.0, statsOK = tEmb != nil
    embedAll(model.net, set, mean: c.mean, std: c.std, batch: batch) { idx, e, z in
        let y = idx.map { set.labels[$0] }
        r.loss += Double(crossEntropy(z, targets: y, reduction: .sum).item())
        let k = z.shape[1]
        for (b, label) in y.enumerated() {
            let row = UnsafeBufferPointer(start: z.data + b * k, count: k)
            guard row.allSatisfy(\.isFinite) else { continue }
            let rank = (0..<k).filter { row[$0] > row[label] || (row[$0] == row[label] && $0 < label) }.count
            if rank == 0 { r.top1 += 1 }
            if rank < 5 { r.top5 += 1 }
        }
        guard let tEmb, statsOK else { return }
        let s = projector.map { p in withoutGrad { p(e) } } ?? e
        guard s.shape[1] == tEmb.shape[1] else { statsOK = false; return }
        let d = s.shape[1]
        for (b, i) in idx.enumerated() {
            var sn = 0.0, tn = 0.0, dot = 0.0, en = 0.0
            for j in 0..<d {
                let sv = Double(s.data[b * d + j]), tv = Double(tEmb.data[i * d + j])
                sn += sv * sv; tn += tv * tv
                if let directions { let ev = Double(directions.data[y[b] * d + j]); dot += sv * ev; en += ev * ev }
            }
            ratio += sn.squareRoot() / max(tn.squareRoot(), 1e-12)
            if directions != nil { cos += dot / max(sn.squareRoot() * en.squareRoot(), 1e-12) }
        }
    }
    r.count = set.count
    let n = Double(max(set.count, 1))
    (r.top1, r.top5, r.loss) = (r.top1 / n, r.top5 / n, r.loss / n)
    if statsOK && tEmb != nil {
        r.normRatio = ratio / n
        if directions != nil { r.cosine = cos / n }
    }
    return r
}

/// Class-mean embeddings [K, D] of a teacher over `set`, eval mode, summed in double precision. The
/// reference's own (emb_fea_distribution.py) sees each image through the training augmentation and
/// rounds to 4 decimals: `reference` reproduces that (one draw per image, seed `seed`).
public func classMeans(_ model: NDModel, _ set: ImageSet, batch: Int = 256, reference: Augmentation? = nil, seed: UInt64 = 0) -> Tensor {
    let (k, d) = (model.config.classes, model.config.arch.embeddingWidth)
    var sums = [Double](repeating: 0, count: k * d), counts = [Int](repeating: 0, count: k)
    let views = reference.map { a in { (i: Int) in a.draw(seed: seed, epoch: 0, index: i) } }
    embedAll(model.net, set, mean: model.config.mean, std: model.config.std, batch: batch, views: views, padding: reference?.padding ?? 0) { idx, e, _ in
        for (b, i) in idx.enumerated() {
            let y = set.labels[i]
            counts[y] += 1
            for j in 0..<d { sums[y * d + j] += Double(e.data[b * d + j]) }
        }
    }
    let out = Tensor.zeros([k, d])
    for c in 0..<k where counts[c] > 0 {
        for j in 0..<d {
            let v = sums[c * d + j] / Double(counts[c])
            out.data[c * d + j] = Float(reference != nil ? (v * 1e4).rounded() / 1e4 : v)
        }
    }
    return out
}

/// Softmax probabilities [B, K] of normalized images x: [B, C, H, W].
public func probabilities(_ model: NDModel, _ x: Tensor) -> Tensor {
    model.net.eval()
    return withoutGrad { softmax(model.net.forward(x).logits, axis: 1) }
}
