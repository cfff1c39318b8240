// Typed reads of a Record's members. Each reads the member's raw bytes on demand and throws a
// RecordError that names the field: "missing field 'text'", "field 'text': expected a string, got
// null", "field 'probs': element 3: expected a number, got a string", "field 'x': number 1e999 out
// of range for a 32-bit float". Numeric arrays are read straight from the bytes (no JSONValue).

extension Record {
    /// The member as a JSONValue; nil when absent.
    public func value(_ key: String) -> JSONValue? {
        guard let i = index(of: key) else { return nil }
        return withRawValue(i) { raw in
            // invariant: a stored value was validated when the line was parsed, or written by JSONWriter.
            do { return try JSONScanner.parseDocument(raw, maxDepth: .max) } catch {
                preconditionFailure("Record: stored value of '\(key)' is not valid JSON: \(error)")
            }
        }
    }

    public func string(_ key: String) throws -> String {
        try raw(key) { raw in
            guard raw[0] == UInt8(ascii: "\"") else { throw RecordError.field(key, "expected a string, got \(kind(raw[0]))") }
            let escaped = raw.contains(UInt8(ascii: "\\"))
            return JSONScanner.decodeString(raw, 1, raw.count - 1, escaped: escaped)
        }
    }

    public func bool(_ key: String) throws -> Bool {
        try raw(key) { raw in
            switch raw[0] {
            case UInt8(ascii: "t"): return true
            case UInt8(ascii: "f"): return false
            default: throw RecordError.field(key, "expected true or false, got \(kind(raw[0]))")
            }
        }
    }

    public func float(_ key: String) throws -> Float {
        try raw(key) { raw in
            guard isNumberStart(raw[0]) else { throw RecordError.field(key, "expected a number, got \(kind(raw[0]))") }
            let v = JSONNumbers.parseFloat(raw)
            guard v.isFinite else { throw RecordError.field(key, "number \(text(raw)) out of range for a 32-bit float") }
            return v
        }
    }

    public func double(_ key: String) throws -> Double {
        try raw(key) { raw in
            guard isNumberStart(raw[0]) else { throw RecordError.field(key, "expected a number, got \(kind(raw[0]))") }
            let v = JSONNumbers.parseDouble(raw)
            guard v.isFinite else { throw RecordError.field(key, "number \(text(raw)) out of range for a 64-bit float") }
            return v
        }
    }

    public func int(_ key: String) throws -> Int {
        try raw(key) { raw in
            guard isNumberStart(raw[0]) else { throw RecordError.field(key, "expected an integer, got \(kind(raw[0]))") }
            do { return try JSONNumbers.parseInt(raw) } catch let e as JSONError {
                throw RecordError.field(key, e.message)
            }
        }
    }

    /// An array of numbers, each rounded to the nearest Float.
    public func floats(_ key: String) throws -> [Float] {
        try raw(key) { raw in
            var out: [Float] = []
            out.reserveCapacity(raw.count / 6)
            try forEachNumber(key, raw, expecting: "numbers") { token, index in
                let v = JSONNumbers.parseFloat(token)
                guard v.isFinite else {
                    throw RecordError.field(key, "element \(index): number \(text(token)) out of range for a 32-bit float")
                }
                out.append(v)
            }
            return out
        }
    }

    /// An array of integers (exact; "1.5" or 1e30 is an error).
    public func ints(_ key: String) throws -> [Int] {
        try raw(key) { raw in
            var out: [Int] = []
            out.reserveCapacity(raw.count / 3)
            try forEachNumber(key, raw, expecting: "integers") { token, index in
                do { out.append(try JSONNumbers.parseInt(token)) } catch let e as JSONError {
                    throw RecordError.field(key, "element \(index): \(e.message)")
                }
            }
            return out
        }
    }

    public func strings(_ key: String) throws -> [String] {
        guard let v = value(key) else { throw RecordError.missing(key) }
        guard case .array(let elements) = v else {
            throw RecordError.field(key, "expected an array of strings, got \(v.kindDescription)")
        }
        return try elements.enumerated().map { index, e in
            guard case .string(let s) = e else {
                throw RecordError.field(key, "element \(index): expected a string, got \(e.kindDescription)")
            }
            return s
        }
    }

    // MARK: helpers

    /// Calls `body` with the raw JSON text of member `key`, or throws "missing field 'key'".
    func raw<R>(_ key: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) throws -> R {
        guard let i = index(of: key) else { throw RecordError.missing(key) }
        return try withRawValue(i, body)
    }

    /// Walks a validated array whose elements must all be numbers; `body` gets each token and its index.
    func forEachNumber(_ key: String, _ raw: UnsafeBufferPointer<UInt8>, expecting what: String,
                       _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        guard raw[0] == UInt8(ascii: "[") else {
            throw RecordError.field(key, "expected an array of \(what), got \(kind(raw[0]))")
        }
        var i = 1
        @inline(__always) func skipWhitespace() {
            while i < raw.count, raw[i] == 0x20 || raw[i] == 0x0A || raw[i] == 0x0D || raw[i] == 0x09 { i += 1 }
        }
        skipWhitespace()
        if raw[i] == UInt8(ascii: "]") { return }
        var index = 0
        while true {
            guard isNumberStart(raw[i]) else {
                throw RecordError.field(key, "element \(index): expected a number, got \(kind(raw[i]))")
            }
            let n = JSONNumbers.tokenLength(raw, from: i)
            try body(UnsafeBufferPointer(rebasing: raw[i..<(i + n)]), index)
            i += n
            index += 1
            skipWhitespace()
            if raw[i] == UInt8(ascii: "]") { return }
            i += 1  // ','
            skipWhitespace()
        }
    }
}

@inline(__always)
private func isNumberStart(_ c: UInt8) -> Bool { c == UInt8(ascii: "-") || JSONScanner.isDigit(c) }

/// The kind of a validated JSON value from its first byte.
private func kind(_ c: UInt8) -> String {
    switch c {
    case UInt8(ascii: "{"): return "an object"
    case UInt8(ascii: "["): return "an array"
    case UInt8(ascii: "\""): return "a string"
    case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
    case UInt8(ascii: "n"): return "null"
    default: return "a number"
    }
}

private func text(_ raw: UnsafeBufferPointer<UInt8>) -> String {
    let s = String(decoding: raw, as: UTF8.self)
    return s.count <= 40 ? s : String(s.prefix(37)) + "..."
}
