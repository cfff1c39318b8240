// A ptec model directory: ptec.json (PTECConfig) and ptec.safetensors ("soft_prompt" [sp_len, C],
// "score.weight" [K, C], "score.bias" [K] for probe). The base model is not copied: it is read from
// base_model (or --base) at load time. The saved tensors are written from the weights at the moment of
// saving (a copy on disk, unlike the reference's "best checkpoint", which aliased the live weights).
import Foundation
import Runtime

public struct PTECBundle {
    public let model: PTECModel
    public let tokenizer: Tokenizer
    public var config: PTECConfig { model.config }

    /// A text's tokens as the reference encodes it (special tokens included). Past max_length the
    /// beginning goes (after a leading BOS): the head reads the last token, and the reference's texts
    /// end with their instruction ("… This message classifies into the following types of hate speech:").
    public func encode(_ text: String) throws -> [Int] {
        let ids = try tokenizer.encode(text).ids
        guard ids.count > config.maxLength else { return ids }
        let head = ids.first.map { $0 == tokenizer.bosId ? [$0] : [] } ?? []
        return head + ids.suffix(config.maxLength - head.count)
    }

    /// lh: the training query `encode(text + " ")`, cut to max_length.
    public func encodeQuery(_ text: String) throws -> [Int] { try encode(text + " ") }

    /// lh: the target "label; label" (labels in `order`) + EOS, without special tokens of its own.
    public func encodeTarget(_ labels: [String], order: [String: Int]) throws -> [Int] {
        guard let eos = tokenizer.eosId else { throw PTECError("the tokenizer names no EOS token") }
        let sorted = labels.sorted { (order[$0] ?? .max, $0) < (order[$1] ?? .max, $1) }
        return try tokenizer.encode(sorted.joined(separator: config.separator), addSpecialTokens: false).ids + [eos]
    }
}

public enum PTECModelFiles {
    public static let configName = "ptec.json", tensorsName = "ptec.safetensors"

    /// A new model on `config.baseModel`: the backbone frozen, the soft prompt initialised as the
    /// reference does (`promptInit`), a new head (N(0, 0.02²)).
    public static func fresh(_ config: PTECConfig, promptInit: PromptInit, seed: UInt64) throws -> PTECBundle {
        try config.validate()
        let loaded = try ModelRegistry.load(path: config.baseModel)
        let d = loaded.backbone.descriptor
        guard d.kind == .decoder || config.head == .probe else {
            throw PTECError("\(config.head.rawValue) needs a decoder (its last token reads the whole text); \(d.modelType) is an encoder — use --head probe")
        }
        if config.head == .lh && !loaded.backbone.hasLMHead { throw PTECError("--head lh needs a language-model head; \(d.modelType) has none") }
        let prompt = try initialPrompt(promptInit, config: config, backbone: loaded.backbone, tokenizer: loaded.tokenizer, seed: seed)
        let model = PTECModel(backbone: loaded.backbone, config: config, softPrompt: prompt, generator: RandomGenerator(seed: seed, stream: 0x5C0_4E))
        return PTECBundle(model: model, tokenizer: loaded.tokenizer)
    }

    public static func isModel(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(configName))
    }

    public static func readConfig(_ directory: String) throws -> PTECConfig {
        let path = (directory as NSString).appendingPathComponent(configName)
        return try PTECConfig(json: try ConfigFile.read(path).json(), path: path)
    }

    /// A saved model; `base` overrides the base model path it names.
    public static func load(directory: String, base: String? = nil) throws -> PTECBundle {
        var c = try readConfig(directory)
        if let base { c.baseModel = base }
        let loaded: ModelRegistry.Loaded
        // A GGUF base stays quantized: prediction multiplies its blocks (tiles expanded per pass).
        do { loaded = try ModelRegistry.load(path: c.baseModel, options: BackboneOptions(keepQuantized: true)) } catch {
            throw PTECError("the base model of \(directory) (\(c.baseModel)): \(error) — give --base PATH if it moved")
        }
        let width = loaded.backbone.descriptor.hiddenSize
        let model = PTECModel(backbone: loaded.backbone, config: c, softPrompt: Tensor.zeros([c.spLen, width]), generator: RandomGenerator(seed: 0, stream: 0))
        let path = (directory as NSString).appendingPathComponent(tensorsName)
        let file = try SafeTensorsFile(path: path)
        for (name, t) in model.trainedTensors {
            guard file.info(name) != nil else { throw CheckpointError(path, "no '\(name)' tensor") }
            let v = try file.tensor(name)
            guard v.shape == t.shape else { throw CheckpointError(path, "'\(name)' is \(v.shape), the model on \(c.baseModel) needs \(t.shape)") }
            t.assign(v)
        }
        model.eval()
        return PTECBundle(model: model, tokenizer: loaded.tokenizer)
    }

    /// Writes ptec.safetensors, then ptec.json (each atomically).
    public static func save(_ bundle: PTECBundle, to directory: String) throws {
        try save(config: bundle.config, tensors: bundle.model.trainedTensors, to: directory)
    }

    public static func save(config: PTECConfig, tensors: [(String, Tensor)], to directory: String) throws {
        try writeSafeTensors(tensors, metadata: ["format": "pt", "producer": "ptec"], to: (directory as NSString).appendingPathComponent(tensorsName))
        try saveConfig(config, to: directory)
    }

    public static func saveConfig(_ config: PTECConfig, to directory: String) throws {
        var w = JSONWriter()
        w.write(config.json)
        let path = (directory as NSString).appendingPathComponent(configName)
        try writeAtomically(to: path) { fd in try w.bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, path) } }
    }
}

/// How the soft prompt starts (PromptEncoder.random_init): `labels` — the embeddings of the tokens of
/// all label names joined by spaces (with the tokenizer's special tokens, as `encode` adds them),
/// padded with ids 1000, 1001, … when shorter than sp_len, or a random subset in random order when
/// longer; `fixed` — ids 1000 … 1000+sp_len−1 (the reference calls it "random"; it is not).
public enum PromptInit: String, Sendable, CaseIterable { case labels, fixed }

func initialPrompt(_ kind: PromptInit, config: PTECConfig, backbone: Backbone, tokenizer: Tokenizer, seed: UInt64) throws -> Tensor {
    let sp = config.spLen, vocab = backbone.descriptor.vocabSize
    guard sp > 0 && config.head != .probe else { return Tensor.zeros([0, backbone.descriptor.hiddenSize]) }
    var ids: [Int]
    switch kind {
    case .fixed:
        ids = Array(1000..<(1000 + sp))
    case .labels:
        let all = try tokenizer.encode(config.labels.joined(separator: " ")).ids
        if all.count < sp {
            ids = all + Array(1000..<(1000 + sp - all.count))
        } else if all.count > sp {
            ids = RandomGenerator(seed: seed, stream: 0x5B_1417).permutation(all.count).prefix(sp).map { all[$0] }
        } else {
            ids = all
        }
    }
    guard let bad = ids.first(where: { $0 >= vocab }) else {
        return withoutGrad { backbone.embed(ids, batch: 1).reshaped([sp, backbone.descriptor.embeddingSize]).copy() }
    }
    throw PTECError("the soft prompt's initial token \(bad) is past the model's \(vocab) embeddings: give a shorter --sp-len")
}

extension PTECBundle {
    /// The model deciding with one threshold for every label from now on.
    public func with(threshold: Double) -> PTECBundle {
        var c = config
        (c.threshold, c.thresholds) = (threshold, nil)
        model.config = c
        return self
    }
}
