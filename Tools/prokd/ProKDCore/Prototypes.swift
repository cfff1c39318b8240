// ProKD's two prototype mechanisms [reconstruction: the paper's equations could not be read; see
// README "What is reconstructed"].
//
// Contrastive prototype alignment (teacher): class prototypes are mean features of the words of a
// class, in the source batch by gold tag and in the target batch by the teacher's own confident
// pseudo-tag; a class absent from a batch falls back to an exponential moving average of its earlier
// batch means (no gradient). Over the classes K′ that have a prototype on both sides, at least one
// of the two from this batch,
//   L_CPA = −1/|K′| Σ_k log softmax_j(cos(c_k^s, c_j^t)/τ)[k]  −  1/|K′| Σ_k log softmax_j(cos(c_k^t, c_j^s)/τ)[k],
// which pulls a class's source and target prototypes together and pushes different classes apart.
//
// Prototypical self-training (student): prototypes of the target set in the student's feature space,
// by the teacher's argmax; each word's distances to them give w_k = softmax_k(−d(h, c_k)/τ_p), the
// teacher's distribution is rectified as q_t ∝ w_class(t) · p_t, and words whose max q reaches δ′
// are trained with cross-entropy towards argmax q.
import Foundation
import Runtime

/// Mean rows of `features` [N, C] per class (`classes[i]` in 0..<k, or −1: no class): [k, C] with the
/// gradient flowing into the member rows; an absent class's row is zero (count 0).
public func classMeans(_ features: Tensor, classes: [Int], count k: Int) -> (means: Tensor, counts: [Int]) {
    let n = features.shape[0]
    precondition(classes.count == n, "classMeans: \(classes.count) classes for \(n) rows")
    var counts = [Int](repeating: 0, count: k)
    for c in classes where c >= 0 { counts[c] += 1 }
    var a = [Float](repeating: 0, count: k * n)
    for (i, c) in classes.enumerated() where c >= 0 { a[c * n + i] = 1 / Float(counts[c]) }
    return (matmul(Tensor(shape: [k, n], scalars: a), features), counts)
}

/// Rows scaled to unit length (PyTorch's cosine_similarity clamps the norm at 1e-8).
public func unitRows(_ x: Tensor) -> Tensor {
    x / clamp(sqrt(square(x).sum(axis: -1, keepDims: true)), min: 1e-8)
}

/// The symmetric InfoNCE between matched prototype rows: row k of `source` and of `target` are the
/// same class; cosine similarities over `temperature`.
public func prototypeAlignmentLoss(source: Tensor, target: Tensor, temperature: Float) -> Tensor {
    let sim = matmul(unitRows(source), unitRows(target), transposeB: true) / temperature
    let k = Array(0..<source.shape[0])
    return crossEntropy(sim, targets: k) + crossEntropy(sim.transposed(), targets: k)
}

/// A prototype per class kept as an exponential moving average of batch means:
/// c ← m·c + (1 − m)·c_batch (the first mean is taken as it is).
public struct EMAPrototypes: Sendable {
    public var values: [[Float]?]
    public let momentum: Float
    public let width: Int

    public init(classes: Int, width: Int, momentum: Float) {
        values = [[Float]?](repeating: nil, count: classes)
        (self.momentum, self.width) = (momentum, width)
    }

    public mutating func update(_ means: Tensor, counts: [Int]) {
        let m = means.scalars
        for (k, n) in counts.enumerated() where n > 0 {
            let row = Array(m[(k * width)..<((k + 1) * width)])
            values[k] = values[k].map { old in zip(old, row).map { momentum * $0 + (1 - momentum) * $1 } } ?? row
        }
    }

    /// For a checkpoint: [classes, width] (absent rows NaN).
    public var tensor: Tensor { prototypeTensor(values, width: width) }

    public mutating func load(_ t: Tensor) throws { values = try prototypeRows(t, classes: values.count, width: width) }
}

/// Prototypes (a class without one: nil) as one checkpoint tensor [classes, width], absent rows NaN.
public func prototypeTensor(_ rows: [[Float]?], width: Int) -> Tensor {
    Tensor(shape: [rows.count, width], scalars: rows.flatMap { $0 ?? [Float](repeating: .nan, count: width) })
}

/// The prototypes a `prototypeTensor` holds, checked against the expected shape.
public func prototypeRows(_ t: Tensor, classes: Int, width: Int) throws -> [[Float]?] {
    guard t.shape == [classes, width] else { throw ProKDError("prototype state of shape \(t.shape), expected [\(classes), \(width)]") }
    let s = t.scalars
    return (0..<classes).map { k in
        let row = Array(s[(k * width)..<((k + 1) * width)])
        return row.contains(where: \.isNaN) ? nil : row
    }
}

/// The alignment loss of one step: batch means where a class has words in the batch, the moving
/// average where it has none, over the classes that have a prototype on both sides (nil: fewer than
/// two such classes). Updates both moving averages with this batch's means afterwards.
public func alignmentStep(source: Tensor, sourceClasses: [Int], target: Tensor, targetClasses: [Int],
                          emaSource: inout EMAPrototypes, emaTarget: inout EMAPrototypes, temperature: Float) -> (loss: Tensor?, classes: Int) {
    let k = emaSource.values.count
    let (ms, ns) = classMeans(source, classes: sourceClasses, count: k)
    let (mt, nt) = classMeans(target, classes: targetClasses, count: k)
    func row(_ means: Tensor, _ counts: [Int], _ ema: EMAPrototypes, _ c: Int) -> Tensor? {
        if counts[c] > 0 { return means.slice(axis: 0, c, c + 1) }
        return ema.values[c].map { Tensor(shape: [1, ema.width], scalars: $0) }
    }
    var rs: [Tensor] = [], rt: [Tensor] = []
    // K′: classes with a prototype on both sides, at least one of them from this batch (a class
    // absent from both batches would only add a constant and dilute the others).
    for c in 0..<k where ns[c] > 0 || nt[c] > 0 {
        guard let a = row(ms, ns, emaSource, c), let b = row(mt, nt, emaTarget, c) else { continue }
        rs.append(a); rt.append(b)
    }
    defer {
        emaSource.update(ms.detach(), counts: ns)
        emaTarget.update(mt.detach(), counts: nt)
    }
    guard rs.count >= 2 else { return (nil, rs.count) }
    return (prototypeAlignmentLoss(source: concat(rs, axis: 0), target: concat(rt, axis: 0), temperature: temperature), rs.count)
}

/// Prototypes [classes][C] from feature rows and their classes (a class with no row: nil).
public func prototypes(features: [Float], width: Int, classes: [Int], count k: Int) -> [[Float]?] {
    var sums = [[Double]](repeating: [Double](repeating: 0, count: width), count: k), counts = [Int](repeating: 0, count: k)
    for (i, c) in classes.enumerated() where c >= 0 {
        counts[c] += 1
        for j in 0..<width { sums[c][j] += Double(features[i * width + j]) }
    }
    return (0..<k).map { c in counts[c] == 0 ? nil : sums[c].map { Float($0 / Double(counts[c])) } }
}

/// PST's rectified pseudo-labels of feature rows [N·C]: the teacher's tag distributions `teacher`
/// [N][K] weighted by the prototype assignment of each row's features (a tag's weight is its
/// prototype class's, `classOfTag`), renormalised; label = argmax, confidence = max.
public func rectifiedLabels(features: [Float], width: Int, teacher: [[Float]], prototypes: [[Float]?], classOfTag: [Int],
                            temperature: Float, distance: PrototypeDistance) -> [(label: Int, confidence: Float)] {
    func norm(_ v: ArraySlice<Float>) -> Float { max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-8) }
    let protoNorms = prototypes.map { $0.map { norm($0[...]) } }
    return teacher.enumerated().map { i, p in
        let h = features[(i * width)..<((i + 1) * width)]
        let hn = norm(h)
        // −d/τ per prototype class; an empty class gets no weight.
        let scores: [Float] = prototypes.enumerated().map { c, proto in
            guard let proto else { return -.infinity }
            var d: Float = 0
            switch distance {
            case .l2: for (a, b) in zip(h, proto) { d += (a - b) * (a - b) }
            case .cosine:
                var dot: Float = 0
                for (a, b) in zip(h, proto) { dot += a * b }
                d = 1 - dot / (hn * protoNorms[c]!)
            }
            return -d / temperature
        }
        let top = scores.max() ?? 0
        let e = scores.map { $0 == -.infinity ? 0 : Foundation.exp($0 - top) }
        let z = e.reduce(0, +)
        var q = p.enumerated().map { t, pt in pt * e[classOfTag[t]] / z }
        let s = q.reduce(0, +)
        if s > 0 { q = q.map { $0 / s } } else { q = p }
        let best = argmaxIndex(q)
        return (best, q[best])
    }
}
