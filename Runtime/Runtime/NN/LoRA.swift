// LoRA (Hu et al., 2021) around any Linear, as PEFT does it: y = W x + b + (α/r)·B A dropout(x),
// A ~ U(±1/√in) (kaiming-uniform, a = √5), B = 0, so a fresh adapter changes nothing. Target modules
// are chosen by name (a suffix of the dotted path, or a regular expression matched against the whole
// path); adapting freezes everything else. Adapters merge into the base weight for inference, and
// save and load alone in PEFT's format (adapter_model.safetensors + adapter_config.json).
import Foundation

public struct LoRAConfig: Sendable {
    public var rank: Int = 8
    public var alpha: Float = 16
    public var dropout: Float = 0
    /// Module name suffixes ("q_proj" matches "model.layers.0.self_attn.q_proj"); PEFT's default
    /// for LLaMA-family models is q_proj and v_proj.
    public var targets: [String] = ["q_proj", "v_proj"]
    /// If set, a regular expression that must match a module's whole dotted path (PEFT's string form).
    public var targetPattern: String? = nil

    public init(rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targets: [String] = ["q_proj", "v_proj"],
                targetPattern: String? = nil) {
        (self.rank, self.alpha, self.dropout, self.targets, self.targetPattern) = (rank, alpha, dropout, targets, targetPattern)
    }

    public var scaling: Float { alpha / Float(rank) }

    func matches(_ path: String) -> Bool {
        if let targetPattern {
            guard let re = try? NSRegularExpression(pattern: "^(?:" + targetPattern + ")$") else { return false }
            return re.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
        }
        return targets.contains { path == $0 || path.hasSuffix("." + $0) }
    }
}

/// The adapter of one Linear layer: A [r, in], B [out, r].
public final class LoRA: Module {
    public var a: Tensor
    public var b: Tensor
    public let scaling: Float
    public let dropout: Dropout?
    override public var keyMap: [String: String] { ["a": "lora_A.weight", "b": "lora_B.weight"] }

    public init(inFeatures: Int, outFeatures: Int, rank: Int, alpha: Float, dropout p: Float = 0,
                generator: RandomGenerator = Initializer.generator) {
        precondition(rank > 0, "LoRA: rank must be positive")
        a = Initializer.fanInUniform([rank, inFeatures], fanIn: inFeatures, generator: generator).requiringGrad()
        b = Tensor.zeros([outFeatures, rank]).requiringGrad()
        scaling = alpha / Float(rank)
        dropout = p > 0 ? Dropout(p) : nil
        super.init()
    }

    /// (α/r)·B A dropout(x) for x [..., in].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let h = matmul(dropout.map { $0(x) } ?? x, resolved(a), transposeB: true)
        return scale(matmul(h, resolved(b), transposeB: true), scaling)
    }

    /// The dense update (α/r)·B A [out, in].
    public var delta: Tensor { withoutGrad { scale(matmul(b, a), scaling) } }
}

extension Module {
    /// Adds a LoRA adapter to every Linear whose path matches, and freezes all other parameters.
    /// Returns the adapted module paths.
    @discardableResult
    public func addLoRA(_ config: LoRAConfig, generator: RandomGenerator = Initializer.generator) -> [String] {
        freeze()
        var adapted: [String] = []
        for (path, m) in namedModules() {
            guard let lin = m as? Linear, lin.lora == nil, config.matches(path) else { continue }
            lin.lora = LoRA(inFeatures: lin.inFeatures, outFeatures: lin.outFeatures, rank: config.rank,
                            alpha: config.alpha, dropout: config.dropout, generator: generator)
            adapted.append(path)
        }
        return adapted
    }

    /// Folds every adapter into its base weight (W += (α/r)·B A) and removes it.
    public func mergeLoRA() {
        for (_, m) in namedModules() {
            guard let lin = m as? Linear, let lora = lin.lora else { continue }
            let merged = withoutGrad { lin.weight + lora.delta }
            merged.requiresGrad = lin.weight.requiresGrad
            lin.weight = merged
            lin.lora = nil
        }
    }

    /// The adapters' tensors under their dotted names.
    public func loraState() -> [(String, Tensor)] {
        namedParameters(materializing: false).filter { $0.0.hasSuffix(".lora_A.weight") || $0.0.hasSuffix(".lora_B.weight") }
    }

    /// Writes the adapters alone, in PEFT's layout: adapter_model.safetensors (names prefixed
    /// "base_model.model.") and adapter_config.json.
    /// `modulesToSave`: fully trained modules saved beside the adapters (PEFT's modules_to_save, e.g. a
    /// classification head): tensors by their dotted names, stored as PEFT stores them.
    public func saveLoRA(_ config: LoRAConfig, to directory: String, baseModel: String = "", taskType: String = "CAUSAL_LM",
                         modulesToSave: [(String, Tensor)] = []) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let tensors = (loraState() + modulesToSave).map { ("base_model.model." + $0.0, $0.1) }
        guard !tensors.isEmpty else { throw CheckpointError(directory, "the model has no LoRA adapters to save") }
        try writeSafeTensors(tensors, metadata: ["format": "pt"], to: directory + "/adapter_model.safetensors")
        var modules = Set<String>()
        for (name, _) in loraState() {
            let path = name.replacingOccurrences(of: ".lora_A.weight", with: "").replacingOccurrences(of: ".lora_B.weight", with: "")
            modules.insert(String(path.split(separator: ".").last!))
        }
        let saved = Set(modulesToSave.map { String($0.0.split(separator: ".").dropLast().joined(separator: ".")) })
        let json: JSONValue = .object([
            "peft_type": "LORA", "task_type": .string(taskType), "base_model_name_or_path": .string(baseModel),
            "modules_to_save": saved.isEmpty ? .null : .array(saved.sorted().map { .string($0) }),
            "r": .number(JSONNumber(config.rank)), "lora_alpha": .number(JSONNumber(config.alpha)!),
            "lora_dropout": .number(JSONNumber(config.dropout)!), "bias": "none", "fan_in_fan_out": false,
            "target_modules": .array(modules.sorted().map { .string($0) }), "inference_mode": true,
        ])
        var w = JSONWriter()
        w.write(json)
        try writeAtomically(to: directory + "/adapter_config.json") { fd in
            try w.bytes.withUnsafeBytes { try writeAll(fd, $0.baseAddress!, $0.count, directory) }
        }
    }

    /// Reads adapters saved by `saveLoRA` (or by PEFT) onto this model: adds them where the names
    /// say, then loads their values. Returns the configuration read.
    @discardableResult
    public func loadLoRA(from directory: String) throws -> LoRAConfig {
        let (config, saved) = try loadAdapter(from: directory)
        if let name = saved.keys.sorted().first { throw CheckpointError(directory, "unexpected adapter weight '\(name)'") }
        return config
    }

    /// As loadLoRA, and returns the other tensors of the file (PEFT's modules_to_save, such as a
    /// classification head) by their names in the model ("score.weight"), for the caller to place.
    public func loadAdapter(from directory: String) throws -> (LoRAConfig, [String: Tensor]) {
        let cfgPath = directory + "/adapter_config.json"
        guard let data = FileManager.default.contents(atPath: cfgPath) else { throw CheckpointError(cfgPath, "cannot read") }
        let json = try JSONValue(parsing: [UInt8](data))
        guard let r = try json["r"]?.numberValue?.int(), let alpha = try json["lora_alpha"]?.numberValue?.double() else {
            throw CheckpointError(cfgPath, "missing r or lora_alpha")
        }
        let file = try SafeTensorsFile(path: directory + "/adapter_model.safetensors")
        var paths = Set<String>(), saved: [String: Tensor] = [:]
        for name in file.names {
            var n = name.hasPrefix("base_model.model.") ? String(name.dropFirst("base_model.model.".count)) : name
            for suffix in [".lora_A.weight", ".lora_B.weight", ".lora_A.default.weight", ".lora_B.default.weight"] where n.hasSuffix(suffix) {
                n.removeLast(suffix.count)
                paths.insert(n)
            }
        }
        let dropout = (try json["lora_dropout"]?.numberValue?.double()).map { Float($0) } ?? 0
        let config = LoRAConfig(rank: r, alpha: Float(alpha), dropout: dropout, targets: [], targetPattern: paths.sorted()
            .map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: "|"))
        let adapted = Set(addLoRA(config))
        guard adapted == paths else {
            throw CheckpointError(directory, "adapters for modules this model lacks: \(paths.subtracting(adapted).sorted().prefix(5))")
        }
        let own = Dictionary(uniqueKeysWithValues: loraState())
        for name in file.names {
            let n = (name.hasPrefix("base_model.model.") ? String(name.dropFirst("base_model.model.".count)) : name)
                .replacingOccurrences(of: ".default.weight", with: ".weight")
            guard n.contains(".lora_A.") || n.contains(".lora_B.") else {
                saved[n.replacingOccurrences(of: ".modules_to_save", with: "")] = try file.tensor(name).copy()
                continue
            }
            guard let t = own[n] else { throw CheckpointError(directory, "unexpected adapter weight '\(name)'") }
            let src = try file.tensor(name)
            guard src.shape == t.shape else { throw CheckpointError(directory, "adapter '\(name)' has shape \(src.shape), expected \(t.shape)") }
            t.assign(src)
        }
        return (config, saved)
    }
}
