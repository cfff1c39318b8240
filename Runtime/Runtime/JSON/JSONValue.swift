// JSONValue: a parsed JSON document (RFC 8259) as a plain enum, objects with their members in order.
//
// Numbers keep the text they were written with (JSONNumber), so 123456789012345678901234567890 and
// 1e999 survive a parse/serialize round trip unchanged; converting to Float, Double or Int is explicit
// and reports a value that does not fit ("number 1e999 out of range for a 32-bit float").
// Parsing lives in JSONParser.swift, serialization in JSONWriter.swift.

/// What went wrong in a JSON text or a conversion; `description` is the short human message.
public struct JSONError: Error, Equatable, CustomStringConvertible {
    public var message: String
    /// 0-based byte offset in the input, when the error has a position.
    public var offset: Int?

    public init(_ message: String, offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }

    /// "expected ',' or '}' at byte 40" (bytes counted from 1, as editors count columns).
    public var description: String {
        guard let offset else { return message }
        return "\(message) at byte \(offset + 1)"
    }
}

public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// "null", "a boolean", "a number", "a string", "an array", "an object": for error messages.
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n } else { return nil } }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }

    /// Member `key` of an object (the last one if the key repeats); nil for a missing key or a non-object.
    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// Element `index` of an array; nil when out of bounds or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }
}

/// A JSON number as written. `text` always matches the RFC 8259 number grammar.
public struct JSONNumber: Equatable, Hashable, Sendable, CustomStringConvertible {
    public let text: String

    /// Checked: nil unless `text` is a valid JSON number ("1", "-0", "1.5e-3"; not "01", "+1", "inf").
    public init?(text: String) {
        var copy = text
        let ok = copy.withUTF8 { JSONScanner.isNumberToken($0) }
        guard ok else { return nil }
        self.text = text
    }

    /// Unchecked: the parser has already validated the spelling.
    init(validatedText: String) { self.text = validatedText }

    public init(_ value: Int) { self.text = String(value) }

    /// Shortest text that reads back as the same Float. Nil for infinity and NaN (no JSON spelling).
    public init?(_ value: Float) {
        guard value.isFinite else { return nil }
        self.text = value.description
    }

    /// Shortest text that reads back as the same Double. Nil for infinity and NaN.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        self.text = value.description
    }

    public var description: String { text }

    /// Nearest Float; throws when the magnitude overflows a 32-bit float (1e999, 1e39).
    public func float() throws -> Float {
        var t = text
        let v = t.withUTF8 { JSONNumbers.parseFloat($0) }
        guard v.isFinite else { throw JSONError("number \(text) out of range for a 32-bit float") }
        return v
    }

    /// Nearest Double; throws when the magnitude overflows a 64-bit float.
    public func double() throws -> Double {
        var t = text
        let v = t.withUTF8 { JSONNumbers.parseDouble($0) }
        guard v.isFinite else { throw JSONError("number \(text) out of range for a 64-bit float") }
        return v
    }

    /// Exact integer value; throws for a fraction (1.5) or a value outside Int's range.
    public func int() throws -> Int {
        var t = text
        return try t.withUTF8 { try JSONNumbers.parseInt($0) }
    }
}

/// An object's members in document order. Keys may repeat (RFC 8259 allows it); lookups take the last.
public struct JSONObject: Equatable, Sendable, ExpressibleByDictionaryLiteral, Sequence {
    public struct Member: Equatable, Sendable {
        public var key: String
        public var value: JSONValue
        public init(key: String, value: JSONValue) { self.key = key; self.value = value }
    }

    public var members: [Member]

    public init(_ members: [Member] = []) { self.members = members }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = elements.map { Member(key: $0.0, value: $0.1) }
    }

    public var count: Int { members.count }
    public var keys: [String] { members.map(\.key) }
    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }

    /// Get: the last member named `key`. Set: replace it in place, or append; nil removes every `key`.
    public subscript(key: String) -> JSONValue? {
        get { members.last(where: { $0.key == key })?.value }
        set {
            guard let newValue else { members.removeAll { $0.key == key }; return }
            if let i = members.lastIndex(where: { $0.key == key }) {
                members[i].value = newValue
            } else {
                members.append(Member(key: key, value: newValue))
            }
        }
    }
}

// MARK: literals, so tests and programs can write `["label": "spam", "score": 0.9]`

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
                     ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
                     ExpressibleByDictionaryLiteral {
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) {
        // invariant: a literal in the source is finite (data goes through init?(_: Float) or JSONNumber(_:)).
        guard let n = JSONNumber(value) else { preconditionFailure("JSONValue: \(value) has no JSON spelling") }
        self = .number(n)
    }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }
}

extension JSONValue {
    /// A Float as a JSON number; nil for infinity and NaN.
    public init?(_ value: Float) {
        guard let n = JSONNumber(value) else { return nil }
        self = .number(n)
    }

    public init(_ value: Int) { self = .number(JSONNumber(value)) }

    /// A Double as a JSON number, or null for infinity and NaN (run options, scores in reports).
    public static func finite(_ value: Double) -> JSONValue { JSONNumber(value).map { .number($0) } ?? .null }

    /// Parse one complete JSON text (surrounding whitespace allowed, nothing else after it).
    public init(parsing bytes: [UInt8], maxDepth: Int = JSONScanner.defaultMaxDepth) throws {
        self = try bytes.withUnsafeBufferPointer { try JSONScanner.parseDocument($0, maxDepth: maxDepth) }
    }

    public init(parsing text: String, maxDepth: Int = JSONScanner.defaultMaxDepth) throws {
        var t = text
        self = try t.withUTF8 { try JSONScanner.parseDocument($0, maxDepth: maxDepth) }
    }
}
