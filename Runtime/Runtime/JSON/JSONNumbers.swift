// Number conversion straight from the bytes of a validated JSON number token, without a String.
//
// Float and Double are correctly rounded. Fast path (Clinger): up to 19 significant digits and a
// decimal exponent within ±22 give one correctly rounded Double operation; for Float the double result
// is rounded again, which can only go wrong when an inexact result lands exactly on a midpoint
// between two floats, and that case (detected exactly, with fma) goes to the slow path, the standard library's own parser. Long
// mantissas, huge exponents and overflow take the slow path too.

enum JSONNumbers {
    /// Powers of ten that are exact in Double.
    static let exactPowers: [Double] = (0...22).map { e in (0..<e).reduce(1.0) { acc, _ in acc * 10 } }

    /// Decimal decomposition: value = ±mantissa × 10^exponent, with `exact` false when digits were
    /// dropped beyond the 19th significant one.
    struct Decimal {
        var negative = false
        var mantissa: UInt64 = 0
        var exponent = 0
        var exact = true
        var plainInteger = true
    }

    @inline(__always)
    static func decompose(_ t: UnsafeBufferPointer<UInt8>) -> Decimal {
        var d = Decimal()
        var i = 0
        let n = t.count
        if i < n && t[i] == UInt8(ascii: "-") { d.negative = true; i += 1 }
        var digits = 0
        while i < n, case let c = t[i] &- UInt8(ascii: "0"), c < 10 {
            if d.mantissa != 0 || c != 0 {
                if digits < 19 { d.mantissa = d.mantissa &* 10 &+ UInt64(c); digits += 1 } else {
                    d.exponent += 1
                    if c != 0 { d.exact = false }
                }
            }
            i += 1
        }
        if i < n && t[i] == UInt8(ascii: ".") {
            d.plainInteger = false
            i += 1
            while i < n, case let c = t[i] &- UInt8(ascii: "0"), c < 10 {
                if d.mantissa == 0 && c == 0 {
                    d.exponent -= 1
                } else if digits < 19 {
                    d.mantissa = d.mantissa &* 10 &+ UInt64(c); digits += 1; d.exponent -= 1
                } else if c != 0 {
                    d.exact = false
                }
                i += 1
            }
        }
        if i < n && (t[i] == UInt8(ascii: "e") || t[i] == UInt8(ascii: "E")) {
            d.plainInteger = false
            i += 1
            var negativeExponent = false
            if i < n && (t[i] == UInt8(ascii: "+") || t[i] == UInt8(ascii: "-")) {
                negativeExponent = t[i] == UInt8(ascii: "-")
                i += 1
            }
            var e = 0
            while i < n, case let c = t[i] &- UInt8(ascii: "0"), c < 10 {
                if e < 100_000 { e = e * 10 + Int(c) }  // saturate: beyond this everything is 0 or inf
                i += 1
            }
            d.exponent += negativeExponent ? -e : e
        }
        return d
    }

    /// Clinger's fast path: the correctly rounded Double, and whether it is the exact value; nil if
    /// the decimal is outside the fast path.
    @inline(__always)
    static func fastDouble(_ d: Decimal) -> (value: Double, exact: Bool)? {
        guard d.exact, d.mantissa <= 1 << 53, d.exponent >= -22, d.exponent <= 22 else { return nil }
        let m = Double(d.mantissa)
        let p = exactPowers[abs(d.exponent)]
        if d.exponent >= 0 {
            let r = m * p
            return (r, (-r).addingProduct(m, p) == 0)  // m*p - r, exact by fma
        } else {
            let r = m / p
            return (r, m.addingProduct(-r, p) == 0)  // m - r*p, exact for a correctly rounded quotient
        }
    }

    static func parseFloat(_ t: UnsafeBufferPointer<UInt8>) -> Float {
        let d = decompose(t)
        if d.mantissa == 0 && d.exact { return d.negative ? -0.0 : 0.0 }
        if let (r, exact) = fastDouble(d) {
            // In the fast path 1e-22 <= r < 1e38: a normal float, so a midpoint between two floats is
            // a double whose 29 low significand bits are exactly 1000...0.
            if exact || r.bitPattern & 0x1FFF_FFFF != 0x1000_0000 {
                let f = Float(r)
                return d.negative ? -f : f
            }
        }
        return slowFloat(t)
    }

    static func parseDouble(_ t: UnsafeBufferPointer<UInt8>) -> Double {
        let d = decompose(t)
        if d.mantissa == 0 && d.exact { return d.negative ? -0.0 : 0.0 }
        if let (r, _) = fastDouble(d) { return d.negative ? -r : r }
        return Double(String(decoding: t, as: UTF8.self)) ?? .nan
    }

    static func slowFloat(_ t: UnsafeBufferPointer<UInt8>) -> Float {
        // The standard library reads "1e999" as infinity, which callers report as out of range.
        Float(String(decoding: t, as: UTF8.self)) ?? .nan
    }

    /// Exact integer value of a number token. Integral values written with a fraction or exponent
    /// ("3.0", "1e3") are accepted up to 2^53, where Double still counts every integer.
    static func parseInt(_ t: UnsafeBufferPointer<UInt8>) throws -> Int {
        let text = { String(decoding: t, as: UTF8.self) }
        var i = 0
        let negative = t.first == UInt8(ascii: "-")
        if negative { i = 1 }
        var plain = true
        for j in i..<t.count where !JSONScanner.isDigit(t[j]) { plain = false; break }
        if plain {
            var v = 0
            while i < t.count {
                let c = Int(t[i] - UInt8(ascii: "0"))
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (s, o2) = negative ? m.subtractingReportingOverflow(c) : m.addingReportingOverflow(c)
                if o1 || o2 { throw JSONError("number \(text()) out of range for a 64-bit integer") }
                v = s
                i += 1
            }
            return v
        }
        let d = parseDouble(t)
        guard d.isFinite, d.magnitude <= 9_007_199_254_740_992 else {
            throw JSONError("number \(text()) out of range for a 64-bit integer")
        }
        guard d == d.rounded(.towardZero) else { throw JSONError("number \(text()) is not an integer") }
        return Int(d)
    }

    /// Length of the number token at the start of `t` (validated input: stop at the first non-number byte).
    @inline(__always)
    static func tokenLength(_ t: UnsafeBufferPointer<UInt8>, from i: Int) -> Int {
        var j = i
        while j < t.count {
            let c = t[j]
            if JSONScanner.isDigit(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
                || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { j += 1 } else { break }
        }
        return j - i
    }
}
