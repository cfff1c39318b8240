// LaBo's concept selection (select_algo.py), computed in Double:
//   clip score  S[c, y] = mean over the training images x of class y of E[c]·I[x]   (raw dot products)
//   MI score    P[c, y] = S[c, y] / (K Σ_c' S[c', y]);  Pc = Σ_y P[c, y];
//               mi[c] = Σ_y P[c, y] log(P[c, y] / (Pc[c] / K))   ( = Pc·(log K − H(Y|c)) )
// which needs S > 0 (raw CLIP dot products are; cosine scores of another encoder need a transform).
// Per class, k of its own candidates are chosen by
//   mi          the k highest MI scores (group_mi_select; ties to the earlier concept)
//   submodular  greedy maximization of w·Σ_S m_c + β·coverage, m = mi·w0, w = 1 (0 when w0 = 0):
//               code mode, as the reference's apricot call really computes: coverage = Σ_j max(0, max_S A[c, j])
//               over the columns of A = [m | E] (the MI column included); paper mode, the paper's facility
//               location: Σ_{c1 ∈ V} max_{c ∈ S} cos²(E[c1], E[c])
//               (each step takes the largest gain, ties to the earlier concept)
//   random      k at random (seeded).
// A class with at most k candidates keeps all of them, in bank order.
import Foundation
import Runtime

public enum SelectionMethod: String, Sendable, CaseIterable { case submodular, mi, random }
public enum CoverageMode: String, Sendable, CaseIterable { case code, paper }
public enum ScoreTransform: String, Sendable, CaseIterable { case none, shift, exp }

public struct SelectionOptions: Sendable {
    public var perClass = 50
    public var method: SelectionMethod = .submodular
    public var coverage: CoverageMode = .code
    public var w0: Double = 1e7
    public var beta: Double = 1
    public var transform: ScoreTransform = .none
    public var temperature: Double = 0.07
    public var seed: UInt64 = 1
    public init() {}
}

/// S [N][K]: the mean dot product of each concept with each class's images.
public func clipScores(concepts e: [[Float]], images: [[Float]], labels: [Int], classes k: Int) -> [[Double]] {
    var sums = [[Double]](repeating: [Double](repeating: 0, count: e.first?.count ?? 0), count: k), counts = [Int](repeating: 0, count: k)
    for (x, y) in zip(images, labels) {
        counts[y] += 1
        for j in x.indices { sums[y][j] += Double(x[j]) }
    }
    return e.map { c in
        (0..<k).map { y in
            guard counts[y] > 0 else { return 0 }
            var d = 0.0
            for j in c.indices { d += Double(c[j]) * sums[y][j] }
            return d / Double(counts[y])
        }
    }
}

/// The MI score of each concept from S [N][K] (every entry must be positive).
public func miScores(_ s: [[Double]]) throws -> [Double] {
    guard let k = s.first?.count, k > 0 else { return [] }
    if let bad = s.joined().first(where: { !$0.isFinite && !$0.isNaN }) {
        throw LaboError("a concept–class score is \(bad): lower --temperature's effect (a larger τ) or use another --score-transform")
    }
    if let bad = s.joined().first(where: { !($0 > 0) }) {
        throw LaboError("a concept–class score is \(bad) ≤ 0: the MI score takes logs of them (raw CLIP dot products are positive; for other features give --score-transform exp or shift)")
    }
    let colSums = (0..<k).map { y in s.reduce(0) { $0 + $1[y] } }
    let mi = s.map { row in
        let p = (0..<k).map { row[$0] / (Double(k) * colSums[$0]) }
        let pc = p.reduce(0, +)
        return (0..<k).reduce(0) { $0 + p[$1] * log(p[$1] / (pc / Double(k))) }
    }
    guard mi.allSatisfy(\.isFinite) else { throw LaboError("the MI scores are not finite (scores too large or too small for Double)") }
    return mi
}

/// S transformed for the MI score: shift (S + 1)/2 (cosines to (0, 1]), exp exp(S/τ).
public func transformScores(_ s: [[Double]], _ t: ScoreTransform, temperature: Double) -> [[Double]] {
    switch t {
    case .none: return s
    case .shift: return s.map { $0.map { ($0 + 1) / 2 } }
    case .exp: return s.map { $0.map { Foundation.exp($0 / temperature) } }
    }
}

/// Greedy ranking of `k` of the candidates `v` (indices into `mi` and `e`).
public func submodularRanking(_ v: [Int], mi: [Double], e: [[Float]], k: Int, options o: SelectionOptions) -> [Int] {
    let n = v.count, take = min(k, n)
    let m = v.map { mi[$0] * o.w0 }
    let w = o.w0 == 0 ? 0.0 : 1.0
    var chosen = [Bool](repeating: false, count: n), ranking: [Int] = []
    switch o.coverage {
    case .code:
        let a = (0..<n).map { i in [m[i]] + e[v[i]].map(Double.init) }
        var cur = [Double](repeating: 0, count: a.first?.count ?? 0)
        for _ in 0..<take {
            var best = -1, bestGain = -Double.infinity
            for i in 0..<n where !chosen[i] {
                var cover = 0.0
                for j in cur.indices { cover += max(a[i][j], cur[j]) - cur[j] }
                let g = w * m[i] + o.beta * cover
                if g > bestGain { (best, bestGain) = (i, g) }
            }
            guard best >= 0 else { break }  // non-finite gains (checked upstream)
            chosen[best] = true
            ranking.append(v[best])
            for j in cur.indices { cur[j] = max(cur[j], a[best][j]) }
        }
    case .paper:
        let unit = v.map { c -> [Double] in
            let x = e[c].map(Double.init), norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? x.map { $0 / norm } : x
        }
        let simTable = (0..<n).map { i in (0..<n).map { j -> Double in let c = zip(unit[i], unit[j]).reduce(0) { $0 + $1.0 * $1.1 }; return c * c } }
        func sim(_ i: Int, _ j: Int) -> Double { simTable[i][j] }
        var cur = [Double](repeating: 0, count: n)
        for _ in 0..<take {
            var best = -1, bestGain = -Double.infinity
            for i in 0..<n where !chosen[i] {
                var cover = 0.0
                for c1 in 0..<n { cover += max(cur[c1], sim(c1, i)) - cur[c1] }
                let g = w * m[i] + o.beta * cover
                if g > bestGain { (best, bestGain) = (i, g) }
            }
            guard best >= 0 else { break }
            chosen[best] = true
            ranking.append(v[best])
            for c1 in 0..<n { cur[c1] = max(cur[c1], sim(c1, best)) }
        }
    }
    return ranking
}

/// The selected concepts per class (indices into the bank), each class's in selection order.
public func selectConcepts(bank: ConceptBank, conceptEmbeddings e: [[Float]], images: [[Float]], labels: [Int],
                           options o: SelectionOptions) throws -> [[Int]] {
    let k = bank.classes.count
    var mi: [Double] = []
    if let empty = (0..<k).first(where: { y in !labels.contains(y) }), o.method != .random {
        throw LaboError("class '\(bank.classes[empty])' has no training image: its concept scores would be 0")
    }
    if o.method != .random {
        mi = try miScores(transformScores(clipScores(concepts: e, images: images, labels: labels, classes: k), o.transform, temperature: o.temperature))
    }
    let rng = RandomGenerator(seed: o.seed, stream: 0x1AB0)
    return (0..<k).map { y in
        let v = bank.candidates(of: y)
        // A class with no more candidates than asked keeps them all, in bank order (as the reference).
        if v.count <= o.perClass { return v }
        switch o.method {
        case .mi:
            return Array(v.enumerated().sorted { a, b in mi[a.1] != mi[b.1] ? mi[a.1] > mi[b.1] : a.0 < b.0 }.prefix(o.perClass).map(\.1))
        case .random:
            return Array(rng.permutation(v.count).prefix(o.perClass).map { v[$0] })
        case .submodular:
            return submodularRanking(v, mi: mi, e: e, k: o.perClass, options: o)
        }
    }
}
