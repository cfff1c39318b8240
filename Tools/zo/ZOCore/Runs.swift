// A run's description (zo_model.json): the base model, the task and scheme, the update rule; building
// the task model from it; saving and loading what a run trained; and replaying a ZO trajectory from
// the base weights alone (Trajectory.swift).
import Foundation
import Runtime

public struct RunSpec: Sendable {
    public var base: String
    public var scheme = SchemeOptions()
    public var template = "{text} It was"
    public var verbalizer = ["terrible", "great"]
    public var classes = 2
    public var maxLength = 128
    public var seed: UInt64 = 0
    public init(base: String) { self.base = base }

    public var json: JSONValue {
        var o: JSONObject = [
            "base": .string(base), "scheme": .string(scheme.scheme.rawValue),
            "lora_rank": .number(JSONNumber(scheme.loraRank)), "lora_alpha": .number(JSONNumber(scheme.loraAlpha)!),
            "prefix_tokens": .number(JSONNumber(scheme.prefixTokens)), "prompt_tokens": .number(JSONNumber(scheme.promptTokens)),
            "template": .string(template), "verbalizer": .array(verbalizer.map { .string($0) }),
            "classes": .number(JSONNumber(classes)), "max_length": .number(JSONNumber(maxLength)),
            "seed": .number(JSONNumber(Int(seed))),
        ]
        if let targets = scheme.loraTargets { o.members.append(.init(key: "lora_targets", value: .array(targets.map { .string($0) }))) }
        return .object(o)
    }

    public init(json j: JSONValue) throws {
        guard let base = j["base"]?.stringValue, let s = j["scheme"]?.stringValue, let scheme = Scheme(rawValue: s) else {
            throw DataError(description: "zo_model.json: missing base or scheme")
        }
        self.base = base
        self.scheme.scheme = scheme
        func int(_ k: String) -> Int? { (try? j[k]?.numberValue?.int()) ?? nil }
        if let v = int("lora_rank") { self.scheme.loraRank = v }
        if let v = try? j["lora_alpha"]?.numberValue?.float() { self.scheme.loraAlpha = v }
        if let v = j["lora_targets"]?.arrayValue?.compactMap(\.stringValue) { self.scheme.loraTargets = v }
        if let v = int("prefix_tokens") { self.scheme.prefixTokens = v }
        if let v = int("prompt_tokens") { self.scheme.promptTokens = v }
        if let v = j["template"]?.stringValue { template = v }
        if let v = j["verbalizer"]?.arrayValue?.compactMap(\.stringValue) { verbalizer = v }
        if let v = int("classes") { classes = v }
        if let v = int("max_length") { maxLength = v }
        if let v = int("seed") { seed = UInt64(v) }
        try validate()
    }

    /// Sizes a spec read from a file must have (errors, not traps, further down).
    public func validate() throws {
        func check(_ ok: Bool, _ what: String) throws { if !ok { throw DataError(description: "zo_model.json: \(what)") } }
        try check(scheme.loraRank >= 1 && scheme.loraAlpha.isFinite, "lora_rank must be at least 1 and lora_alpha finite")
        try check(scheme.prefixTokens >= 1 && scheme.promptTokens >= 1, "prefix_tokens and prompt_tokens must be at least 1")
        try check(classes >= 2, "classes must be at least 2")
        try check(maxLength >= 2, "max_length must be at least 2")
        try check(!verbalizer.isEmpty, "the verbalizer needs a word per class")
    }
}

/// The task model for a spec: a decoder (directory or GGUF) as a prompt classifier, or an encoder with
/// a head. The same spec always builds the same initial trainable values.
public func buildTask(_ spec: RunSpec) throws -> TaskModel {
    let loaded = try ModelRegistry.load(path: spec.base)
    switch loaded.backbone.descriptor.kind {
    case .decoder:
        return try CausalTask(model: loaded.backbone, tokenizer: loaded.tokenizer, template: spec.template,
                              verbalizer: spec.verbalizer, options: spec.scheme, seed: spec.seed)
    case .encoder:
        return try EncoderTask(encoder: loaded.backbone, tokenizer: loaded.tokenizer, classes: spec.classes,
                               options: spec.scheme, maxLength: spec.maxLength, seed: spec.seed)
    }
}

/// Writes zo_model.json and trained.safetensors (the trained tensors by name; for full fine-tuning,
/// the whole model), and for LoRA also PEFT's adapter files.
public func saveRun(_ task: TaskModel, spec: RunSpec, to dir: String, extra: [String: JSONValue] = [:]) throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try writeSafeTensors(task.trainable, metadata: ["format": "pt", "producer": "zo"], to: dir + "/trained.safetensors")
    var o = spec.json.objectValue ?? JSONObject()
    for (k, v) in extra.sorted(by: { $0.key < $1.key }) { o.members.append(.init(key: k, value: v)) }
    var w = JSONWriter()
    w.write(.object(o))
    try writeFile(w.bytes, to: dir + "/zo_model.json")
    if spec.scheme.scheme == .lora {
        try task.module.saveLoRA(LoRAConfig(rank: spec.scheme.loraRank, alpha: spec.scheme.loraAlpha), to: dir + "/adapter",
                                 baseModel: spec.base)
    }
}

/// A trained run (a directory with zo_model.json), or a plain model for zero-shot evaluation.
public func loadRun(_ path: String, fallback: RunSpec) throws -> (TaskModel, RunSpec) {
    let specPath = path + "/zo_model.json"
    guard FileManager.default.fileExists(atPath: specPath) else { return (try buildTask(fallback), fallback) }
    guard let data = FileManager.default.contents(atPath: specPath) else { throw CheckpointError(specPath, "cannot read") }
    let spec: RunSpec
    do { spec = try RunSpec(json: try JSONValue(parsing: [UInt8](data))) } catch { throw CheckpointError(specPath, "\(error)") }
    let task = try buildTask(spec)
    let file = try SafeTensorsFile(path: path + "/trained.safetensors")
    for (name, t) in task.trainable {
        let src = try file.tensor(name)
        guard src.shape == t.shape else { throw CheckpointError(file.path, "'\(name)' has shape \(src.shape), expected \(t.shape)") }
        t.assign(src)
    }
    return (task, spec)
}
