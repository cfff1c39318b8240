// LM-Infinite's Λ-shaped attention (and StreamingLLM's sink + window attention) as a LLaMA attention
// backend over the bounded WindowCache.
//
// Query at position p sees (one softmax over the union):
//   local branch:  keys j with p − L < j ≤ p, at their true distance p − j;
//   global branch: the first G tokens with j ≤ p − L (a global token inside the window counts once,
//                  in the local branch), at distance D (Λ: keys unrotated, query rotated by D), or
//                  (StreamingLLM) at their cache-index distance min(p, G + L − 1) − j.
//   top-k (optional, Λ only, the last query of a forward pass, layers ≥ topKFromLayer): the k middle
//                  tokens (G ≤ j ≤ p − L) with the highest scores at distance topKDistance — these need
//                  every key, so only this option keeps an unbounded cache.
// A forward pass over C tokens (C ≤ L, within one epoch of L positions; InfiniteLM splits input so)
// costs O(C·(G + L + C)) per head: never an n×n matrix. Keys are stored unrotated once and rotated
// relative to their epoch base (WindowCache), so RoPE angles stay below 2L.
import Runtime

public enum GlobalDistance: Sendable {
    /// Λ-shaped attention: every global token outside the window at distance D.
    case fixed(Int)
    /// StreamingLLM: positions by cache index (sink j at min(p, G + L − 1) − j).
    case cacheIndex
}

public struct TopKOptions: Sendable {
    public var k: Int
    public var distance: Int = 2048
    public var fromLayer: Int = 4
    public var toLayer: Int = 1000
    public init(k: Int, distance: Int = 2048, fromLayer: Int = 4, toLayer: Int = 1000) {
        (self.k, self.distance, self.fromLayer, self.toLayer) = (k, distance, fromLayer, toLayer)
    }
}

public final class BoundedAttention: LLaMAAttentionBackend {
    public let window: Int, globals: Int
    public let globalDistance: GlobalDistance
    public let topK: TopKOptions?
    let rope: RoPE
    let cache: WindowCache
    let heads: Int, kvHeads: Int, headDim: Int
    /// Every unrotated key/value, per layer (only with top-k): [n, Hkv, D] growing.
    private var allK: [[Float]], allV: [[Float]]

    public init(model: LLaMAModel, window: Int, globals: Int, globalDistance: GlobalDistance, topK: TopKOptions? = nil) {
        // invariant: L is --local (validated >= 1) or max_position_embeddings (LLaMAConfig.validate: > 0),
        // G is --global (validated >= 0) or the 4 sinks.
        precondition(window >= 1 && globals >= 0, "BoundedAttention: window must be positive")
        let c = model.config
        (self.window, self.globals, self.globalDistance, self.topK) = (window, globals, globalDistance, topK)
        rope = RoPE(headDim: c.headDim, theta: c.ropeTheta, scaling: c.ropeScaling, maxPositions: c.maxPositionEmbeddings)
        (heads, kvHeads, headDim) = (c.numAttentionHeads, c.numKeyValueHeads, c.headDim)
        cache = WindowCache(layers: c.numHiddenLayers, kvHeads: c.numKeyValueHeads, headDim: c.headDim, window: window, globals: globals)
        allK = topK == nil ? [] : Array(repeating: [], count: c.numHiddenLayers)
        allV = allK
    }

    /// Tokens seen so far.
    public var length: Int { cache.length }

    /// Largest forward pass the backend accepts at the current position (the rest of this epoch).
    public var maxChunk: Int { window - cache.length % window }

    public func advance(by tokens: Int) { cache.advance(by: tokens) }

    /// Rotates x [1, C, H, D] row i by positions[i].
    private func rotated(_ x: Tensor, _ positions: [Int]) -> Tensor {
        let (c, s) = rope.tables(positions: positions, sequenceLength: 1)
        return applyRoPE(x, cos: c, sin: s)
    }

    public func attend(layer: Int, q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        // invariant: InfiniteLM feeds one sequence in pieces of at most maxChunk tokens.
        precondition(q.shape[0] == 1, "BoundedAttention: one sequence at a time")
        let cq = q.shape[1], p0 = cache.length, L = window
        precondition(cq >= 1 && cq <= maxChunk, "BoundedAttention: \(cq) tokens at position \(p0) cross an epoch (max \(maxChunk))")
        let baseE = cache.base(p0)
        let rel = (0..<cq).map { p0 - baseE + $0 }
        let kRot = rotated(k, rel)
        let qE = rotated(q, rel)
        // Epoch E−1 keys still in the window of the first query: positions [a0, baseE).
        let a0 = max(0, p0 - L + 1), nA = max(0, baseE - a0)
        let qA = nA > 0 ? rotated(q, rel.map { $0 + L }) : qE
        let nB = p0 - baseE
        let g = min(globals, p0)
        let qG: Tensor
        switch globalDistance {
        case .fixed(let d): qG = rotated(q, Array(repeating: d, count: cq))
        case .cacheIndex: qG = rotated(q, (0..<cq).map { min(p0 + $0, globals + L - 1) })
        }
        // Top-k middle tokens for the last query (positions globals ..< lastP − L + 1).
        let lastP = p0 + cq - 1
        var middle: [Int] = []
        if let t = topK, layer >= t.fromLayer, layer < t.toLayer {
            let hi = lastP - L + 1
            if hi - globals >= t.k { middle = Array(globals..<hi) }
        }
        let extra = middle.isEmpty ? 0 : topK!.k  // invariant: middle is only filled with topK set (k >= 1, validated)
        let cols = g + nA + nB + cq + extra
        let out = Tensor.zeros([1, cq, heads, headDim])
        let group = heads / kvHeads, row = kvHeads * headDim, qRow = heads * headDim
        let scale = 1 / Float(headDim).squareRoot()
        let ringK = cache.ringK[layer], ringV = cache.ringV[layer], gk = cache.globalK[layer], gv = cache.globalV[layer]
        let slotsA = nA > 0 ? cache.slots(a0, baseE) : 0..<0, slotsB = cache.slots(baseE, p0)
        let qNear = extra > 0 ? rotated(q.slice(axis: 1, cq - 1, cq), [topK!.distance]) : nil

        // Heads go to the threads (their GEMMs then run inline).
        let work = cq * cols * headDim
        parallelFor(heads, grain: max(1, (1 << 16) / max(work, 1))) { range in
            let s = Tensor(uninitializedShape: [cq, cols])
            let nearV = Tensor(uninitializedShape: [max(extra, 1), headDim])
            for h in range {
                let kh = h / group, qo = h * headDim, ko = kh * headDim
                let sp = s.data
                gemm(false, true, cq, g, headDim, qG.data + qo, qRow, gk.data + ko, row, sp, cols, alpha: scale)
                gemm(false, true, cq, nA, headDim, qA.data + qo, qRow, ringK.data + slotsA.lowerBound * row + ko, row, sp + g, cols, alpha: scale)
                gemm(false, true, cq, nB, headDim, qE.data + qo, qRow, ringK.data + slotsB.lowerBound * row + ko, row, sp + g + nA, cols, alpha: scale)
                gemm(false, true, cq, cq, headDim, qE.data + qo, qRow, kRot.data + ko, row, sp + g + nA + nB, cols, alpha: scale)
                for i in 0..<cq {
                    let p = p0 + i, r = sp + i * cols
                    for j in 0..<g where j > p - L { r[j] = -.infinity }                      // global inside the window
                    for c in 0..<nA where a0 + c <= p - L { r[g + c] = -.infinity }            // left the window
                    for c in (i + 1)..<max(cq, i + 1) { r[g + nA + nB + c] = -.infinity }      // causal within the pass
                    for c in 0..<extra { r[g + nA + nB + cq + c] = -.infinity }
                }
                if extra > 0 {
                    self.selectTopK(layer: layer, head: h, kh: kh, qNear: qNear!, middle: middle,
                                    row: sp + (cq - 1) * cols + g + nA + nB + cq, values: nearV, scale: scale)
                }
                for i in 0..<cq { softmaxRow(sp + i * cols, sp + i * cols, cols) }
                let o = out.data + qo
                gemm(false, false, cq, headDim, g, sp, cols, gv.data + ko, row, o, qRow, beta: 1)
                gemm(false, false, cq, headDim, nA, sp + g, cols, ringV.data + slotsA.lowerBound * row + ko, row, o, qRow, beta: 1)
                gemm(false, false, cq, headDim, nB, sp + g + nA, cols, ringV.data + slotsB.lowerBound * row + ko, row, o, qRow, beta: 1)
                gemm(false, false, cq, headDim, cq, sp + g + nA + nB, cols, v.data + ko, row, o, qRow, beta: 1)
                if extra > 0 {
                    gemm(false, false, 1, headDim, extra, sp + (cq - 1) * cols + g + nA + nB + cq, cols, nearV.data, headDim,
                         o + (cq - 1) * qRow, qRow, beta: 1)
                }
            }
            withExtendedLifetime((s, nearV)) {}
        }
        // Globals are stored unrotated (Λ) or at their own position (StreamingLLM).
        let globalKeys: Tensor?
        switch globalDistance {
        case .fixed: globalKeys = k
        case .cacheIndex: globalKeys = rotated(k, (0..<cq).map { p0 + $0 })
        }
        cache.store(layer: layer, start: p0, n: cq, rotatedK: kRot, rawK: k, v: v, globalK: globalKeys)
        if topK != nil {
            allK[layer].append(contentsOf: UnsafeBufferPointer(start: k.data, count: cq * row))
            allV[layer].append(contentsOf: UnsafeBufferPointer(start: v.data, count: cq * row))
        }
        return out
    }

    /// Scores of the middle tokens at the top-k distance; the k best go into `row` (their values into `values`).
    private func selectTopK(layer: Int, head h: Int, kh: Int, qNear: Tensor, middle: [Int],
                            row: UnsafeMutablePointer<Float>, values: Tensor, scale: Float) {
        let r = kvHeads * headDim, qv = qNear.data + h * headDim
        var scored: [(Float, Int)] = []
        scored.reserveCapacity(middle.count)
        // invariant: the middle tokens were all stored (j < p0), so allK/allV are not empty.
        allK[layer].withUnsafeBufferPointer { keys in
            for j in middle {
                let kp = keys.baseAddress! + j * r + kh * headDim
                var dot: Float = 0
                for t in 0..<headDim { dot += qv[t] * kp[t] }
                scored.append((dot * scale, j))
            }
        }
        let best = scored.sorted { $0.0 > $1.0 }.prefix(topK!.k)
        allV[layer].withUnsafeBufferPointer { vals in
            for (c, (score, j)) in best.enumerated() {
                row[c] = score
                (values.data + c * headDim).update(from: vals.baseAddress! + j * r + kh * headDim, count: headDim)
            }
        }
    }
}
