// A run's description (zo_model.json): the base model, the task and scheme, the update rule; building
// the task model from it; saving and loading what a run trained; and replaying a ZO trajectory from
// the base weights alone.
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
    var o = spec.json.objectValue!
    for (k, v) in extra.sorted(by: { $0.key < $1.key }) { o.members.append(.init(key: k, value: v)) }
    var w = JSONWriter()
    w.write(.object(o))
    try Data(w.bytes).write(to: URL(fileURLWithPath: dir + "/zo_model.json"), options: .atomic)
    if spec.scheme.scheme == .lora {
        try task.module.saveLoRA(LoRAConfig(rank: spec.scheme.loraRank, alpha: spec.scheme.loraAlpha), to: dir + "/adapter",
                                 baseModel: spec.base)
    }
}

/// A trained run (a directory with zo_model.json), or a plain model for zero-shot evaluation.
public func loadRun(_ path: String, fallback: RunSpec) throws -> (TaskModel, RunSpec) {
    let specPath = path + "/zo_model.json"
    guard FileManager.default.fileExists(atPath: specPath) else { return (try buildTask(fallback), fallback) }
    let spec = try RunSpec(json: try JSONValue(parsing: [UInt8](FileManager.default.contents(atPath: specPath)!)))
    let task = try buildTask(spec)
    let file = try SafeTensorsFile(path: path + "/trained.safetensors")
    for (name, t) in task.trainable {
        let src = try file.tensor(name)
        guard src.shape == t.shape else { throw CheckpointError(file.path, "'\(name)' has shape \(src.shape), expected \(t.shape)") }
        t.assign(src)
    }
    return (task, spec)
}

/// Applies a trajectory (the header's rule and blocks, then one update line per step) to a task model
/// built from the base weights: the same updates, in the same order, with the same arithmetic.
public func replay(_ task: TaskModel, header: JSONValue, steps: [JSONValue]) throws {
    guard let o = header["optimizer"]?.stringValue, let optimizer = ZOOptimizer(rawValue: o), !optimizer.isFirstOrder else {
        throw DataError(description: "trajectory header: no replayable optimizer (first-order runs cannot be replayed)")
    }
    guard header["hybrid_layers"] == nil || header["hybrid_layers"] == .null else {
        throw DataError(description: "a hybrid ZO/FO run cannot be replayed: its first-order updates are not in the trajectory")
    }
    var rule = UpdateRule(optimizer: optimizer)
    if let v = try header["weight_decay"]?.numberValue?.float() { rule.weightDecay = v }
    if let v = try header["momentum"]?.numberValue?.float() { rule.momentum = v }
    if let v = try header["beta1"]?.numberValue?.float() { rule.beta1 = v }
    if let v = try header["beta2"]?.numberValue?.float() { rule.beta2 = v }
    if let v = try header["adam_eps"]?.numberValue?.float() { rule.adamEps = v }
    let params = ZOParameters(task.trainable)
    let names = header["trained"]?.arrayValue?.compactMap(\.stringValue) ?? []
    guard names == params.named.map(\.0) else {
        throw DataError(description: "the trajectory trained other tensors than this base model and scheme give")
    }
    let blocks = try header["blocks"]?.arrayValue?.map { try $0.arrayValue!.map { try $0.numberValue!.int() } } ?? [Array(0..<params.count)]
    if let fr = header["sparsity_fractions"]?.arrayValue, let every = try header["sparsity_every"]?.numberValue?.int(),
       let seed = try header["sparsity_seed"]?.numberValue?.int() {
        params.sparsity = SparsityMasks(fraction: try fr.map { try $0.numberValue!.float() }, every: every, seed: UInt64(seed))
    }
    let state = ZOState()
    for line in steps {
        guard let step = try line["step"]?.numberValue?.int(), let lr = try line["lr"]?.numberValue?.float(),
              let updates = line["updates"]?.arrayValue else { throw DataError(description: "trajectory: malformed step line") }
        params.sparsity?.setStep(step)
        for u in updates {
            let b = try u["block"]!.numberValue!.int()
            let seeds = try u["seeds"]!.arrayValue!.map { UInt64(try $0.numberValue!.int()) }
            let cs = try u["c"]!.arrayValue!.map { try $0.numberValue!.float() }
            let members = b < 0 ? Array(0..<params.count) : blocks[b]
            if let m = try u["m"]?.numberValue?.float() {
                for i in members { applyConservative(params, tensor: i, seed: seeds[0], coefficient: cs[0], lr: lr, multiplier: m) }
            } else {
                for i in members { applyUpdate(params, tensor: i, seeds: seeds, coefficients: cs, lr: lr, rule: rule, state: state) }
            }
        }
    }
}
