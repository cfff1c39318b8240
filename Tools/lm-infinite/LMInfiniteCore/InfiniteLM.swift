// InfiniteLM: a LLaMA-family model run in one of three attention modes over a sequence of any length.
//
//   lambda     LM-Infinite: Λ-shaped attention (G global + L local tokens, globals at distance D),
//              bounded cache (BoundedAttention), optional top-k middle tokens;
//   vanilla    full attention and full cache at absolute positions (the model as trained);
//   streaming  StreamingLLM: 4 sink tokens + a recent window of L − 4, positions by cache index.
//
// `feed` runs tokens through the model in chunks (a chunk never crosses a Λ epoch, and stays under
// `chunk` tokens) and hands each chunk's logits to the caller, so scoring 100k tokens never holds
// more than one chunk of logits.
import Runtime

public enum AttentionMode: String, CaseIterable, Sendable { case lambda, vanilla, streaming }

public struct InfiniteOptions: Sendable {
    public var mode: AttentionMode = .lambda
    /// G: global tokens (the reference's own perplexity runs use 100).
    public var globals = 10
    /// L: local window (default: the model's pretraining length).
    public var local: Int? = nil
    /// D: distance the global tokens are seen at (default L).
    public var limit: Int? = nil
    /// StreamingLLM's attention sinks.
    public var sinks = 4
    public var topK: TopKOptions? = nil
    public init() {}
}

public final class InfiniteLM {
    public let model: LLaMAModel
    public let options: InfiniteOptions
    public let local: Int
    private var backend: BoundedAttention?
    private var cache: KVCache?

    public init(model: LLaMAModel, options: InfiniteOptions) {
        self.model = model
        self.options = options
        local = options.local ?? model.config.maxPositionEmbeddings
        reset()
    }

    /// Forgets the sequence.
    public func reset() {
        switch options.mode {
        case .lambda:
            backend = BoundedAttention(model: model, window: local, globals: options.globals,
                                       globalDistance: .fixed(options.limit ?? local), topK: options.topK)
            cache = nil
        case .streaming:
            backend = BoundedAttention(model: model, window: max(1, local - options.sinks), globals: options.sinks,
                                       globalDistance: .cacheIndex)
            cache = nil
        case .vanilla:
            backend = nil
            cache = model.makeCache(capacity: 512)
        }
    }

    /// Tokens seen so far.
    public var length: Int { backend?.length ?? cache!.length }  // invariant: reset() sets one of the two

    /// Runs `ids` after what came before, in chunks of at most `chunk` tokens; `onLogits(first, logits)`
    /// gets each chunk's logits [n, V] (all positions, or only the last with `lastOnly`).
    public func feed(_ ids: [Int], chunk: Int = 512, lastOnly: Bool = false, onLogits: (Int, Tensor) -> Void) {
        precondition(chunk >= 1, "InfiniteLM.feed: chunk must be positive")  // invariant: --chunk is validated, callers pass it or 512
        var start = 0
        withoutGrad {
            while start < ids.count {
                var n = min(chunk, ids.count - start)
                if let backend { n = min(n, backend.maxChunk) }
                let piece = Array(ids[start..<(start + n)])
                let isLast = start + n == ids.count
                let sel: LogitsSelection = lastOnly ? (isLast ? .last : .none) : .all
                let out = backend != nil ? model(ids: piece, logits: sel, backend: backend)
                                         : model(ids: piece, cache: cache, logits: sel)
                if sel != .none { onLogits(lastOnly ? start + n - 1 : start, out.reshaped([-1, model.config.vocabSize])) }
                start += n
            }
        }
    }

    /// The logits [V] after feeding `ids` (the next-token distribution).
    public func next(_ ids: [Int], chunk: Int = 512) -> Tensor {
        var last = Tensor.zeros([model.config.vocabSize])
        feed(ids, chunk: chunk, lastOnly: true) { _, logits in last = logits.reshaped([model.config.vocabSize]) }
        return last
    }
}
