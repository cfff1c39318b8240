// What GLiClass reads out of the encoder's token states (the reference's model.py
// _extract_class_features and its poolers, poolings.py), as selection weights over positions so each
// read-out is one batched product and differentiable.
//
//   class features, "first":   C[b,k] = H[b, s_k]  (s_k: the k-th <<LABEL>>, or the token after it)
//   class features, "average": C[b,k] = mean of H[b,s] over the k-th label's span
//   text tokens:               all tokens, or (extract_text_features) those from the first <<SEP>> on
//   text pooling:              first, last, avg, max, sum, rms, abs_max, abs_avg over the text tokens
//
// Where this port differs (the reference's behaviour with `reference`): the poolers see only real
// text tokens (the reference pools over the padding and the label tokens too, so a text's score
// changes with its batch), `last` is the last real token (the reference takes position S − 1, a pad in
// padded rows), and an averaged label span ends at <<SEP>> (the reference runs the last label's span to
// the end of the sequence unless extract_text_features is set).
import Runtime

/// Where the special tokens sit in one batch of ids.
struct TokenLayout {
    let batch: Int, length: Int
    /// [B][S]: real tokens.
    let real: [[Bool]]
    /// Per row: positions of <<LABEL>>, the first <<SEP>> and the first <<EXAMPLE>>.
    let labels: [[Int]]
    let firstSeparator: [Int?]
    let firstExample: [Int?]
    /// The longest row (the reference pads to it).
    let longest: Int

    init(_ tokens: TokenBatch, config c: GLiClassConfig) {
        batch = tokens.batch
        length = tokens.length
        real = tokens.mask
        longest = tokens.lengths.max() ?? 0
        var labels: [[Int]] = [], seps: [Int?] = [], examples: [Int?] = []
        for b in 0..<tokens.batch {
            let row = tokens.ids[(b * tokens.length)..<((b + 1) * tokens.length)]
            var l: [Int] = [], sep: Int? = nil, ex: Int? = nil
            for (s, id) in row.enumerated() where tokens.mask[b][s] {
                if id == c.classTokenIndex { l.append(s) }
                if id == c.textTokenIndex && sep == nil { sep = s }
                if id == c.exampleTokenIndex && ex == nil { ex = s }
            }
            labels.append(l)
            seps.append(sep)
            examples.append(ex)
        }
        self.labels = labels
        firstSeparator = seps
        firstExample = examples
    }

    /// [B][K]: the slots that hold a label.
    func labelMask(slots k: Int) -> [[Bool]] { labels.map { l in (0..<k).map { $0 < l.count } } }

    /// Segment ids (use_segment_embeddings): 0 for the labels, 1 from the first <<SEP>>, 2 from the first
    /// <<EXAMPLE>>. `reference`: the reference's argmin, which makes every position of a row with
    /// examples segment 2.
    func segments(reference: Bool) -> [Int] {
        var out = [Int](repeating: 0, count: batch * length)
        for b in 0..<batch {
            let sep = firstSeparator[b] ?? 0   // argmax of an all-zero row is 0
            let from2 = firstExample[b].map { reference ? 0 : $0 }
            for s in 0..<length {
                if let e = from2, s >= e { out[b * length + s] = 2 } else if s >= sep { out[b * length + s] = 1 }
            }
        }
        return out
    }
}

/// Selection weights [B, K, S] → with states H [B, S, D], C = W H [B, K, D].
func classWeights(_ layout: TokenLayout, slots k: Int, config c: GLiClassConfig, reference: Bool) -> Tensor {
    let (b, s) = (layout.batch, layout.length)
    var w = [Float](repeating: 0, count: b * k * s)
    for r in 0..<b {
        let positions = layout.labels[r]
        for (j, p) in positions.prefix(k).enumerated() {
            let base = (r * k + j) * s
            if c.classTokenPooling == .first {
                let q = c.embedClassToken ? p : p + 1
                if q < s { w[base + q] = 1 }
                continue
            }
            // The span of label j: from its marker to the next marker; the reference ends the last span
            // at the first <<SEP>> only with extract_text_features.
            let next = j + 1 < positions.count ? positions[j + 1] : nil
            let boundary = (reference && !c.extractTextFeatures) ? nil : layout.firstSeparator[r]
            let stop = [next, boundary.flatMap { $0 > p ? $0 : nil }].compactMap { $0 }.min() ?? s
            var members = 0
            for q in p..<stop where layout.real[r][q] && (c.embedClassToken || q != p) {
                if let sep = layout.firstSeparator[r], boundary != nil, q >= sep { break }
                w[base + q] = 1
                members += 1
            }
            if members > 1 { for q in p..<stop { w[base + q] /= Float(members) } }
        }
    }
    return Tensor(shape: [b, k, s], scalars: w)
}

/// The text tokens: states [B, S', D] and their mask [B][S'].
func textTokens(_ h: Tensor, _ layout: TokenLayout, config c: GLiClassConfig) -> (Tensor, [[Bool]]) {
    guard c.extractTextFeatures else { return (h, layout.real) }
    let (b, s, d) = (h.shape[0], h.shape[1], h.shape[2])
    var idx = [Int](repeating: 0, count: b * s * d)
    var mask = [[Bool]](repeating: [Bool](repeating: false, count: s), count: b)
    var keep = [Float](repeating: 0, count: b * s)
    for r in 0..<b {
        let start = layout.firstSeparator[r] ?? 0
        for j in 0..<s {
            let src = Swift.min(start + j, s - 1)
            for e in 0..<d { idx[(r * s + j) * d + e] = src }
            if start + j < layout.longest {  // the reference's rows end at the longest
                keep[r * s + j] = 1
                mask[r][j] = layout.real[r][src]
            }
        }
    }
    let gathered = h.gather(axis: 1, indices: idx, indexShape: [b, s, d])
    return (gathered * Tensor(shape: [b, s, 1], scalars: keep), mask)
}

/// Which text tokens the pooler reads: real ones outside the label block (this port), or every
/// position up to the batch's longest row (the reference).
func poolingMask(_ textMask: [[Bool]], _ layout: TokenLayout, config c: GLiClassConfig, reference: Bool) -> [[Bool]] {
    if reference { return textMask.map { row in row.indices.map { $0 < layout.longest } } }
    guard !c.extractTextFeatures else { return textMask }
    return textMask.enumerated().map { r, row in
        guard let first = layout.labels[r].first, let sep = layout.firstSeparator[r], sep > first else { return row }
        return row.indices.map { row[$0] && !($0 >= first && $0 <= sep) }
    }
}

/// Pools token states x [B, S, D] over `mask` [B][S] → [B, D] (or x itself for pass).
func poolText(_ x: Tensor, mask: [[Bool]], strategy: TextPooling) -> Tensor {
    let (b, s, d) = (x.shape[0], x.shape[1], x.shape[2])
    let m = Tensor(shape: [b, s, 1], scalars: mask.flatMap { row in row.map { $0 ? Float(1) : 0 } })
    let count = clamp(m.sum(axis: 1), min: 1)                         // [B, 1]
    func select(_ positions: [Int]) -> Tensor {
        x.gather(axis: 1, indices: positions.flatMap { [Int](repeating: $0, count: d) }, indexShape: [b, 1, d]).reshaped([b, d])
    }
    switch strategy {
    case .pass: return x
    case .first: return select([Int](repeating: 0, count: b))
    case .last: return select(mask.map { $0.lastIndex(of: true) ?? 0 })
    case .avg: return (x * m).sum(axis: 1) / count
    case .sum: return (x * m).sum(axis: 1)
    case .rms: return sqrt(square(x * m).sum(axis: 1) / count)
    case .absAvg: return abs(x * m).sum(axis: 1) / count
    case .max: return x.maskedFill(1 - m, -Float.infinity).max(axis: 1)
    case .absMax: return abs(x * m).max(axis: 1)
    }
}
