// The LLMFew model (LLMFew.py): series → patches → PTCEnc per patch → Dropout → the decoder on the
// patch embeddings as inputs_embeds (no mask: every series has the same N patches; causal attention,
// positions 0…N−1) → LeakyReLU(decoder output + embeddings) → flatten [B, N·C] → LayerNorm → Linear
// → logits.
//
// The reference then applies Dropout to the logits and a Softmax inside the model, and its loss is
// CrossEntropyLoss of those probabilities: a double softmax whose loss cannot go below
// −log(e/(e + K − 1)). By default the model returns logits and the loss applies one softmax;
// `referenceHead` restores the reference's head (argmax, hence accuracy, is the same either way).
// Without a decoder (llm = none) the embeddings go straight to the LeakyReLU.
import Runtime

public final class LLMFewModel: Module {
    public let config: LLMFewConfig
    public let encoder: PTCEncoder
    let patchDropout: Dropout?
    public let backbone: Backbone?
    public let norm: LayerNorm
    public let head: Linear
    let logitDropout: Dropout?
    override public var keyMap: [String: String] { ["norm": "ln_proj", "head": "mapping.0"] }

    public init(config: LLMFewConfig, backbone: Backbone?, generator: RandomGenerator) {
        self.config = config
        self.backbone = backbone
        encoder = PTCEncoder(inChannels: config.dimensions, channels: config.channels, depth: config.depth,
                             reduced: config.reduced, width: config.width, kernel: config.kernel, generator: generator)
        patchDropout = config.dropout > 0 ? Dropout(config.dropout) : nil
        let flat = config.patches * config.width
        norm = LayerNorm(flat)
        head = Linear(flat, config.classes.count, generator: generator)
        logitDropout = config.referenceHead && config.dropout > 0 ? Dropout(config.dropout) : nil
        super.init()
    }

    /// The model's output for a batch [B, K]: logits, or (referenceHead) probabilities.
    public func outputs(_ batch: [Series]) throws -> Tensor {
        let c = config, n = c.patches
        let values = try patchValues(batch, dimensions: c.dimensions, length: c.length, patch: c.patchLen, stride: c.stride)
        let patches = Tensor(shape: [batch.count * n, c.dimensions, c.patchLen], scalars: values)
        var e = encoder(patches)
        if let patchDropout { e = patchDropout(e) }
        e = e.reshaped([batch.count, n, c.width])
        var h = e
        if let backbone { h = backbone(BackboneInput(inputsEmbeds: e)).lastHidden + e }
        var out = head(norm(leakyRelu(h).reshaped([batch.count, n * c.width])))
        if c.referenceHead {
            if let logitDropout { out = logitDropout(out) }
            out = softmax(out, axis: 1)
        }
        return out
    }

    /// Mean cross-entropy over the batch (with referenceHead: of the probabilities, as the reference).
    public func loss(_ batch: [Series], targets: [Int]) throws -> Tensor {
        crossEntropy(try outputs(batch), targets: targets)
    }

    /// Class probabilities [B][K] (eval mode is the caller's): softmax of the logits, or the reference
    /// head's own probabilities.
    public func probabilities(_ batch: [Series]) throws -> [[Float]] {
        let out = try withoutGrad { try outputs(batch) }
        let p = config.referenceHead ? out : softmax(out, axis: 1)
        let k = config.classes.count
        let s = p.scalars
        return (0..<batch.count).map { Array(s[($0 * k)..<(($0 + 1) * k)]) }
    }

    /// The modules trained besides LoRA (PTCEnc, the LayerNorm, the head) under their reference names
    /// (listed apart so the decoder's weights, perhaps quantized, are never walked).
    public var ownModules: [(String, Module)] { [("encoder", encoder), ("ln_proj", norm), ("mapping.0", head)] }

    public func ownTensors() -> [(String, Tensor)] {
        ownModules.flatMap { prefix, m in m.namedState().map { (prefix + "." + $0.0, $0.1) } }
    }

    /// Loads ownTensors() by name (every one must be there, nothing else).
    public func loadOwn(_ state: [String: Tensor]) throws {
        var used = 0
        for (prefix, m) in ownModules {
            var part: [String: Tensor] = [:]
            for (k, t) in state where k.hasPrefix(prefix + ".") { part[String(k.dropFirst(prefix.count + 1))] = t }
            used += part.count
            do { try m.load(state: part) } catch { throw LLMFewError("\(prefix): \(error)") }
        }
        if used != state.count {
            let extra = state.keys.filter { k in !ownModules.contains { k.hasPrefix($0.0 + ".") } }.sorted()
            throw LLMFewError("unexpected tensors: \(extra.prefix(5).joined(separator: ", "))")
        }
    }
}
