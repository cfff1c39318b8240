// The bounded cache of LM-Infinite's Λ-shaped attention (and of StreamingLLM): per layer, the first G
// tokens' keys and values (the global branch) and a ring of the last L (the local branch).
//
// Keys in the ring are stored rotated relative to their epoch: key j is rotated by j − E·L, where
// E = ⌊j / L⌋. A window of L consecutive positions spans at most two epochs, each a contiguous run of
// ring slots, and a query at p is rotated by p − E·L for the keys of epoch E: every RoPE angle stays
// below 2L however long the sequence, and no key is ever rotated twice. Global keys are stored as
// the attention mode needs them (unrotated for Λ, at their own position for StreamingLLM).
// Memory: 2·(G + L)·Hkv·D floats per layer, whatever the length.
import Runtime

final class WindowCache {
    let layers: Int, kvHeads: Int, headDim: Int
    let window: Int, globals: Int
    /// ring[layer]: [≤ window, Hkv, D]; slot s holds the key (rotated) / value of the latest position ≡ s mod window.
    var ringK: [Tensor], ringV: [Tensor]
    /// global[layer]: [globals, Hkv, D]; row j holds token j (j < globals).
    var globalK: [Tensor], globalV: [Tensor]
    /// Tokens seen so far (the next token's position).
    private(set) var length = 0

    init(layers: Int, kvHeads: Int, headDim: Int, window: Int, globals: Int) {
        (self.layers, self.kvHeads, self.headDim, self.window, self.globals) = (layers, kvHeads, headDim, window, globals)
        let row = [kvHeads, headDim]
        // The ring grows (doubling) up to `window` rows as tokens arrive: short inputs stay small.
        ringK = (0..<layers).map { _ in Tensor.zeros([min(window, 64)] + row) }
        ringV = (0..<layers).map { _ in Tensor.zeros([min(window, 64)] + row) }
        // So do the global rows, up to `globals`: a large --global costs memory only for tokens that came.
        globalK = (0..<layers).map { _ in Tensor.zeros([min(max(globals, 1), 64)] + row) }
        globalV = (0..<layers).map { _ in Tensor.zeros([min(max(globals, 1), 64)] + row) }
    }

    var rowSize: Int { kvHeads * headDim }

    /// Epoch base of position j.
    func base(_ j: Int) -> Int { j / window * window }

    /// The contiguous ring slots holding positions [from, to) (all in one epoch, to - from ≤ window).
    func slots(_ from: Int, _ to: Int) -> Range<Int> {
        let s = from % window
        return s..<(s + (to - from))
    }

    /// Writes the keys (already rotated relative to their epoch) and values of positions
    /// [start, start + n) of `layer` into the ring, and the global rows among them.
    func store(layer: Int, start: Int, n: Int, rotatedK: Tensor, rawK: Tensor, v: Tensor, globalK gk: Tensor?) {
        let r = rowSize
        let rows = ringK[layer].shape[0]
        if rows < window && start + n > rows {
            // Until the first `window` tokens have arrived slot j is row j: grow, keeping rows.
            let grown = min(window, max(2 * rows, start + n))
            for buf in [\WindowCache.ringK, \WindowCache.ringV] {
                let t = Tensor.zeros([grown, kvHeads, headDim])
                t.data.update(from: self[keyPath: buf][layer].data, count: rows * r)
                self[keyPath: buf][layer] = t
            }
        }
        let globalRows = globalK[layer].shape[0]
        if globalRows < globals && start + n > globalRows {
            let grown = min(globals, max(2 * globalRows, start + n))
            for buf in [\WindowCache.globalK, \WindowCache.globalV] {
                let t = Tensor.zeros([grown, kvHeads, headDim])
                t.data.update(from: self[keyPath: buf][layer].data, count: globalRows * r)
                self[keyPath: buf][layer] = t
            }
        }
        for i in 0..<n {
            let j = start + i, slot = j % window
            (ringK[layer].data + slot * r).update(from: rotatedK.data + i * r, count: r)
            (ringV[layer].data + slot * r).update(from: v.data + i * r, count: r)
            if j < globals {
                (globalK[layer].data + j * r).update(from: (gk ?? rawK).data + i * r, count: r)
                (globalV[layer].data + j * r).update(from: v.data + i * r, count: r)
            }
        }
    }

    func advance(by n: Int) { length += n }
}
