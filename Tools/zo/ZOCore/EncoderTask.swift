// An encoder (BERT, e.g. all-MiniLM-L6-v2) with a classification head: mean-pooled token states →
// Linear(hidden, classes), cross-entropy. Schemes: full (encoder and head) or LoRA (adapters on the
// attention's query/value, and the head). Multiple choice is not an encoder task here.
import Runtime

public final class EncoderTask: TaskModel {
    public let encoder: BERTModel
    public let tokenizer: Tokenizer
    public let head: Linear
    public let classes: Int
    public let options: SchemeOptions
    private var tokenCache: [String: [Int]] = [:]
    private let container: Container

    /// The encoder and head as one module (so parameters are named and saved together).
    final class Container: Module {
        let encoder: BERTModel, head: Linear
        init(encoder: BERTModel, head: Linear) {
            self.encoder = encoder
            self.head = head
        }
    }

    public var module: Module { container }

    public init(encoder: BERTModel, tokenizer: Tokenizer, classes: Int, options: SchemeOptions = SchemeOptions(),
                maxLength: Int = 128, seed: UInt64 = 0) throws {
        guard options.scheme == .full || options.scheme == .lora else {
            throw DataError(description: "scheme \(options.scheme.rawValue) is for decoder models; an encoder trains full or lora")
        }
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.classes = classes
        self.options = options
        tokenizer.truncation = Truncation(maxLength: maxLength)
        tokenizer.padding = nil
        let rng = RandomGenerator(seed: seed, stream: 0x5D)
        head = Linear(encoder.config.hiddenSize, classes, generator: rng)
        container = Container(encoder: encoder, head: head)
        encoder.freeze()
        if options.scheme == .full {
            encoder.unfreeze()
        } else {
            let targets = options.loraTargets == ["q_proj", "v_proj"] ? ["query", "value"] : options.loraTargets
            encoder.addLoRA(LoRAConfig(rank: options.loraRank, alpha: options.loraAlpha, targets: targets), generator: rng)
        }
        encoder.eval()
    }

    public var trainable: [(String, Tensor)] {
        let enc = options.scheme == .full ? container.namedParameters().filter { $0.0.hasPrefix("encoder.") }
            : container.loraState()
        return enc + [("head.weight", head.weight), ("head.bias", head.bias!)]
    }

    public func scores(_ batch: [Example]) -> Tensor {
        let seqs = batch.map { e -> [Int] in
            if let t = tokenCache[e.text] { return t }
            let t = (try? tokenizer.encode(e.text).ids) ?? []
            tokenCache[e.text] = t
            return t
        }
        let tb = TokenBatch(seqs, padId: tokenizer.padId ?? 0)
        return head(pool(encoder(tb), mask: tb.mask, mode: .mean))
    }

    public func loss(_ batch: [Example]) -> Tensor {
        crossEntropy(scores(batch), targets: batch.map(\.label))
    }

    public func predict(_ batch: [Example]) -> [Int] {
        withoutGrad { scores(batch) }.argmax(axis: 1)
    }
}
