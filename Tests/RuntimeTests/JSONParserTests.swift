// The strict JSON parser: a table of valid and invalid documents (RFC 8259 and its corner cases),
// the messages and byte positions, numbers kept as text, and the number conversions.
import XCTest
@testable import Runtime

final class JSONParserTests: XCTestCase {
    func parse(_ bytes: [UInt8]) throws -> JSONValue { try JSONValue(parsing: bytes) }

    func testAcceptsValidDocuments() throws {
        let valid: [String] = [
            "null", "true", "false", "0", "-0", "1", "-1", "1.5", "1e2", "1E2", "1e+2", "1e-2", "-0.0e-0",
            "123456789012345678901234567890", "1e999", "\"\"", "\"abc\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
            "\"\\u00e9\\u20AC\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\"é€😀\"", "[]", "{}", " [ 1 , 2 ] ",
            "{\"a\":{\"b\":[null,{}]}}", "\t\r\n{\"a\" : 1}\n", "{\"a\":1,\"a\":2}", "[\"\u{7F}\"]",
        ]
        for text in valid {
            XCTAssertNoThrow(try parse(Array(text.utf8)), "should accept \(text)")
        }
    }

    func testRejectsInvalidDocumentsWithMessages() {
        // (document, expected message)
        let invalid: [([UInt8], String)] = [
            (Array("".utf8), "unexpected end of input, expected a value at byte 1"),
            (Array("{\"a\":1 \"b\":2}".utf8), "expected ',' or '}' at byte 8"),
            (Array("{\"a\":1,}".utf8), "expected a member name at byte 8"),
            (Array("[1,]".utf8), "expected a value at byte 4"),
            (Array("[1 2]".utf8), "expected ',' or ']' at byte 4"),
            (Array("{a:1}".utf8), "expected a member name at byte 2"),
            (Array("{\"a\" 1}".utf8), "expected ':' at byte 6"),
            (Array("01".utf8), "leading zero in number at byte 1"),
            (Array("-01".utf8), "leading zero in number at byte 1"),
            (Array("+1".utf8), "expected a value at byte 1"),
            (Array(".5".utf8), "expected a value at byte 1"),
            (Array("1.".utf8), "unexpected end of input in number at byte 3"),
            (Array("1.e3".utf8), "expected a digit after '.' at byte 3"),
            (Array("1e".utf8), "unexpected end of input in number at byte 3"),
            (Array("-".utf8), "unexpected end of input in number at byte 2"),
            (Array("NaN".utf8), "expected a value at byte 1"),
            (Array("Infinity".utf8), "expected a value at byte 1"),
            (Array("tru".utf8), "unexpected end of input in literal at byte 4"),
            (Array("nul1".utf8), "invalid literal at byte 1"),
            (Array("1 2".utf8), "unexpected characters after the JSON value at byte 3"),
            (Array("{} x".utf8), "unexpected characters after the JSON value at byte 4"),
            (Array("\"abc".utf8), "unterminated string starting at byte 1"),
            (Array("\"a\tb\"".utf8), "control character 0x09 in string (write it as an escape) at byte 3"),
            (Array("\"\\x\"".utf8), "invalid escape '\\x' at byte 2"),
            (Array("\"\\u12\"".utf8), "truncated \\u escape at byte 2"),
            (Array("\"\\u12G4\"".utf8), "invalid \\u escape at byte 2"),
            (Array("\"\\ud83d\"".utf8), "lone surrogate \\uD83D at byte 2"),
            (Array("\"\\ude00\"".utf8), "lone surrogate \\uDE00 at byte 2"),
            (Array("\"\\ud83d\\u0041\"".utf8), "lone surrogate \\uD83D at byte 2"),
            ([0x22, 0xFF, 0x22], "invalid UTF-8 at byte 2"),
            ([0x22, 0x61, 0x80, 0x22], "invalid UTF-8 at byte 3"),              // lone continuation
            ([0x22, 0xC0, 0xAF, 0x22], "invalid UTF-8 at byte 2"),              // overlong '/'
            ([0x22, 0xE0, 0x80, 0xAF, 0x22], "invalid UTF-8 at byte 2"),        // overlong 3-byte
            ([0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], "invalid UTF-8 at byte 2"),  // overlong 4-byte
            ([0x22, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8 at byte 2"),        // encoded surrogate D800
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8 at byte 2"),  // > U+10FFFF
            ([0x22, 0xE2, 0x82, 0x22], "invalid UTF-8 at byte 2"),              // truncated sequence
            ([0x5B, 0xFF, 0x5D], "invalid UTF-8 at byte 2"),                    // outside a string
            ([0x7B, 0x7D, 0xC3], "invalid UTF-8 at byte 3"),                    // trailing
        ]
        for (doc, message) in invalid {
            XCTAssertThrowsError(try parse(doc), "should reject \(doc)") { error in
                XCTAssertEqual(String(describing: error), message, "for \(String(decoding: doc, as: UTF8.self))")
            }
        }
    }

    func testNestingLimit() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        XCTAssertNoThrow(try JSONValue(parsing: ok))
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        XCTAssertThrowsError(try JSONValue(parsing: deep)) { error in
            XCTAssertEqual(String(describing: error), "nesting deeper than 512 levels at byte 513")
        }
        // A hostile line: a million open brackets must fail cleanly, not overflow the stack.
        let hostile = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
        XCTAssertThrowsError(try JSONValue(parsing: hostile))
        XCTAssertThrowsError(try Record(parsing: Array("{\"a\":".utf8) + hostile))
    }

    func testValuesAndOrder() throws {
        let v = try JSONValue(parsing: "{\"b\":[1,\"x\",null,true],\"a\":{\"c\":-0.5e1},\"é\":\"\\u00e9\\ud83d\\ude00\"}")
        XCTAssertEqual(v.objectValue?.keys, ["b", "a", "é"])
        XCTAssertEqual(v["b"], [1, "x", nil, true])
        XCTAssertEqual(v["a"]?["c"]?.numberValue?.text, "-0.5e1")
        XCTAssertEqual(v["é"], "é😀")
        XCTAssertEqual(v.jsonText, "{\"b\":[1,\"x\",null,true],\"a\":{\"c\":-0.5e1},\"é\":\"é😀\"}")
        let escapes = try JSONValue(parsing: "\"\\u0000\\u001f\\\"\\\\\\n\\t\"")
        XCTAssertEqual(escapes.jsonText, "\"\\u0000\\u001f\\\"\\\\\\n\\t\"")
    }

    func testHugeNumbersKeepTheirText() throws {
        for text in ["123456789012345678901234567890", "1e999", "-1E-999", "0.10000000000000000000000001"] {
            XCTAssertEqual(try JSONValue(parsing: text).jsonText, text)
        }
        let big = try JSONValue(parsing: "1e999").numberValue!
        XCTAssertThrowsError(try big.float()) { error in
            XCTAssertEqual(String(describing: error), "number 1e999 out of range for a 32-bit float")
        }
        XCTAssertThrowsError(try big.double())
        XCTAssertThrowsError(try JSONNumber(text: "123456789012345678901234567890")!.int()) { error in
            XCTAssertEqual(String(describing: error),
                           "number 123456789012345678901234567890 out of range for a 64-bit integer")
        }
        XCTAssertEqual(try JSONNumber(text: "123456789012345678901234567890")!.double(), 1.2345678901234568e29)
        XCTAssertEqual(try JSONNumber(text: "1e39")!.double(), 1e39)
        XCTAssertThrowsError(try JSONNumber(text: "1e39")!.float())
        XCTAssertEqual(try JSONNumber(text: "1e-999")!.float(), 0)  // underflow is a value, not an error
    }

    func testNumberConversions() throws {
        func n(_ t: String) -> JSONNumber { JSONNumber(text: t)! }
        XCTAssertEqual(try n("-9223372036854775808").int(), Int.min)
        XCTAssertEqual(try n("9223372036854775807").int(), Int.max)
        XCTAssertThrowsError(try n("9223372036854775808").int())
        XCTAssertEqual(try n("3.0").int(), 3)
        XCTAssertEqual(try n("1e3").int(), 1000)
        XCTAssertThrowsError(try n("1.5").int()) { XCTAssertEqual("\($0)", "number 1.5 is not an integer") }
        XCTAssertEqual(try n("0.1").float(), Float(0.1))
        XCTAssertEqual(try n("-0").float().sign, .minus)
        XCTAssertEqual(try n("3.4028235e38").float(), .greatestFiniteMagnitude)
        XCTAssertEqual(try n("1e-45").float(), .leastNonzeroMagnitude)
        XCTAssertNil(JSONNumber(text: "01"))
        XCTAssertNil(JSONNumber(text: "1 "))
        XCTAssertNil(JSONNumber(Float.nan))
        XCTAssertNil(JSONValue(Float.infinity))
    }

    /// The fast decimal-to-float path must agree with the standard library's correctly rounded parser,
    /// including the midpoint cases where rounding through Double would be wrong.
    func testFloatParsingMatchesStandardLibrary() {
        var rng = SystemRandomNumberGenerator()
        var texts: [String] = [
            "16777217", "16777219", "0.5000000298023223876953125", "1.00000005960464477539062500001",
            "3.40282356779733661637539395458142568448e38", "7.038531e-26", "1e22", "1e23", "9007199254740993",
            // 16 digits, just above / below the midpoint 0.5 + 2^-25: rounding through Double lands on the
            // midpoint, and ties-to-even would give 0.5 for both.
            "0.5000000298023224", "0.5000000298023223",
        ]
        for _ in 0..<20_000 {
            let digits = Int.random(in: 1...17, using: &rng)
            let mantissa = (0..<digits).map { _ in String(Int.random(in: 0...9, using: &rng)) }.joined()
            let e = Int.random(in: -30...30, using: &rng)
            texts.append("\(Int.random(in: 1...9, using: &rng))\(mantissa)e\(e)")
            texts.append("0.\(mantissa)")
        }
        for t in texts {
            let ours = Array(t.utf8).withUnsafeBufferPointer { JSONNumbers.parseFloat($0) }
            let ref = Float(t)!
            XCTAssertEqual(ours.bitPattern, ref.bitPattern, "\(t)")
            let oursD = Array(t.utf8).withUnsafeBufferPointer { JSONNumbers.parseDouble($0) }
            XCTAssertEqual(oursD.bitPattern, Double(t)!.bitPattern, "\(t)")
        }
    }
}
