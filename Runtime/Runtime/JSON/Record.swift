// Record: one JSONL line, an object whose members keep their raw bytes.
//
// The line is parsed once: every member is validated (strict JSON, see JSONParser.swift) and
// remembered as byte ranges of the line, so fields a program never touches pass through byte for
// byte (`1.0`, `1E2`, `-0`, `"\u00e9"`, 30-digit integers). Typed accessors (Record+Accessors.swift)
// read a member on demand and throw a RecordError naming the field. Setters replace a member in place
// or append a new one; serializing writes `{`, the members in their original order, the appended
// ones, `}`, compact (whitespace between members is dropped, inside an untouched value it stays).
// Lookups take the last member of a repeated key (as JSON.parse and jq do); setters replace that one.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A record-level problem; `message` is what the runner prints after `program:FILE:LINE: `.
public struct RecordError: Error, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    /// "field 'text': expected a string, got a number".
    public static func field(_ key: String, _ problem: String) -> RecordError {
        RecordError("field '\(key)': \(problem)")
    }

    public static func missing(_ key: String) -> RecordError { RecordError("missing field '\(key)'") }

    public var description: String { message }
}

public struct Record: Sendable {
    /// The line as read (without its newline); empty for a record built in code.
    public let line: [UInt8]
    var members: [Member]

    struct Member {
        /// The key's content (between the quotes) in `line`; -1 for an appended member.
        var keyStart: Int
        var keyEnd: Int
        /// The decoded key, kept when the raw key has escapes or the member was appended.
        var key: String?
        /// The raw value in `line`, used while `replacement` is nil.
        var valueStart: Int
        var valueEnd: Int
        var replacement: [UInt8]?
    }

    /// An empty object, `{}`.
    public init() {
        line = []
        members = []
    }

    /// Parse one line. Throws RecordError: "expected a JSON object", or the JSON error with its byte.
    public init(parsing line: [UInt8], maxDepth: Int = JSONScanner.defaultMaxDepth) throws {
        self.line = line
        self.members = try line.withUnsafeBufferPointer { try Record.parseMembers($0, maxDepth: maxDepth) }
    }

    public init(parsing text: String) throws {
        try self.init(parsing: Array(text.utf8))
    }

    /// A record holding `object`'s members, in order.
    public init(_ object: JSONObject) {
        self.init()
        for m in object.members {
            var w = JSONWriter()
            w.write(m.value)
            members.append(Member(keyStart: -1, keyEnd: -1, key: m.key, valueStart: 0, valueEnd: 0, replacement: w.bytes))
        }
    }

    static func parseMembers(_ b: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws -> [Member] {
        var s = JSONScanner(b, maxDepth: maxDepth)
        s.skipWhitespace()
        guard s.pos < b.count, b[s.pos] == UInt8(ascii: "{") else { throw notAnObject(b) }
        var members: [Member] = []
        do {
            s.pos += 1
            s.skipWhitespace()
            if s.pos < b.count && b[s.pos] == UInt8(ascii: "}") {
                s.pos += 1
            } else {
                while true {
                    guard s.pos < b.count, b[s.pos] == UInt8(ascii: "\"") else { throw s.expected("a member name") }
                    let keyStart = s.pos + 1
                    let escaped = try s.scanString()
                    let keyEnd = s.pos - 1
                    try s.expectColon()
                    let valueStart = s.pos
                    try s.skipValue(depth: 1)
                    members.append(Member(
                        keyStart: keyStart, keyEnd: keyEnd,
                        key: escaped ? JSONScanner.decodeString(b, keyStart, keyEnd, escaped: true) : nil,
                        valueStart: valueStart, valueEnd: s.pos, replacement: nil))
                    if try s.endOfObject() { break }
                }
            }
            s.skipWhitespace()
            if s.pos < b.count { throw s.trailing() }
        } catch let e as JSONError {
            throw RecordError(e.description)
        }
        return members
    }

    /// "expected a JSON object, got an array" for valid JSON of another kind; otherwise the position.
    static func notAnObject(_ b: UnsafeBufferPointer<UInt8>) -> RecordError {
        if let v = try? JSONScanner.parseDocument(b, maxDepth: JSONScanner.defaultMaxDepth) {
            return RecordError("expected a JSON object, got \(v.kindDescription)")
        }
        var s = JSONScanner(b)
        s.skipWhitespace()
        if s.pos < b.count, b[s.pos] >= 0x80, JSONScanner.utf8Length(b, s.pos) == 0 {
            return RecordError(JSONError("invalid UTF-8", offset: s.pos).description)
        }
        return RecordError(JSONError("expected a JSON object", offset: s.pos).description)
    }

    // MARK: lookup

    /// Index of the last member named `key`.
    func index(of key: String) -> Int? {
        var k = key
        return k.withUTF8 { ku in
            line.withUnsafeBufferPointer { lb in
                var i = members.count - 1
                while i >= 0 {
                    let m = members[i]
                    if let mk = m.key {
                        if mk == key { return i }
                    } else if m.keyEnd - m.keyStart == ku.count  // invariant: a member with a raw key lies in a non-empty line
                                && (ku.count == 0 || memcmp(lb.baseAddress! + m.keyStart, ku.baseAddress!, ku.count) == 0) {
                        return i
                    }
                    i -= 1
                }
                return nil
            }
        }
    }

    /// The member names in output order (decoded).
    public var keys: [String] {
        line.withUnsafeBufferPointer { lb in
            members.map { $0.key ?? JSONScanner.decodeString(lb, $0.keyStart, $0.keyEnd, escaped: false) }
        }
    }

    public func has(_ key: String) -> Bool { index(of: key) != nil }

    /// Calls `body` with the raw JSON text of member `i`.
    func withRawValue<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let m = members[i]
        if let r = m.replacement { return try r.withUnsafeBufferPointer(body) }
        return try line.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[m.valueStart..<m.valueEnd])) }
    }

    /// The member's JSON text exactly as it will be written (raw bytes for untouched members).
    public func rawValue(_ key: String) -> [UInt8]? {
        guard let i = index(of: key) else { return nil }
        return withRawValue(i) { Array($0) }
    }

    // MARK: setters

    /// Replace member `key` (the last one of that name) with JSON text, or append it. `json` must be a
    /// valid JSON value; the typed setters below produce it.
    mutating func setRaw(_ key: String, _ json: [UInt8]) {
        if let i = index(of: key) {
            members[i].replacement = json
        } else {
            members.append(Member(keyStart: -1, keyEnd: -1, key: key, valueStart: 0, valueEnd: 0, replacement: json))
        }
    }

    /// Set a member to any JSON value (numbers keep their text).
    public mutating func set(_ key: String, _ value: JSONValue) {
        var w = JSONWriter()
        w.write(value)
        setRaw(key, w.bytes)
    }

    public mutating func set(_ key: String, string: String) {
        var w = JSONWriter(capacity: string.utf8.count + 2)
        w.write(string: string)
        setRaw(key, w.bytes)
    }

    public mutating func set(_ key: String, strings: [String]) {
        var w = JSONWriter()
        w.write(strings: strings)
        setRaw(key, w.bytes)
    }

    public mutating func set(_ key: String, bool: Bool) {
        var w = JSONWriter(capacity: 5)
        w.write(bool: bool)
        setRaw(key, w.bytes)
    }

    public mutating func set(_ key: String, int: Int) {
        var w = JSONWriter(capacity: 20)
        w.write(int: int)
        setRaw(key, w.bytes)
    }

    public mutating func set(_ key: String, ints: [Int]) {
        var w = JSONWriter(capacity: ints.count * 6 + 2)
        w.write(ints: ints)
        setRaw(key, w.bytes)
    }

    /// Throws "field 'x': non-finite value cannot be written as JSON" for infinity or NaN.
    public mutating func set(_ key: String, float: Float) throws {
        guard float.isFinite else { throw RecordError.field(key, "non-finite value cannot be written as JSON") }
        var w = JSONWriter(capacity: 16)
        w.write(float: float)
        setRaw(key, w.bytes)
    }

    public mutating func set(_ key: String, double: Double) throws {
        guard double.isFinite else { throw RecordError.field(key, "non-finite value cannot be written as JSON") }
        var w = JSONWriter(capacity: 24)
        w.write(double: double)
        setRaw(key, w.bytes)
    }

    /// The fast path for embeddings and probabilities: shortest round-trip text per float.
    public mutating func set(_ key: String, floats: UnsafeBufferPointer<Float>) throws {
        for x in floats where !x.isFinite {
            throw RecordError.field(key, "non-finite value cannot be written as JSON")
        }
        var w = JSONWriter(capacity: floats.count * 12 + 2)
        w.write(floats: floats)
        setRaw(key, w.bytes)
    }

    public mutating func set(_ key: String, floats: [Float]) throws {
        try floats.withUnsafeBufferPointer { try set(key, floats: $0) }
    }

    /// Remove every member named `key` (no-op when absent).
    public mutating func remove(_ key: String) {
        while let i = index(of: key) { members.remove(at: i) }
    }

    // MARK: serializing

    /// Append the record's compact JSON text (no newline).
    public func write(to w: inout JSONWriter) {
        line.withUnsafeBufferPointer { lb in
            w.append(byte: UInt8(ascii: "{"))
            for (i, m) in members.enumerated() {
                if i > 0 { w.append(byte: UInt8(ascii: ",")) }
                if m.keyStart >= 0 {
                    w.append(raw: UnsafeBufferPointer(rebasing: lb[(m.keyStart - 1)..<(m.keyEnd + 1)]))
                } else {
                    w.write(string: m.key!)  // invariant: an appended member (keyStart -1) always has its key
                }
                w.append(byte: UInt8(ascii: ":"))
                if let r = m.replacement {
                    r.withUnsafeBufferPointer { w.append(raw: $0) }
                } else {
                    w.append(raw: UnsafeBufferPointer(rebasing: lb[m.valueStart..<m.valueEnd]))
                }
            }
            w.append(byte: UInt8(ascii: "}"))
        }
    }

    public var serialized: [UInt8] {
        var w = JSONWriter(capacity: line.count + 16)
        write(to: &w)
        return w.bytes
    }

    /// The compact JSON text as a String.
    public var jsonText: String { String(decoding: serialized, as: UTF8.self) }
}
