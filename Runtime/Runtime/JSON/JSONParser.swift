// JSONScanner: a strict RFC 8259 parser over bytes.
//
// Rejects what the RFC rejects and says where: invalid UTF-8 anywhere (overlong forms, encoded
// surrogates, > U+10FFFF), lone surrogates in \u escapes, control characters inside strings, leading
// zeros, "+1", ".5", "NaN", trailing commas, trailing garbage, nesting deeper than `maxDepth` (so a
// hostile line cannot exhaust the stack). Messages are short: "expected ',' or '}' at byte 40".
//
// Two modes share the token scanners: `parseValue` builds a JSONValue; `skipValue` only validates and
// moves past a value, which is what Record uses to keep each member's raw bytes without allocating.

public struct JSONScanner {
    public static let defaultMaxDepth = 512

    let b: UnsafeBufferPointer<UInt8>
    var pos: Int
    let maxDepth: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = JSONScanner.defaultMaxDepth) {
        self.b = bytes
        self.pos = 0
        self.maxDepth = maxDepth
    }

    /// One complete JSON text: optional whitespace, a value, optional whitespace, nothing else.
    static func parseDocument(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws -> JSONValue {
        var s = JSONScanner(bytes, maxDepth: maxDepth)
        s.skipWhitespace()
        let v = try s.parseValue(depth: 0)
        s.skipWhitespace()
        if s.pos < bytes.count { throw s.trailing() }
        return v
    }

    /// True when `bytes` is exactly one JSON number token.
    static func isNumberToken(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var s = JSONScanner(bytes)
        guard let c = bytes.first, c == UInt8(ascii: "-") || isDigit(c) else { return false }
        guard (try? s.scanNumber()) != nil else { return false }
        return s.pos == bytes.count
    }

    // MARK: building values

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard pos < b.count else { throw expected("a value") }
        switch b[pos] {
        case UInt8(ascii: "{"):
            try enter(depth)
            pos += 1
            skipWhitespace()
            var members: [JSONObject.Member] = []
            if pos < b.count && b[pos] == UInt8(ascii: "}") { pos += 1; return .object(JSONObject(members)) }
            while true {
                guard pos < b.count, b[pos] == UInt8(ascii: "\"") else { throw expected("a member name") }
                let start = pos
                let escaped = try scanString()
                let key = JSONScanner.decodeString(b, start + 1, pos - 1, escaped: escaped)
                try expectColon()
                let value = try parseValue(depth: depth + 1)
                members.append(JSONObject.Member(key: key, value: value))
                if try endOfObject() { return .object(JSONObject(members)) }
            }
        case UInt8(ascii: "["):
            try enter(depth)
            pos += 1
            skipWhitespace()
            var elements: [JSONValue] = []
            if pos < b.count && b[pos] == UInt8(ascii: "]") { pos += 1; return .array(elements) }
            while true {
                elements.append(try parseValue(depth: depth + 1))
                if try endOfArray() { return .array(elements) }
            }
        case UInt8(ascii: "\""):
            let start = pos
            let escaped = try scanString()
            return .string(JSONScanner.decodeString(b, start + 1, pos - 1, escaped: escaped))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = pos
            try scanNumber()
            let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<pos]), as: UTF8.self)
            return .number(JSONNumber(validatedText: text))
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: throw expected("a value")
        }
    }

    // MARK: validating without building

    /// Validate the value at `pos` and move past it; `depth` counts the containers already open.
    mutating func skipValue(depth: Int) throws {
        guard pos < b.count else { throw expected("a value") }
        switch b[pos] {
        case UInt8(ascii: "{"):
            try enter(depth)
            pos += 1
            skipWhitespace()
            if pos < b.count && b[pos] == UInt8(ascii: "}") { pos += 1; return }
            while true {
                guard pos < b.count, b[pos] == UInt8(ascii: "\"") else { throw expected("a member name") }
                _ = try scanString()
                try expectColon()
                try skipValue(depth: depth + 1)
                if try endOfObject() { return }
            }
        case UInt8(ascii: "["):
            try enter(depth)
            pos += 1
            skipWhitespace()
            if pos < b.count && b[pos] == UInt8(ascii: "]") { pos += 1; return }
            while true {
                try skipValue(depth: depth + 1)
                if try endOfArray() { return }
            }
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: throw expected("a value")
        }
    }

    // MARK: structure

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < b.count {
            let c = b[pos]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            pos += 1
        }
    }

    @inline(__always)
    func enter(_ depth: Int) throws {
        if depth >= maxDepth { throw JSONError("nesting deeper than \(maxDepth) levels", offset: pos) }
    }

    @inline(__always)
    mutating func expectColon() throws {
        skipWhitespace()
        guard pos < b.count, b[pos] == UInt8(ascii: ":") else { throw expected("':'") }
        pos += 1
        skipWhitespace()
    }

    /// After a member: true at '}', false after ',' (positioned at the next member name).
    @inline(__always)
    mutating func endOfObject() throws -> Bool {
        skipWhitespace()
        guard pos < b.count else { throw expected("',' or '}'") }
        switch b[pos] {
        case UInt8(ascii: ","): pos += 1; skipWhitespace(); return false
        case UInt8(ascii: "}"): pos += 1; return true
        default: throw expected("',' or '}'")
        }
    }

    /// After an element: true at ']', false after ',' (positioned at the next element).
    @inline(__always)
    mutating func endOfArray() throws -> Bool {
        skipWhitespace()
        guard pos < b.count else { throw expected("',' or ']'") }
        switch b[pos] {
        case UInt8(ascii: ","): pos += 1; skipWhitespace(); return false
        case UInt8(ascii: "]"): pos += 1; return true
        default: throw expected("',' or ']'")
        }
    }

    // MARK: tokens

    /// A string starting at the '"' at `pos`; moves past the closing quote. Returns whether it has escapes.
    @inline(__always)
    mutating func scanString() throws -> Bool {
        let start = pos
        pos += 1
        var escaped = false
        while pos < b.count {
            let c = b[pos]
            if c >= 0x20 && c < 0x80 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") { pos += 1; continue }
            if c == UInt8(ascii: "\"") { pos += 1; return escaped }
            if c == UInt8(ascii: "\\") { escaped = true; try scanEscape(); continue }
            if c < 0x20 { throw JSONError("control character \(hex(c)) in string (write it as an escape)", offset: pos) }
            let n = JSONScanner.utf8Length(b, pos)
            if n == 0 { throw JSONError("invalid UTF-8", offset: pos) }
            pos += n
        }
        throw JSONError("unterminated string starting", offset: start)
    }

    mutating func scanEscape() throws {
        let start = pos
        guard pos + 1 < b.count else { throw JSONError("unterminated escape", offset: start) }
        switch b[pos + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            pos += 2
        case UInt8(ascii: "u"):
            let u = try hex4(at: pos + 2)
            pos += 6
            if u >= 0xDC00 && u <= 0xDFFF { throw JSONError("lone surrogate \\u\(hex4Text(u))", offset: start) }
            if u >= 0xD800 && u <= 0xDBFF {
                guard pos + 1 < b.count, b[pos] == UInt8(ascii: "\\"), b[pos + 1] == UInt8(ascii: "u"),
                      let low = try? hex4(at: pos + 2), low >= 0xDC00 && low <= 0xDFFF else {
                    throw JSONError("lone surrogate \\u\(hex4Text(u))", offset: start)
                }
                pos += 6
            }
        default:
            let c = b[pos + 1]
            let shown = c >= 0x20 && c < 0x7F ? "'\\\(Character(Unicode.Scalar(c)))'" : "before byte \(hex(c))"
            throw JSONError("invalid escape \(shown)", offset: start)
        }
    }

    func hex4(at i: Int) throws -> UInt32 {
        guard i + 4 <= b.count else { throw JSONError("truncated \\u escape", offset: i - 2) }
        var v: UInt32 = 0
        for j in i..<(i + 4) {
            let c = b[j]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw JSONError("invalid \\u escape", offset: i - 2)
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? starting at `pos`.
    @inline(__always)
    mutating func scanNumber() throws {
        let start = pos
        if b[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < b.count, JSONScanner.isDigit(b[pos]) else { throw number("expected a digit after '-'") }
        if b[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < b.count && JSONScanner.isDigit(b[pos]) { throw JSONError("leading zero in number", offset: start) }
        } else {
            while pos < b.count && JSONScanner.isDigit(b[pos]) { pos += 1 }
        }
        if pos < b.count && b[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < b.count, JSONScanner.isDigit(b[pos]) else { throw number("expected a digit after '.'") }
            while pos < b.count && JSONScanner.isDigit(b[pos]) { pos += 1 }
        }
        if pos < b.count && (b[pos] == UInt8(ascii: "e") || b[pos] == UInt8(ascii: "E")) {
            pos += 1
            if pos < b.count && (b[pos] == UInt8(ascii: "+") || b[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard pos < b.count, JSONScanner.isDigit(b[pos]) else { throw number("expected a digit in the exponent") }
            while pos < b.count && JSONScanner.isDigit(b[pos]) { pos += 1 }
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let start = pos
        let n = word.utf8CodeUnitCount
        for i in 0..<n {
            guard pos + i < b.count else { throw JSONError("unexpected end of input in literal", offset: b.count) }
            if b[pos + i] != word.utf8Start[i] { throw JSONError("invalid literal", offset: start) }
        }
        pos += n
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    /// Length of the valid UTF-8 sequence (RFC 3629) with a non-ASCII lead byte at `i`; 0 if invalid.
    @inline(__always)
    static func utf8Length(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        let n = b.count
        @inline(__always) func inRange(_ j: Int, _ lo: UInt8, _ hi: UInt8) -> Bool { j < n && b[j] >= lo && b[j] <= hi }
        switch b[i] {
        case 0xC2...0xDF: return inRange(i + 1, 0x80, 0xBF) ? 2 : 0
        case 0xE0: return inRange(i + 1, 0xA0, 0xBF) && inRange(i + 2, 0x80, 0xBF) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: return inRange(i + 1, 0x80, 0xBF) && inRange(i + 2, 0x80, 0xBF) ? 3 : 0
        case 0xED: return inRange(i + 1, 0x80, 0x9F) && inRange(i + 2, 0x80, 0xBF) ? 3 : 0  // no surrogates
        case 0xF0: return inRange(i + 1, 0x90, 0xBF) && inRange(i + 2, 0x80, 0xBF) && inRange(i + 3, 0x80, 0xBF) ? 4 : 0
        case 0xF1...0xF3:
            return inRange(i + 1, 0x80, 0xBF) && inRange(i + 2, 0x80, 0xBF) && inRange(i + 3, 0x80, 0xBF) ? 4 : 0
        case 0xF4: return inRange(i + 1, 0x80, 0x8F) && inRange(i + 2, 0x80, 0xBF) && inRange(i + 3, 0x80, 0xBF) ? 4 : 0
        default: return 0
        }
    }

    // MARK: errors

    /// "expected X", or the more precise story when the input ended or the byte is not UTF-8.
    func expected(_ what: String) -> JSONError {
        guard pos < b.count else { return JSONError("unexpected end of input, expected \(what)", offset: pos) }
        let c = b[pos]
        if c >= 0x80 && JSONScanner.utf8Length(b, pos) == 0 { return JSONError("invalid UTF-8", offset: pos) }
        return JSONError("expected \(what)", offset: pos)
    }

    func trailing() -> JSONError {
        let c = b[pos]
        if c >= 0x80 && JSONScanner.utf8Length(b, pos) == 0 { return JSONError("invalid UTF-8", offset: pos) }
        return JSONError("unexpected characters after the JSON value", offset: pos)
    }

    func number(_ message: String) -> JSONError {
        JSONError(pos < b.count ? message : "unexpected end of input in number", offset: pos)
    }

    func hex(_ c: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "0x\(digits[Int(c >> 4)])\(digits[Int(c & 15)])"
    }

    func hex4Text(_ u: UInt32) -> String {
        let s = String(u, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    // MARK: decoding strings

    /// The string whose content (between the quotes, already validated) is b[start..<end].
    static func decodeString(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, escaped: Bool) -> String {
        let raw = UnsafeBufferPointer(rebasing: b[start..<end])
        guard escaped else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            let c = raw[i]
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            let e = raw[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var u = hexValue(raw, i)
                i += 4
                if u >= 0xD800 && u <= 0xDBFF {  // validated: a low surrogate escape follows
                    let low = hexValue(raw, i + 2)
                    i += 6
                    u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
                }
                out.append(contentsOf: UTF8.encode(Unicode.Scalar(u)!)!)  // invariant: the scanner rejected lone surrogates
            default: out.append(e)  // '"', '\\', '/'
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ raw: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        var v: UInt32 = 0
        for j in i..<(i + 4) {
            let c = raw[j] | 0x20  // fold case; digits are unaffected
            v = v << 4 | UInt32(c <= UInt8(ascii: "9") ? c - UInt8(ascii: "0") : c - UInt8(ascii: "a") + 10)
        }
        return v
    }
}
