// llmfew.json: everything a saved model's shape and behaviour depend on. Defaults are the reference's
// (main.py): P 16, S 8, 256 channels, depth 3, reduced size 128, kernel 3, dropout 0.1. LoRA r 8, α 32,
// dropout 0.1 on q_proj/v_proj is our choice (the original's LoRA settings are not public; these are
// PEFT's LLaMA targets and the values of the one published derivative).
import Runtime

/// How the decoder takes part: LoRA-adapted (LLMFew), frozen (no adapters), or absent (PTCEnc and the
/// head alone: the "w/o LLM" ablation).
public enum LLMMode: String, Sendable, CaseIterable { case lora, frozen, none }

public struct LLMFewConfig: Sendable, Equatable {
    public var classes: [String]
    public var dimensions: Int
    /// The series length the model takes (shorter series are zero-padded at the end).
    public var length: Int
    public var patchLen = 16
    public var stride = 8
    public var channels = 256
    public var depth = 3
    public var reduced = 128
    public var kernel = 3
    public var dropout: Float = 0.1
    /// The width of the patch embeddings: the decoder's hidden size (or --width without a decoder).
    public var width: Int
    public var llm: LLMMode = .lora
    public var baseModel: String?
    public var loraRank = 8
    public var loraAlpha: Float = 32
    public var loraDropout: Float = 0.1
    public var loraTargets: [String] = ["q_proj", "v_proj"]
    /// The reference's head: Dropout on the logits and a softmax inside the model, so the loss takes a
    /// second softmax.
    public var referenceHead = false

    public init(classes: [String], dimensions: Int, length: Int, width: Int) {
        (self.classes, self.dimensions, self.length, self.width) = (classes, dimensions, length, width)
    }

    public var patches: Int { (try? patchCount(length: length, patch: patchLen, stride: stride)) ?? 0 }
    public var lora: LoRAConfig { LoRAConfig(rank: loraRank, alpha: loraAlpha, dropout: loraDropout, targets: loraTargets) }

    public func validate() throws {
        guard classes.count >= 2 else { throw LLMFewError("at least 2 classes are needed, got \(classes.count)") }
        guard Set(classes).count == classes.count else { throw LLMFewError("the class list repeats a name") }
        guard dimensions >= 1, width >= 1 else { throw LLMFewError("dimensions and width must be at least 1") }
        guard channels >= 1, depth >= 0, depth <= 16, reduced >= 1, kernel >= 1 else {
            throw LLMFewError("PTCEnc needs channels, reduced size and kernel ≥ 1 and a depth in 0…16")
        }
        _ = try patchCount(length: length, patch: patchLen, stride: stride)
        guard (0..<1).contains(dropout) else { throw LLMFewError("dropout must be in [0, 1)") }
        if llm != .none && baseModel == nil { throw LLMFewError("a decoder mode without a base model") }
        if llm == .lora {
            guard loraRank >= 1, loraAlpha > 0, (0..<1).contains(loraDropout), !loraTargets.isEmpty else {
                throw LLMFewError("LoRA needs r ≥ 1, α > 0, a dropout in [0, 1) and at least one target")
            }
        }
    }

    public var json: JSONValue {
        func n(_ i: Int) -> JSONValue { .number(JSONNumber(i)) }
        let o: [(String, JSONValue)] = [
            ("producer", "llmfew"), ("classes", .array(classes.map { .string($0) })), ("dimensions", n(dimensions)),
            ("length", n(length)), ("patch_len", n(patchLen)), ("stride", n(stride)), ("channels", n(channels)),
            ("depth", n(depth)), ("reduced_size", n(reduced)), ("kernel_size", n(kernel)), ("dropout", JSONValue.finite(Double(dropout))),
            ("width", n(width)), ("llm", .string(llm.rawValue)), ("base_model", baseModel.map { .string($0) } ?? .null),
            ("lora_r", n(loraRank)), ("lora_alpha", JSONValue.finite(Double(loraAlpha))), ("lora_dropout", JSONValue.finite(Double(loraDropout))),
            ("lora_targets", .array(loraTargets.map { .string($0) })), ("reference_head", .bool(referenceHead)),
        ]
        return .object(JSONObject(o.map { .init(key: $0.0, value: $0.1) }))
    }

    public init(json: JSONValue, path: String) throws {
        func fail(_ what: String) -> Error { CheckpointError(path, what) }
        func int(_ k: String) throws -> Int {
            guard let v = try json[k]?.numberValue?.int() else { throw fail("no integer \"\(k)\"") }
            return v
        }
        func float(_ k: String) throws -> Float {
            guard let v = try json[k]?.numberValue?.float() else { throw fail("no number \"\(k)\"") }
            return v
        }
        guard let classes = json["classes"]?.arrayValue?.compactMap(\.stringValue), !classes.isEmpty else { throw fail("no \"classes\" list") }
        self.init(classes: classes, dimensions: try int("dimensions"), length: try int("length"), width: try int("width"))
        (patchLen, stride, channels, depth) = (try int("patch_len"), try int("stride"), try int("channels"), try int("depth"))
        (reduced, kernel, dropout) = (try int("reduced_size"), try int("kernel_size"), try float("dropout"))
        guard let m = json["llm"]?.stringValue, let mode = LLMMode(rawValue: m) else { throw fail("no valid \"llm\" (lora, frozen or none)") }
        llm = mode
        baseModel = json["base_model"]?.stringValue
        (loraRank, loraAlpha, loraDropout) = (try int("lora_r"), try float("lora_alpha"), try float("lora_dropout"))
        if let t = json["lora_targets"]?.arrayValue?.compactMap(\.stringValue) { loraTargets = t }
        referenceHead = json["reference_head"]?.boolValue ?? false
        do { try validate() } catch { throw fail("\(error)") }
    }
}
