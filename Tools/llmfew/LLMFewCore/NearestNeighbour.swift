// The classic baselines of multivariate time-series classification (Bagnall et al., the UEA archive
// papers): 1-nearest-neighbour with the Euclidean distance (series zero-padded to a common length, as
// the model sees them) and with dynamic time warping, dependent form (DTW_D: the cost of matching step
// i with step j is the squared Euclidean distance between the two M-channel vectors), full window,
// unequal lengths allowed. Ties go to the first training series.

public enum NNDistance: String, Sendable, CaseIterable { case euclidean, dtw }

/// Squared Euclidean distance between two series, each zero-padded to the longer length.
public func euclideanSquared(_ a: Series, _ b: Series) -> Double {
    let l = max(a.length, b.length)
    var d = 0.0
    for c in 0..<min(a.dimensions, b.dimensions) {
        let x = a.channels[c], y = b.channels[c]
        for t in 0..<l {
            let u = Double(t < x.count ? x[t] : 0) - Double(t < y.count ? y[t] : 0)
            d += u * u
        }
    }
    return d
}

/// Dependent DTW (squared costs), full window; `bound`: give up (return +∞) once a whole row exceeds it.
public func dtwDependent(_ a: Series, _ b: Series, bound: Double = .infinity) -> Double {
    let n = a.length, m = b.length, dims = min(a.dimensions, b.dimensions)
    var prev = [Double](repeating: .infinity, count: m + 1), cur = prev
    prev[0] = 0
    for i in 1...n {
        cur[0] = .infinity
        var rowMin = Double.infinity
        for j in 1...m {
            var cost = 0.0
            for c in 0..<dims {
                let u = Double(a.channels[c][i - 1]) - Double(b.channels[c][j - 1])
                cost += u * u
            }
            let v = cost + min(prev[j - 1], prev[j], cur[j - 1])
            cur[j] = v
            rowMin = min(rowMin, v)
        }
        if rowMin > bound { return .infinity }
        swap(&prev, &cur)
    }
    return prev[m]
}

/// The label of each query's nearest training series.
public func nearestNeighbourLabels(train: [Series], queries: [Series], distance: NNDistance) -> [String] {
    queries.map { q in
        var best = Double.infinity, label = train.first?.label ?? ""
        for t in train {
            let d = distance == .euclidean ? euclideanSquared(q, t) : dtwDependent(q, t, bound: best)
            if d < best { (best, label) = (d, t.label ?? "") }
        }
        return label
    }
}
