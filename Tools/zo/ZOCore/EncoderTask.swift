// An encoder (BERT, MPNet, XLM-R, DeBERTa; e.g. all-MiniLM-L6-v2) with a classification head:
// mean-pooled token states → Linear(hidden, classes), cross-entropy. Schemes: full (encoder and head),
// LoRA (adapters on the attention's query/value, and the head), prefix (learned keys/values per layer,
// and the head), prompt (learned virtual tokens in front, and the head; the pooling covers the real
// tokens only). Multiple choice is not an encoder task here.
import Runtime

public final class EncoderTask: TaskModel {
    public let encoder: any Backbone
    public let tokenizer: Tokenizer
    public let head: Linear
    public let classes: Int
    public let options: SchemeOptions
    public private(set) var promptEmbeddings: Tensor?
    public private(set) var prefixKeys: [Tensor] = [], prefixValues: [Tensor] = []
    private var tokenCache: [String: [Int]] = [:]
    private let container: Container

    /// The encoder and head as one module (so parameters are named and saved together).
    final class Container: Module {
        let encoder: Module, head: Linear
        init(encoder: Module, head: Linear) {
            self.encoder = encoder
            self.head = head
        }
    }

    public var module: Module { container }

    public init(encoder: any Backbone, tokenizer: Tokenizer, classes: Int, options: SchemeOptions = SchemeOptions(),
                maxLength: Int = 128, seed: UInt64 = 0) throws {
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.classes = classes
        self.options = options
        let d = encoder.descriptor
        // Virtual tokens and a prefix take positions too.
        let extra = options.scheme == .prompt ? options.promptTokens : options.scheme == .prefix ? options.prefixTokens : 0
        let limit = (d.maxPositions ?? maxLength + extra) - extra
        guard limit >= 2 else {
            throw DataError(description: "\(extra) virtual/prefix tokens leave no room in the model's \(d.maxPositions ?? 0) positions")
        }
        tokenizer.truncation = Truncation(maxLength: min(maxLength, limit))
        tokenizer.padding = nil
        let rng = RandomGenerator(seed: seed, stream: 0x5D)
        head = Linear(d.hiddenSize, classes, generator: rng)
        container = Container(encoder: encoder, head: head)
        encoder.freeze()
        switch options.scheme {
        case .full:
            encoder.unfreeze()
        case .lora:
            encoder.addLoRA(LoRAConfig(rank: options.loraRank, alpha: options.loraAlpha,
                                       targets: options.loraTargets ?? d.attentionProjections), generator: rng)
        case .prompt:
            let ids = (0..<options.promptTokens).map { _ in rng.nextInt(below: d.vocabSize) }
            promptEmbeddings = withoutGrad { encoder.tokenEmbeddings(ids) }.copy().requiringGrad()
        case .prefix:
            (prefixKeys, prefixValues) = initialPrefix(encoder, tokens: options.prefixTokens, rng: rng)
        }
        encoder.eval()
    }

    public var trainable: [(String, Tensor)] {
        let body: [(String, Tensor)]
        switch options.scheme {
        case .full: body = container.namedParameters().filter { $0.0.hasPrefix("encoder.") }
        case .lora: body = container.loraState()
        case .prompt: body = [("prompt.embeddings", promptEmbeddings!)]
        case .prefix:
            body = prefixKeys.indices.flatMap { [("prefix.\($0).keys", prefixKeys[$0]), ("prefix.\($0).values", prefixValues[$0])] }
        }
        return body + [("head.weight", head.weight), ("head.bias", head.bias!)]
    }

    public func scores(_ batch: [Example]) -> Tensor {
        let seqs = batch.map { e -> [Int] in
            if let t = tokenCache[e.text] { return t }
            let t = (try? tokenizer.encode(e.text).ids) ?? []
            tokenCache[e.text] = t
            return t
        }
        let tb = TokenBatch(seqs, padId: tokenizer.padId ?? 0)
        var h = encoder(schemeInput(tb, scheme: options.scheme, prompt: promptEmbeddings, prefixKeys: prefixKeys,
                                    prefixValues: prefixValues, model: encoder)).lastHidden
        if options.scheme == .prompt { h = h.slice(axis: 1, options.promptTokens, options.promptTokens + tb.length) }
        return head(pool(h, mask: tb.mask, mode: .mean))
    }

    public func loss(_ batch: [Example]) -> Tensor {
        crossEntropy(scores(batch), targets: batch.map(\.label))
    }

    public func predict(_ batch: [Example]) -> [Int] {
        withoutGrad { scores(batch) }.argmax(axis: 1)
    }
}
