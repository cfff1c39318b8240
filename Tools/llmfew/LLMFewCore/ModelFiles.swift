// An llmfew model directory: llmfew.json (LLMFewConfig), model.safetensors (PTCEnc, the LayerNorm and
// the head under the reference's state-dict names: encoder.network.…, ln_proj.…, mapping.0.…) and,
// for llm = lora, the adapter in PEFT's format (adapter_config.json, adapter_model.safetensors). The
// base decoder is not copied: it is read from base_model (or --base) at load time.
import Foundation
import Runtime

public enum LLMFewFiles {
    public static let configName = "llmfew.json"
    public static let weightsName = "model.safetensors"

    /// The decoder at `path` (nil for llm = none).
    static func loadBackbone(_ config: LLMFewConfig, keepQuantized: Bool = false) throws -> Backbone? {
        guard config.llm != .none, let base = config.baseModel else { return nil }
        let backbone = try ModelRegistry.loadBackbone(path: base, options: BackboneOptions(keepQuantized: keepQuantized))
        guard backbone.descriptor.kind == .decoder else { throw LLMFewError("\(base) is an encoder (\(backbone.descriptor.modelType)); LLMFew takes a decoder") }
        return backbone
    }

    /// A new model drawn from `seed`: the decoder read (its width becomes the embedding width), LoRA
    /// adapters added (llm = lora) or the decoder frozen (llm = frozen).
    public static func fresh(_ config: LLMFewConfig, seed: UInt64) throws -> LLMFewModel {
        var config = config
        let backbone = try loadBackbone(config)
        if let backbone { config.width = backbone.descriptor.hiddenSize }
        try config.validate()
        if let backbone {
            if let p = backbone.descriptor.maxPositions, config.patches > p {
                throw LLMFewError("\(config.patches) patches per series are past the decoder's \(p) positions")
            }
            if config.llm == .lora {
                var lora = config.lora
                if lora.targets == ["q_proj", "v_proj"] { lora.targets = backbone.descriptor.attentionProjections }
                config.loraTargets = lora.targets
                let adapted = backbone.addLoRA(lora, generator: RandomGenerator(seed: seed, stream: 0x10_8A))
                guard !adapted.isEmpty else {
                    throw LLMFewError("no module of \(config.baseModel ?? "") matches the LoRA targets \(lora.targets)")
                }
            } else {
                backbone.freeze()
            }
        }
        return LLMFewModel(config: config, backbone: backbone, generator: RandomGenerator(seed: seed, stream: 0x11F_E3))
    }

    /// A decoder's hidden size from its config.json or GGUF metadata, without reading its weights (the
    /// width `--llm none` gives its embeddings for a like-for-like ablation).
    public static func decoderWidth(_ path: String) throws -> Int {
        switch try ModelRegistry.locate(path) {
        case .gguf(let p):
            let f = try GGUFFile(path: p)
            let arch = f.metadata["general.architecture"]?.string ?? "llama"
            guard let w = f.metadata[arch + ".embedding_length"]?.int else { throw CheckpointError(p, "no \(arch).embedding_length") }
            return w
        case .directory(let d):
            let c = (d as NSString).appendingPathComponent("config.json")
            guard let w = try ConfigFile.read(c).json()["hidden_size"]?.numberValue?.int() else { throw CheckpointError(c, "no hidden_size") }
            return w
        }
    }

    public static func isModel(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(configName))
    }

    /// A saved model in eval mode; `base` overrides the decoder path it names.
    public static func load(directory: String, base: String? = nil) throws -> LLMFewModel {
        let path = (directory as NSString).appendingPathComponent(configName)
        var config = try LLMFewConfig(json: try ConfigFile.read(path).json(), path: path)
        if let base { config.baseModel = base }
        let backbone: Backbone?
        do { backbone = try loadBackbone(config, keepQuantized: true) } catch {
            throw LLMFewError("the base model of \(directory) (\(config.baseModel ?? "")): \(error) — give --base PATH if it moved")
        }
        if let backbone, backbone.descriptor.hiddenSize != config.width {
            throw CheckpointError(path, "the model was trained on a decoder of width \(config.width); \(config.baseModel ?? "") has \(backbone.descriptor.hiddenSize)")
        }
        let model = LLMFewModel(config: config, backbone: backbone, generator: RandomGenerator(seed: 0, stream: 0))
        let wpath = (directory as NSString).appendingPathComponent(weightsName)
        let file = try SafeTensorsFile(path: wpath)
        var state: [String: Tensor] = [:]
        for name in file.names { state[name] = try file.tensor(name).copy() }
        do { try model.loadOwn(state) } catch { throw CheckpointError(wpath, "\(error)") }
        if config.llm == .lora, let backbone {
            _ = try backbone.loadAdapter(from: directory)
        }
        model.eval()
        return model
    }

    /// Writes the weights, the adapter (llm = lora) and llmfew.json, each atomically, llmfew.json last.
    public static func save(_ model: LLMFewModel, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try writeSafeTensors(model.ownTensors(), metadata: ["producer": "llmfew"], to: (directory as NSString).appendingPathComponent(weightsName))
        if model.config.llm == .lora, let backbone = model.backbone {
            try backbone.saveLoRA(model.config.lora, to: directory, baseModel: model.config.baseModel ?? "", taskType: "FEATURE_EXTRACTION")
        }
        var w = JSONWriter()
        w.write(model.config.json)
        let path = (directory as NSString).appendingPathComponent(configName)
        try writeAtomically(to: path) { fd in try w.bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, path) } }
    }
}
