// Vocab: token bytes <-> id, keyed by the exact UTF-8 bytes (never by String equality, which would
// merge canonically equivalent spellings such as precomposed and decomposed "é").
//
// An open-addressing table of ids over FNV-1a hashes; a lookup takes a pointer and a length, so
// models look up substrings without allocating.

final class Vocab: @unchecked Sendable {
    /// id -> bytes (empty for an id no token has).
    private(set) var tokens: [[UInt8]] = []
    private var table: [Int32] = []
    private(set) var count = 0

    init() { table = [Int32](repeating: -1, count: 16) }

    var maxId: Int { tokens.count - 1 }

    /// The byte length of the longest token.
    var longestToken: Int { tokens.reduce(0) { max($0, $1.count) } }

    @inline(__always) private static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var h: UInt64 = 0xcbf29ce484222325
        for i in 0..<n { h = (h ^ UInt64(p[i])) &* 0x100000001b3 }
        return Int(truncatingIfNeeded: h ^ (h >> 29))
    }

    /// Add (or re-point) `bytes` -> `id`. A later insert of the same bytes wins, as in a JSON object.
    func insert(_ bytes: [UInt8], id: Int) {
        if id >= tokens.count { tokens += [[UInt8]](repeating: [], count: id + 1 - tokens.count) }
        if tokens[id].isEmpty || tokens[id] != bytes { tokens[id] = bytes }
        if (count + 1) * 2 > table.count { grow() }
        bytes.withUnsafeBufferPointer { b in
            let mask = table.count - 1
            var i = Vocab.hash(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count) & mask  // invariant: address 1 is non-null (never read: count 0)
            while table[i] >= 0 {
                if tokens[Int(table[i])] == bytes && Int(table[i]) != id {
                    // Same bytes under another id: the new id wins the lookup.
                    table[i] = Int32(id); return
                }
                if Int(table[i]) == id { return }
                i = (i + 1) & mask
            }
            table[i] = Int32(id)
            count += 1
        }
    }

    private func grow() {
        let old = table
        table = [Int32](repeating: -1, count: max(16, old.count * 2))
        let mask = table.count - 1
        for id in old where id >= 0 {
            tokens[Int(id)].withUnsafeBufferPointer { b in
                var i = Vocab.hash(b.baseAddress ?? UnsafePointer(bitPattern: 1)!, b.count) & mask  // invariant: address 1 is non-null (never read: count 0)
                while table[i] >= 0 { i = (i + 1) & mask }
                table[i] = id
            }
        }
    }

    @inline(__always) func id(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        let mask = table.count - 1
        var i = Vocab.hash(p, n) & mask
        while true {
            let t = table[i]
            if t < 0 { return nil }
            let tok = tokens[Int(t)]
            // invariant: n >= 1 (id(_: [UInt8]) answers nil for empty bytes, models look up whole
            // characters), so a token of count n has storage.
            if tok.count == n && tok.withUnsafeBufferPointer({ memcmp($0.baseAddress!, p, n) == 0 }) { return Int(t) }
            i = (i + 1) & mask
        }
    }

    func id(_ bytes: [UInt8]) -> Int? {
        if bytes.isEmpty { return nil }
        return bytes.withUnsafeBufferPointer { id($0.baseAddress!, $0.count) }  // invariant: not empty (checked above)
    }

    func id(_ s: String) -> Int? { id(Array(s.utf8)) }

    func bytes(_ id: Int) -> [UInt8]? { id >= 0 && id < tokens.count && !tokens[id].isEmpty ? tokens[id] : nil }

    func string(_ id: Int) -> String? { bytes(id).map { String(decoding: $0, as: UTF8.self) } }

    /// id -> token text (encode hands these out for every token); filled by `freeze`.
    private(set) var strings: [String] = []

    /// Build `strings` once the vocabulary is complete (before any concurrent use).
    func freeze() { strings = tokens.map { String(decoding: $0, as: UTF8.self) } }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
