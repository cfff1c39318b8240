// A prokd tagger's settings as saved in prokd.json: the tag set (IOB2, "O" first), the base encoder it
// was fine-tuned from, how inputs are cut, which of the base's layers were trained, and what it is
// (a teacher trained on labelled source data, or a student distilled on unlabelled target data).
import Runtime

public struct ProKDError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

public enum TaggerRole: String, Sendable { case teacher, student }

/// Prototype classes: the 9 IOB2 tags as they are, or the 5 coarse classes (O, PER, ORG, LOC, MISC),
/// B- and I- of a type merged.
public enum PrototypeGranularity: String, Sendable, CaseIterable { case tags, types }

/// How PST measures a token's distance to a prototype: squared Euclidean, or 1 − cosine.
public enum PrototypeDistance: String, Sendable, CaseIterable { case l2, cosine }

public struct ProKDConfig: Sendable, Equatable {
    public var tags: [String]
    public var baseModel: String
    public var maxLength: Int
    /// Embeddings and the layers below this index stay as the base has them (TSL's
    /// freeze_bottom_layer 3); the layers above, the final norm (decoders) and the classifier train.
    public var freezeBottom: Int
    public var role: TaggerRole
    /// Dropout before the classifier (BertForTokenClassification's hidden_dropout_prob).
    public var classifierDropout: Float = 0.1

    public init(tags: [String], baseModel: String, maxLength: Int, freezeBottom: Int, role: TaggerRole) {
        (self.tags, self.baseModel, self.maxLength, self.freezeBottom, self.role) = (tags, baseModel, maxLength, freezeBottom, role)
    }

    public func validate() throws {
        guard tags.count >= 2 else { throw ProKDError("at least 2 tags are needed, got \(tags.count)") }
        guard Set(tags).count == tags.count else { throw ProKDError("the tags repeat one: \(tags)") }
        if let bad = tags.first(where: { $0 != "O" && !($0.hasPrefix("B-") || $0.hasPrefix("I-")) }) {
            throw ProKDError("tag '\(bad)' is not IOB2 (O, B-TYPE, I-TYPE)")
        }
        guard maxLength >= 2, freezeBottom >= 0, (0..<1).contains(classifierDropout) else {
            throw ProKDError("max_length must be at least 2, freeze_bottom not negative, classifier_dropout in [0, 1)")
        }
    }

    public var json: JSONValue {
        .object(JSONObject([("producer", JSONValue.string("prokd")), ("role", .string(role.rawValue)),
                            ("tags", .array(tags.map { .string($0) })), ("base_model", .string(baseModel)),
                            ("max_length", .number(JSONNumber(maxLength))), ("freeze_bottom", .number(JSONNumber(freezeBottom))),
                            ("classifier_dropout", .number(JSONNumber(classifierDropout)!))].map { .init(key: $0.0, value: $0.1) }))
    }

    public init(json: JSONValue, path: String) throws {
        func fail(_ what: String) -> Error { CheckpointError(path, what) }
        guard json["producer"]?.stringValue == "prokd" else { throw fail("not written by prokd (no \"producer\": \"prokd\")") }
        guard let r = json["role"]?.stringValue, let role = TaggerRole(rawValue: r) else { throw fail("no valid \"role\"") }
        guard let tags = json["tags"]?.arrayValue?.compactMap(\.stringValue), !tags.isEmpty else { throw fail("no \"tags\" list") }
        guard let base = json["base_model"]?.stringValue else { throw fail("no \"base_model\"") }
        guard let ml = try json["max_length"]?.numberValue?.int(), let fb = try json["freeze_bottom"]?.numberValue?.int() else {
            throw fail("no \"max_length\" or \"freeze_bottom\"")
        }
        self.init(tags: tags, baseModel: base, maxLength: ml, freezeBottom: fb, role: role)
        if let d = try json["classifier_dropout"]?.numberValue?.float() { classifierDropout = d }
        do { try validate() } catch { throw fail("\(error)") }
    }

    /// Each tag's prototype class, and the class names (in order of first appearance over `tags`).
    public func prototypeClasses(_ g: PrototypeGranularity) -> (ofTag: [Int], names: [String]) {
        var names: [String] = [], ofTag: [Int] = []
        for t in tags {
            let name = g == .tags || t == "O" ? t : String(t.dropFirst(2))
            if let i = names.firstIndex(of: name) { ofTag.append(i) } else { names.append(name); ofTag.append(names.count - 1) }
        }
        return (ofTag, names)
    }
}
