// What a ptec model is, saved as ptec.json beside ptec.safetensors (the soft prompt and the head):
// the head kind, the labels in head order, the soft prompt's length, the frozen base model it sits
// on, the per-label pos_weight of training, and the decision thresholds (one for all labels, or one
// per label from `ptec tune-thresholds`).
//
//   ch     PTEC: soft prompt → frozen decoder → Linear(C, K, bias: false) on the last token;
//          BCE with pos_weight. Scores are σ(logits).
//   lh     prompt tuning (the baseline): soft prompt → frozen decoder → its own LM head generates
//          "label; label; …<eos>"; weighted token cross-entropy.
//   probe  the reference's CH baseline: frozen mean-pooled final hidden states (no soft prompt) →
//          Linear(C, K) with a bias; BCE without pos_weight.
import Foundation
import Runtime

public struct PTECError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public enum HeadKind: String, Sendable, CaseIterable {
    case ch, lh, probe
}

public struct PTECConfig: Sendable, Equatable {
    public var head: HeadKind
    public var labels: [String]
    public var baseModel: String
    /// Soft-prompt vectors in front of every text (0 for probe).
    public var spLen: Int
    /// Per-label weight of the positive term in the BCE (ch), or of an example's loss (lh).
    public var posWeight: [Float]
    /// σ(logit) above this is a predicted label (the reference: 0.5, strictly above).
    public var threshold: Double = 0.5
    /// Per-label thresholds (tune-thresholds); nil: `threshold` for all.
    public var thresholds: [Double]? = nil
    /// Tokens of text per input (after the soft prompt); longer texts are cut at the end.
    public var maxLength: Int
    /// lh: what separates labels in the generated string.
    public var separator = "; "

    public init(head: HeadKind, labels: [String], baseModel: String, spLen: Int, posWeight: [Float], maxLength: Int) {
        (self.head, self.labels, self.baseModel, self.spLen, self.posWeight, self.maxLength) = (head, labels, baseModel, spLen, posWeight, maxLength)
    }

    public func threshold(for label: Int) -> Double { thresholds?[label] ?? threshold }

    public func validate() throws {
        guard !labels.isEmpty else { throw PTECError("no labels") }
        guard Set(labels).count == labels.count else { throw PTECError("the labels repeat one: \(labels)") }
        guard posWeight.count == labels.count, posWeight.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw PTECError("pos_weight must hold one positive number per label (\(labels.count))")
        }
        guard spLen >= 0, head == .probe || spLen >= 1 || head == .ch else { throw PTECError("sp_len must be at least 1 for lh") }
        guard maxLength >= 1 else { throw PTECError("max_length must be at least 1") }
        guard threshold.isFinite, thresholds.map({ $0.count == labels.count && $0.allSatisfy(\.isFinite) }) ?? true else {
            throw PTECError("thresholds must be finite, one per label")
        }
        if head == .lh {
            guard !separator.isEmpty else { throw PTECError("the separator is empty") }
            if let l = labels.first(where: { $0.contains(separator.trimmingCharacters(in: .whitespaces)) }) {
                throw PTECError("label '\(l)' contains the separator '\(separator)': generated strings could not be split")
            }
        }
    }

    public var json: JSONValue {
        func num(_ x: Double) -> JSONValue { JSONNumber(x).map { .number($0) } ?? .null }
        let o: [(String, JSONValue)] = [
            ("producer", "ptec"), ("head", .string(head.rawValue)), ("labels", .array(labels.map { .string($0) })),
            ("base_model", .string(baseModel)), ("sp_len", .number(JSONNumber(spLen))),
            ("pos_weight", .array(posWeight.map { num(Double($0)) })), ("threshold", num(threshold)),
            ("thresholds", thresholds.map { .array($0.map(num)) } ?? .null), ("max_length", .number(JSONNumber(maxLength))),
            ("separator", .string(separator)),
        ]
        return .object(JSONObject(o.map { .init(key: $0.0, value: $0.1) }))
    }

    public init(json: JSONValue, path: String) throws {
        func fail(_ what: String) -> Error { CheckpointError(path, what) }
        guard let h = json["head"]?.stringValue, let head = HeadKind(rawValue: h) else { throw fail("no valid \"head\" (ch, lh or probe)") }
        guard let labels = json["labels"]?.arrayValue?.compactMap(\.stringValue), !labels.isEmpty else { throw fail("no \"labels\" list") }
        guard let base = json["base_model"]?.stringValue else { throw fail("no \"base_model\"") }
        guard let sp = try json["sp_len"]?.numberValue?.int() else { throw fail("no \"sp_len\"") }
        guard let ml = try json["max_length"]?.numberValue?.int() else { throw fail("no \"max_length\"") }
        guard let pw = try json["pos_weight"]?.arrayValue?.map({ v -> Float in
            guard let x = try v.numberValue?.float() else { throw fail("pos_weight holds a non-number") }
            return x
        }) else { throw fail("no \"pos_weight\"") }
        self.init(head: head, labels: labels, baseModel: base, spLen: sp, posWeight: pw, maxLength: ml)
        if let t = try json["threshold"]?.numberValue?.double() { threshold = t }
        if let ts = json["thresholds"]?.arrayValue {
            thresholds = try ts.map { v in
                guard let x = try v.numberValue?.double() else { throw fail("thresholds holds a non-number") }
                return x
            }
        }
        if let s = json["separator"]?.stringValue { separator = s }
        do { try validate() } catch { throw fail("\(error)") }
    }
}
