// The linear-probe baseline of LaBo (main.py linear_probe_sklearn_main, from CoOp's lpclip):
// scikit-learn's LogisticRegression(solver="lbfgs", penalty="l2", max_iter=1000, C) — multinomial,
// symmetric (one weight row per class), intercepts not penalized — fitted by L-BFGS in Double on
// scikit-learn's objective, (1/n) Σ CE + ‖W‖² / (2 C n), stopped when the largest gradient entry is at
// most 1e-4 (its tol) or after 1000 iterations. C is chosen on the validation set as the reference does:
// the best of {1e6, 1e4, 1e2, 1, 1e-2, 1e-4, 1e-6}, then 8 rounds halving [c/10, 10c] in log10 towards
// the better end; the reference then fits with the *left end* of the last interval (not the best C seen:
// kept, as --reference-c; the default fits with the best C of the search).
// At very large C on nearly separable few-shot features the optimum is far out and both L-BFGS runs stop
// at the tolerance at different points: predictions there can differ from scikit-learn's (scipy's
// L-BFGS-B line search is not reproduced).
import Foundation

public struct LogisticRegression: Sendable {
    public var weights: [[Double]]   // [K][d]
    public var intercepts: [Double]  // [K]
    public var iterations: Int

    public func logits(_ x: [Float]) -> [Double] {
        (0..<weights.count).map { k in
            var z = intercepts[k]
            for j in x.indices { z += weights[k][j] * Double(x[j]) }
            return z
        }
    }

    public func predict(_ x: [Float]) -> Int {
        let z = logits(x)
        var best = 0
        for k in z.indices where z[k] > z[best] { best = k }
        return best
    }

    /// Fits scikit-learn's multinomial objective with L-BFGS (memory 10, backtracking Armijo line search).
    public static func fit(_ xs: [[Float]], _ ys: [Int], classes k: Int, c: Double, maxIterations: Int = 1000, tolerance: Double = 1e-4) -> LogisticRegression {
        let n = xs.count, d = xs.first?.count ?? 0, p = k * (d + 1)
        let x = xs.map { $0.map(Double.init) }
        let l2 = 1 / (c * Double(n))
        // θ: W row-major [K][d], then the K intercepts.
        func value(_ t: [Double], _ g: inout [Double]) -> Double {
            g = [Double](repeating: 0, count: p)
            var loss = 0.0
            var z = [Double](repeating: 0, count: k)
            for i in 0..<n {
                for a in 0..<k {
                    var s = t[k * d + a]
                    let row = a * d
                    for j in 0..<d { s += t[row + j] * x[i][j] }
                    z[a] = s
                }
                let m = z.max()!
                var sum = 0.0
                for a in 0..<k { sum += Foundation.exp(z[a] - m) }
                loss += m + Foundation.log(sum) - z[ys[i]]
                for a in 0..<k {
                    let r = (Foundation.exp(z[a] - m) / sum - (a == ys[i] ? 1 : 0)) / Double(n)
                    let row = a * d
                    for j in 0..<d { g[row + j] += r * x[i][j] }
                    g[k * d + a] += r
                }
            }
            loss /= Double(n)
            for q in 0..<(k * d) {
                loss += 0.5 * l2 * t[q] * t[q]
                g[q] += l2 * t[q]
            }
            return loss
        }
        var t = [Double](repeating: 0, count: p), g = [Double](repeating: 0, count: p)
        var f = value(t, &g)
        var sHist: [[Double]] = [], yHist: [[Double]] = []
        var iterations = 0
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        while iterations < maxIterations && (g.map(abs).max() ?? 0) > tolerance {
            iterations += 1
            // Two-loop recursion: direction = −H g.
            var q = g, alphas: [Double] = []
            for (s, y) in zip(sHist, yHist).reversed() {
                let a = dot(s, q) / dot(y, s)
                alphas.append(a)
                for j in 0..<p { q[j] -= a * y[j] }
            }
            if let s = sHist.last, let y = yHist.last {
                let gamma = dot(s, y) / dot(y, y)
                for j in 0..<p { q[j] *= gamma }
            }
            for ((s, y), a) in zip(zip(sHist, yHist), alphas.reversed()) {
                let b = dot(y, q) / dot(y, s)
                for j in 0..<p { q[j] += s[j] * (a - b) }
            }
            var dir = q.map { -$0 }
            var slope = dot(g, dir)
            if slope >= 0 { dir = g.map { -$0 }; slope = dot(g, dir); sHist = []; yHist = [] }
            var step = sHist.isEmpty ? min(1, 1 / max(g.map(abs).reduce(0, +), 1e-12)) : 1.0
            var tNew = t, gNew = g, fNew = f
            var accepted = false
            for _ in 0..<60 {
                for j in 0..<p { tNew[j] = t[j] + step * dir[j] }
                fNew = value(tNew, &gNew)
                if fNew <= f + 1e-4 * step * slope { accepted = true; break }
                step *= 0.5
            }
            guard accepted else { break }
            let s = (0..<p).map { tNew[$0] - t[$0] }, y = (0..<p).map { gNew[$0] - g[$0] }
            if dot(s, y) > 1e-12 {
                sHist.append(s); yHist.append(y)
                if sHist.count > 10 { sHist.removeFirst(); yHist.removeFirst() }
            }
            (t, g, f) = (tNew, gNew, fNew)
        }
        return LogisticRegression(weights: (0..<k).map { Array(t[($0 * d)..<(($0 + 1) * d)]) }, intercepts: Array(t[(k * d)...]), iterations: iterations)
    }
}

public struct ProbeSearch: Sendable {
    public var initial: [(c: Double, valAccuracy: Double)] = []
    public var rounds: [(left: Double, right: Double, valAccuracy: Double)] = []
    /// The best C of the search (ties: the first).
    public var bestC: Double = 1
    /// The left end of the last interval: what the reference fits its final model with.
    public var referenceC: Double = 1
}

/// The reference's C search on the validation set.
public func searchC(train: [[Float]], trainY: [Int], val: [[Float]], valY: [Int], classes k: Int, steps: Int = 8) -> ProbeSearch {
    searchC(steps: steps) { c in
        let m = LogisticRegression.fit(train, trainY, classes: k, c: c)
        return Double(zip(val, valY).filter { m.predict($0) == $1 }.count) / Double(max(1, val.count))
    }
}

/// The search itself, over any validation accuracy of C.
public func searchC(steps: Int = 8, accuracy: (Double) -> Double) -> ProbeSearch {
    var out = ProbeSearch()
    var best = (c: 1.0, acc: -1.0)
    for c in [1e6, 1e4, 1e2, 1, 1e-2, 1e-4, 1e-6] {
        let a = accuracy(c)
        out.initial.append((c, a))
        if a > best.acc { best = (c, a) }
    }
    var left = 0.1 * best.c, right = 10 * best.c
    for _ in 0..<steps {
        let (al, ar) = (accuracy(left), accuracy(right))
        // The reference: right wins only when strictly better.
        if al < ar {
            if ar > best.acc { best = (right, ar) }
            out.rounds.append((left, right, ar))
            (left, right) = (pow(10, 0.5 * (log10(right) + log10(left))), right)
        } else {
            if al > best.acc { best = (left, al) }
            out.rounds.append((left, right, al))
            (left, right) = (left, pow(10, 0.5 * (log10(right) + log10(left))))
        }
    }
    (out.bestC, out.referenceC) = (best.c, left)
    return out
}
