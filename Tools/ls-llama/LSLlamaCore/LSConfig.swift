// What an ls-llama model is, saved beside its adapter as ls_llama.json: the task (sequence or token
// classification), the labels in head order, the pooling, the attention (causal, unmasked, from which
// layer), the base model it adapts, and the LoRA settings (r 12, α 32, dropout 0.1 on q/v, the
// reference's). The adapter and head themselves are in PEFT's files (adapter_config.json,
// adapter_model.safetensors).
import Foundation
import Runtime

public enum LSTask: String, Sendable, CaseIterable {
    /// One label per text: the head on every position, pooled (LlamaForSequenceClassification).
    case seq
    /// One tag per word, read from its first sub-token (LlamaForTokenClassification).
    case token
}

public struct LSLlamaError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public struct LSConfig: Sendable, Equatable {
    public var task: LSTask
    public var labels: [String]
    /// Sequence head: how the per-position logits become one (last, mean, max; cls for encoders).
    public var pooling: PoolingMode = .last
    /// LS-unLLaMA: decoders attend both ways.
    public var unmasked = false
    /// With `unmasked`: no padding mask either, and mean/max pool over padding (the reference's bugs).
    public var referenceMask = false
    /// With `unmasked`: layers before this stay causal (BiLLM's start layer); nil: all bidirectional.
    public var bidirectionalFrom: Int? = nil
    /// The base model (a directory, a .gguf) as given at training time.
    public var baseModel: String
    /// Tokens per input, special tokens included.
    public var maxLength: Int
    public var loraRank = 12
    public var loraAlpha: Float = 32
    public var loraDropout: Float = 0.1
    public var loraTargets: [String] = ["q_proj", "v_proj"]
    /// Dropout before the token head (the reference's classifier dropout).
    public var headDropout: Float = 0.1

    public init(task: LSTask, labels: [String], baseModel: String, maxLength: Int) {
        (self.task, self.labels, self.baseModel, self.maxLength) = (task, labels, baseModel, maxLength)
    }

    public var lora: LoRAConfig { LoRAConfig(rank: loraRank, alpha: loraAlpha, dropout: loraDropout, targets: loraTargets) }

    /// The head's name in PEFT's files (HF's LlamaForSequenceClassification.score, …TokenClassification.classifier).
    public var headName: String { task == .seq ? "score" : "classifier" }

    public func validate() throws {
        guard labels.count >= 2 else { throw LSLlamaError("at least 2 labels are needed, got \(labels.count)") }
        guard Set(labels).count == labels.count else { throw LSLlamaError("the labels repeat one: \(labels)") }
        guard maxLength >= 2 else { throw LSLlamaError("max_length must be at least 2") }
        guard loraRank >= 1, loraAlpha > 0, (0..<1).contains(loraDropout), (0..<1).contains(headDropout) else {
            throw LSLlamaError("LoRA needs r ≥ 1, α > 0 and dropouts in [0, 1)")
        }
        if let l = bidirectionalFrom, l < 0 { throw LSLlamaError("bidirectional_from must not be negative") }
    }

    public var json: JSONValue {
        var o: [(String, JSONValue)] = [
            ("task", .string(task.rawValue)), ("labels", .array(labels.map { .string($0) })), ("pooling", .string(pooling.rawValue)),
            ("unmasked", .bool(unmasked)), ("reference_mask", .bool(referenceMask)),
            ("bidirectional_from", bidirectionalFrom.map { .number(JSONNumber($0)) } ?? .null),
            ("base_model", .string(baseModel)), ("max_length", .number(JSONNumber(maxLength))),
            ("lora_r", .number(JSONNumber(loraRank))), ("lora_alpha", .number(JSONNumber(loraAlpha)!)),
            ("lora_dropout", .number(JSONNumber(loraDropout)!)), ("lora_targets", .array(loraTargets.map { .string($0) })),
            ("head_dropout", .number(JSONNumber(headDropout)!)),
        ]
        o.insert(("producer", "ls-llama"), at: 0)
        return .object(JSONObject(o.map { .init(key: $0.0, value: $0.1) }))
    }

    public init(json: JSONValue, path: String) throws {
        func fail(_ what: String) -> Error { CheckpointError(path, what) }
        guard let t = json["task"]?.stringValue, let task = LSTask(rawValue: t) else { throw fail("no valid \"task\" (seq or token)") }
        guard let labels = json["labels"]?.arrayValue?.compactMap(\.stringValue), !labels.isEmpty else { throw fail("no \"labels\" list") }
        guard let base = json["base_model"]?.stringValue else { throw fail("no \"base_model\"") }
        guard let ml = try json["max_length"]?.numberValue?.int() else { throw fail("no \"max_length\"") }
        self.init(task: task, labels: labels, baseModel: base, maxLength: ml)
        if let p = json["pooling"]?.stringValue {
            guard let mode = PoolingMode(rawValue: p) else { throw fail("unknown pooling '\(p)'") }
            pooling = mode
        }
        unmasked = json["unmasked"]?.boolValue ?? false
        referenceMask = json["reference_mask"]?.boolValue ?? false
        bidirectionalFrom = try json["bidirectional_from"]?.numberValue?.int()
        if let r = try json["lora_r"]?.numberValue?.int() { loraRank = r }
        if let a = try json["lora_alpha"]?.numberValue?.float() { loraAlpha = a }
        if let d = try json["lora_dropout"]?.numberValue?.float() { loraDropout = d }
        if let t = json["lora_targets"]?.arrayValue?.compactMap(\.stringValue) { loraTargets = t }
        if let d = try json["head_dropout"]?.numberValue?.float() { headDropout = d }
        do { try validate() } catch { throw fail("\(error)") }
    }
}
