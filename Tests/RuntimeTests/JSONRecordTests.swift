// Record: raw pass-through of untouched members, replace in place and append, typed accessors and
// their messages, float round trips through what we write, and the writer's speed on embeddings.
import XCTest
@testable import Runtime

final class JSONRecordTests: XCTestCase {
    func record(_ text: String) throws -> Record { try Record(parsing: text) }

    func testUntouchedMembersPassThroughByteForByte() throws {
        let line = "{\"a\":1.0,\"b\":1E2,\"c\":-0,\"d\":\"\\u00e9\\n\",\"e\":[1, 2 ,{\"x\" : null}],"
            + "\"f\":123456789012345678901234567890,\"g\":1e999,\"\\u0068\":true}"
        XCTAssertEqual(try record(line).jsonText, line)
        // Whitespace between members goes; whitespace inside a value stays.
        XCTAssertEqual(try record("  { \"a\" : [1, 2] ,\t\"b\":{} }  ").jsonText, "{\"a\":[1, 2],\"b\":{}}")
        XCTAssertEqual(try record("{}").jsonText, "{}")
        XCTAssertEqual(Record().jsonText, "{}")
    }

    func testReplaceInPlaceAndAppend() throws {
        var r = try record("{\"id\":7,\"text\":\"hi\",\"x\":1.50}")
        r.set("text", string: "bye \"you\"")
        r.set("label", string: "spam")
        try r.set("score", float: 0.25)
        r.set("id", int: -3)
        r.set("meta", ["k": [1, nil, "v"], "ok": true])
        XCTAssertEqual(r.jsonText,
                       "{\"id\":-3,\"text\":\"bye \\\"you\\\"\",\"x\":1.50,\"label\":\"spam\",\"score\":0.25,"
                       + "\"meta\":{\"k\":[1,null,\"v\"],\"ok\":true}}")
        XCTAssertEqual(r.keys, ["id", "text", "x", "label", "score", "meta"])
        r.set("label", ints: [1, -2, 30])
        r.remove("x")
        XCTAssertEqual(r.jsonText, "{\"id\":-3,\"text\":\"bye \\\"you\\\"\",\"label\":[1,-2,30],\"score\":0.25,"
                       + "\"meta\":{\"k\":[1,null,\"v\"],\"ok\":true}}")
        // An escaped key matches its decoded name and keeps its spelling.
        var e = try record("{\"\\u0074ext\":\"a\"}")
        XCTAssertEqual(try e.string("text"), "a")
        e.set("text", string: "b")
        XCTAssertEqual(e.jsonText, "{\"\\u0074ext\":\"b\"}")
        // Repeated keys: the last one is read and replaced.
        var d = try record("{\"a\":1,\"a\":2}")
        XCTAssertEqual(try d.int("a"), 2)
        d.set("a", int: 3)
        XCTAssertEqual(d.jsonText, "{\"a\":1,\"a\":3}")
    }

    func testRecordFromObject() throws {
        var r = Record(["b": 1, "a": ["x": "y"]])
        r.set("b", string: "two")
        XCTAssertEqual(r.jsonText, "{\"b\":\"two\",\"a\":{\"x\":\"y\"}}")
        XCTAssertEqual(try r.string("b"), "two")
    }

    func testTypedAccessors() throws {
        let r = try record("{\"text\":\"caf\\u00e9\",\"n\":42,\"big\":1e3,\"f\":0.1,\"probs\":[0.5, 1e-3,-2],"
                           + "\"ids\":[1,2,3],\"names\":[\"a\",\"b\"],\"flag\":false,\"none\":null,\"empty\":[]}")
        XCTAssertEqual(try r.string("text"), "café")
        XCTAssertEqual(try r.int("n"), 42)
        XCTAssertEqual(try r.int("big"), 1000)
        XCTAssertEqual(try r.float("f"), Float(0.1))
        XCTAssertEqual(try r.double("f"), 0.1)
        XCTAssertEqual(try r.floats("probs"), [0.5, 1e-3, -2])
        XCTAssertEqual(try r.ints("ids"), [1, 2, 3])
        XCTAssertEqual(try r.strings("names"), ["a", "b"])
        XCTAssertEqual(try r.bool("flag"), false)
        XCTAssertEqual(try r.floats("empty"), [])
        XCTAssertEqual(r.value("none"), JSONValue.null)
        XCTAssertEqual(r.value("probs")?[1]?.numberValue?.text, "1e-3")
        XCTAssertNil(r.value("nope"))
        XCTAssertTrue(r.has("none"))
        XCTAssertFalse(r.has("nope"))
        XCTAssertEqual(r.rawValue("probs"), Array("[0.5, 1e-3,-2]".utf8))
    }

    func testAccessorErrorsNameTheField() throws {
        let r = try record("{\"text\":5,\"probs\":[1,\"x\"],\"ids\":[1,2.5],\"n\":null,\"x\":1e999,\"s\":[\"a\",1]}")
        let cases: [(() throws -> Any, String)] = [
            ({ try r.string("title") }, "missing field 'title'"),
            ({ try r.string("text") }, "field 'text': expected a string, got a number"),
            ({ try r.float("n") }, "field 'n': expected a number, got null"),
            ({ try r.float("x") }, "field 'x': number 1e999 out of range for a 32-bit float"),
            ({ try r.floats("text") }, "field 'text': expected an array of numbers, got a number"),
            ({ try r.floats("probs") }, "field 'probs': element 1: expected a number, got a string"),
            ({ try r.ints("ids") }, "field 'ids': element 1: number 2.5 is not an integer"),
            ({ try r.int("x") }, "field 'x': number 1e999 out of range for a 64-bit integer"),
            ({ try r.strings("s") }, "field 's': element 1: expected a string, got a number"),
            ({ try r.bool("text") }, "field 'text': expected true or false, got a number"),
        ]
        for (call, message) in cases {
            XCTAssertThrowsError(try call()) { XCTAssertEqual(($0 as? RecordError)?.message, message) }
        }
    }

    func testLinesThatAreNotRecords() {
        let cases: [(String, String)] = [
            ("[1,2]", "expected a JSON object, got an array"),
            ("\"text\"", "expected a JSON object, got a string"),
            ("42", "expected a JSON object, got a number"),
            ("hello", "expected a JSON object at byte 1"),
            ("{\"a\":1", "unexpected end of input, expected ',' or '}' at byte 7"),
            ("{\"a\":1}}", "unexpected characters after the JSON value at byte 8"),
            ("{\"a\":tru}", "invalid literal at byte 6"),
        ]
        for (line, message) in cases {
            XCTAssertThrowsError(try Record(parsing: line)) { XCTAssertEqual(($0 as? RecordError)?.message, message) }
        }
        XCTAssertThrowsError(try Record(parsing: [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D])) {
            XCTAssertEqual(($0 as? RecordError)?.message, "invalid UTF-8 at byte 7")
        }
    }

    func testNonFiniteFloatsAreRejected() throws {
        var r = Record()
        XCTAssertThrowsError(try r.set("x", floats: [1, .nan])) {
            XCTAssertEqual(($0 as? RecordError)?.message, "field 'x': non-finite value cannot be written as JSON")
        }
        XCTAssertThrowsError(try r.set("x", float: -.infinity))
        XCTAssertThrowsError(try r.set("x", double: .nan))
        XCTAssertEqual(r.jsonText, "{}")
    }

    /// Every written float reads back with the same bits, and the text is valid JSON.
    func testFloatRoundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        var values: [Float] = [0, -0.0, 1, -1, 0.1, 1e-5, 1e30, 123456792, .leastNonzeroMagnitude,
                               .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               Float(bitPattern: 0x0000_0001), Float(bitPattern: 0x007F_FFFF)]
        while values.count < 50_000 {
            let f = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng))
            if f.isFinite { values.append(f) }
        }
        var r = Record()
        try r.set("v", floats: values)
        let back = try Record(parsing: r.serialized).floats("v")
        XCTAssertEqual(back.count, values.count)
        for (a, b) in zip(values, back) where a.bitPattern != b.bitPattern {
            XCTFail("\(a) came back as \(b)")
            break
        }
        // Strict parse of the whole text as a JSON value too.
        XCTAssertNoThrow(try JSONValue(parsing: r.serialized))
        try r.set("one", float: 1e-5)
        XCTAssertEqual(String(decoding: r.rawValue("one")!, as: UTF8.self), "1e-05")
    }

    /// 2,000 records with 384-float embeddings written and read back: every float survives.
    /// (Throughput is measured by `make bench`, not here.)
    func testEmbeddingRoundTripAtScale() throws {
        var rng = SystemRandomNumberGenerator()
        let dim = 384, n = 2000
        let vectors = (0..<n).map { _ in (0..<dim).map { _ in Float.random(in: -1...1, using: &rng) } }
        let input = try Record(parsing: "{\"id\":1,\"text\":\"a short sentence to embed\"}")
        var out = JSONWriter(capacity: n * (dim * 12 + 64))
        for v in vectors {
            var r = input
            try r.set("embedding", floats: v)
            r.write(to: &out)
            out.append(byte: 0x0A)
        }
        var lines = 0
        try out.bytes.withUnsafeBufferPointer { b in
            var start = 0
            for i in 0..<b.count where b[i] == 0x0A {
                let r = try Record(parsing: Array(b[start..<i]))
                lines += try r.floats("embedding") == vectors[lines] ? 1 : 0
                start = i + 1
            }
        }
        XCTAssertEqual(lines, n)
    }
}
