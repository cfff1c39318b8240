// An ls-llama model directory: ls_llama.json (LSConfig.swift), and the adapter and head in PEFT's
// format (adapter_config.json with task_type SEQ_CLS or TOKEN_CLS and modules_to_save ["score"] or
// ["classifier"]; adapter_model.safetensors with "base_model.model.…lora_A/B.weight" and
// "base_model.model.score.weight"), so PEFT loads it onto the same base model
// (PeftModel.from_pretrained(LlamaForSequenceClassification…, dir); decoders only: an encoder's names
// lack the bert. prefix and its head reads [CLS] without the pooler). The base model is not
// copied: it is read from base_model (or --base) at load time.
import Foundation
import Runtime

public struct LSBundle {
    public let model: LabelSupervisedModel
    public let tokenizer: Tokenizer
    public var config: LSConfig { model.config }
    public var encoder: LSEncoder { LSEncoder(tokenizer: tokenizer, maxLength: config.maxLength) }
    public var padId: Int { model.backbone.descriptor.padId ?? 0 }
}

public enum LSModelFiles {
    public static let configName = "ls_llama.json"

    /// A new model on the base at `config.baseModel`: LoRA adapters added (everything else frozen),
    /// a new head; both drawn from `seed`.
    /// `adjust` sets what depends on the model's kind (the default pooling).
    public static func fresh(_ config: LSConfig, seed: UInt64, adjust: (inout LSConfig, BackboneKind) -> Void = { _, _ in }) throws -> LSBundle {
        let loaded = try ModelRegistry.load(path: config.baseModel)
        var config = config
        adjust(&config, loaded.backbone.descriptor.kind)
        try config.validate()
        try check(config, loaded.backbone.descriptor)
        if loaded.backbone.descriptor.kind == .encoder && config.loraTargets == ["q_proj", "v_proj"] {
            config.loraTargets = loaded.backbone.descriptor.attentionProjections
        }
        let model = LabelSupervisedModel(backbone: loaded.backbone, config: config, generator: RandomGenerator(seed: seed, stream: 0x15_11EAD))
        let lora = config.lora
        let adapted = model.backbone.addLoRA(lora, generator: RandomGenerator(seed: seed, stream: 0x10_8A))
        guard !adapted.isEmpty else {
            throw LSLlamaError("no module of \(config.baseModel) matches the LoRA targets \(lora.targets) (this model's attention projections are \(loaded.backbone.descriptor.attentionProjections))")
        }
        model.head.unfreeze()
        return LSBundle(model: model, tokenizer: loaded.tokenizer)
    }

    /// What the config asks of the model: an encoder has no causal mask to remove, inputs must fit its
    /// positions, a start layer must exist.
    static func check(_ config: LSConfig, _ d: BackboneDescriptor) throws {
        if d.kind == .encoder && config.unmasked { throw LSLlamaError("--unmasked removes a decoder's causal mask; \(d.modelType) is an encoder") }
        if let p = d.maxPositions, config.maxLength > p {
            throw LSLlamaError("max_length \(config.maxLength) is past the model's \(p) positions: give --max-length \(p) or less")
        }
        if let l = config.bidirectionalFrom, l > d.layers { throw LSLlamaError("bidirectional_from \(l) is past the model's \(d.layers) layers") }
    }

    public static func isModel(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(configName))
    }

    /// A saved model; `base` overrides the base model path it names.
    public static func load(directory: String, base: String? = nil) throws -> LSBundle {
        let path = (directory as NSString).appendingPathComponent(configName)
        let config = try LSConfig(json: try ConfigFile.read(path).json(), path: path)
        var c = config
        if let base { c.baseModel = base }
        let loaded: ModelRegistry.Loaded
        // A GGUF base stays quantized: prediction multiplies its blocks (tiles expanded per pass).
        do { loaded = try ModelRegistry.load(path: c.baseModel, options: BackboneOptions(keepQuantized: true)) } catch {
            throw LSLlamaError("the base model of \(directory) (\(c.baseModel)): \(error) — give --base PATH if it moved")
        }
        try check(c, loaded.backbone.descriptor)
        let model = LabelSupervisedModel(backbone: loaded.backbone, config: c, generator: RandomGenerator(seed: 0, stream: 0))
        try attach(directory, to: model)
        model.eval()
        return LSBundle(model: model, tokenizer: loaded.tokenizer)
    }

    /// Reads the adapters and the head of a PEFT directory onto `model` (its backbone without adapters).
    public static func attach(_ directory: String, to model: LabelSupervisedModel) throws {
        let name = model.config.headName
        let (_, saved) = try model.backbone.loadAdapter(from: directory)
        var head: [String: Tensor] = [:]
        for (key, t) in saved where key.hasPrefix(name + ".") { head[String(key.dropFirst(name.count + 1))] = t }
        guard !head.isEmpty else {
            throw CheckpointError(directory, "no '\(name)' head among the saved modules (\(saved.keys.sorted().joined(separator: ", ")))")
        }
        do { try model.head.load(state: head) } catch { throw CheckpointError(directory, "the \(name) head: \(error)") }
    }

    /// Writes the adapter, the head and ls_llama.json (each file atomically; ls_llama.json last).
    public static func save(_ bundle: LSBundle, to directory: String) throws {
        let m = bundle.model
        try m.backbone.saveLoRA(m.config.lora, to: directory, baseModel: m.config.baseModel,
                                taskType: m.config.task == .seq ? "SEQ_CLS" : "TOKEN_CLS", modulesToSave: m.headTensors)
        var w = JSONWriter()
        w.write(m.config.json)
        let path = (directory as NSString).appendingPathComponent(configName)
        try writeAtomically(to: path) { fd in try w.bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, path) } }
    }
}
