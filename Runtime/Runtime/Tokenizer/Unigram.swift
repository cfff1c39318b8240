// Unigram (SentencePiece's model): the segmentation of a word into vocabulary pieces with the highest
// total log-probability (Viterbi over code-point positions), as Hugging Face's encode_optimized does:
// a position no single-char piece covers gets the unknown token at (min score - 10); consecutive
// unknowns fuse into one piece; a piece not in the vocabulary becomes byte-fallback tokens <0xXX>
// when byte_fallback is set, else the unknown token.

final class UnigramModel: TokenModel {
    let vocab: Vocab
    var scores: [Double] = []
    let unkId: Int?
    let byteFallback: Bool
    let minScore: Double
    /// Trie over UTF-8 bytes: (node << 8 | byte) -> child; terminal node -> id.
    private var children: [Int: Int32] = [:]
    private var terminal: [Int32] = [-1]
    private var byteIds: [Int] = []

    convenience init(_ j: JSONValue) throws {
        guard let v = j["vocab"]?.arrayValue else { throw TokenizerError("Unigram model without a vocab") }
        var pieces: [[UInt8]] = [], scores: [Double] = []
        for (id, item) in v.enumerated() {
            guard let piece = item[0]?.stringValue, let s = item[1]?.numberValue.map({ serdeJSONDouble($0.text) }) else {
                throw TokenizerError("Unigram vocab entry \(id) is not [piece, score]")
            }
            pieces.append(Array(piece.utf8)); scores.append(s)
        }
        try self.init(pieces: pieces, scores: scores, unkId: try j["unk_id"]?.numberValue?.int(), byteFallback: j["byte_fallback"]?.boolValue ?? false)
    }

    /// `matchable` (default: every piece) chooses the pieces the segmentation may use and the minimum score.
    init(pieces: [[UInt8]], scores: [Double], unkId: Int?, byteFallback: Bool, matchable: ((Int) -> Bool)? = nil) throws {
        vocab = Vocab()
        guard pieces.count < Int(Int32.max) else { throw TokenizerError("Unigram vocab of \(pieces.count) entries: ids must stay below 2^31") }
        var minS = Double.infinity
        for (id, b) in pieces.enumerated() {
            vocab.insert(b, id: id)
            let s = id < scores.count ? scores[id] : 0
            self.scores.append(s)
            if let m = matchable, !m(id) { continue }
            minS = min(minS, s)
            var node = 0
            for x in b {
                let k = node << 8 | Int(x)
                if let c = children[k] { node = Int(c) } else {
                    guard terminal.count < Int(Int32.max) else { throw TokenizerError("Unigram vocab: more than 2^31 trie nodes") }
                    terminal.append(-1)
                    children[k] = Int32(terminal.count - 1)
                    node = terminal.count - 1
                }
            }
            if terminal[node] < 0 { terminal[node] = Int32(id) }
        }
        minScore = minS
        self.unkId = unkId
        // As HF (UnkIdNotInVocabulary): the unknown token is emitted as an id, so it must be one.
        if let u = unkId, u < 0 || u >= pieces.count { throw TokenizerError("Unigram unk_id \(u) is not an id of the vocabulary (0..<\(pieces.count))") }
        self.byteFallback = byteFallback
        byteIds = (0..<256).map { vocab.id(Array(String(format: "<0x%02X>", $0).utf8)) ?? -1 }
    }

    func tokenize(_ word: [UInt32], into out: inout [ModelToken]) throws {
        let n = word.count
        if n == 0 { return }
        let bytes = utf8Bytes(word)
        var charAt: [Int] = []  // byte offset of each char, plus the end
        var off = 0
        for c in word { charAt.append(off); off += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4 }
        charAt.append(off)
        var byteToChar = [Int](repeating: -1, count: bytes.count + 1)
        for (k, b) in charAt.enumerated() { byteToChar[b] = k }
        // best[k]: best path ending at char k: (score, start char, id)
        var bestScore = [Double](repeating: 0, count: n + 1)
        var bestStart = [Int](repeating: -1, count: n + 1)
        var bestId = [Int](repeating: -1, count: n + 1)
        let unkScore = minScore - 10.0
        for s in 0..<n {
            let base = bestScore[s]
            var single = false
            var node = 0
            var p = charAt[s]
            while p < bytes.count {
                guard let c = children[node << 8 | Int(bytes[p])] else { break }
                node = Int(c); p += 1
                let id = terminal[node]
                if id >= 0, byteToChar[p] >= 0 {
                    let e = byteToChar[p]
                    let cand = scores[Int(id)] + base
                    if bestStart[e] < 0 || cand > bestScore[e] { bestScore[e] = cand; bestStart[e] = s; bestId[e] = Int(id) }
                    if e == s + 1 { single = true }
                }
            }
            if !single {
                guard let u = unkId else { throw TokenizerError("Unigram: no unknown token for a character not in the vocabulary") }
                let cand = unkScore + base
                if bestStart[s + 1] < 0 || cand > bestScore[s + 1] { bestScore[s + 1] = cand; bestStart[s + 1] = s; bestId[s + 1] = u }
            }
        }
        // Backtrack, fusing runs of unknowns.
        var pieces: [(Int, Int, Int)] = []  // (lo, hi, id)
        var e = n
        var fusedHi = -1
        while e > 0 {
            let s = bestStart[e]
            if let u = unkId, bestId[e] == u {
                if fusedHi < 0 { fusedHi = e }
            } else {
                if fusedHi >= 0 { pieces.append((e, fusedHi, -1)); fusedHi = -1 }
                pieces.append((s, e, bestId[e]))
            }
            e = s
        }
        if fusedHi >= 0 { pieces.append((0, fusedHi, -1)) }
        for (lo, hi, id) in pieces.reversed() {
            if id >= 0 { out.append(ModelToken(id: Int32(id), lo: Int32(lo), hi: Int32(hi))); continue }
            let b = Array(bytes[charAt[lo]..<charAt[hi]])
            if let known = vocab.id(b) { out.append(ModelToken(id: Int32(known), lo: Int32(lo), hi: Int32(hi))); continue }
            if byteFallback, b.allSatisfy({ byteIds[Int($0)] >= 0 }) {
                for x in b { out.append(ModelToken(id: Int32(byteIds[Int(x)]), lo: Int32(lo), hi: Int32(hi))) }
                continue
            }
            guard let u = unkId else { throw TokenizerError("Unigram: no unknown token for a piece not in the vocabulary") }
            out.append(ModelToken(id: Int32(u), lo: Int32(lo), hi: Int32(hi)))
        }
    }
}

/// A JSON number read as serde_json reads it by default (without its float_roundtrip feature), which
/// is how tokenizers loads Unigram scores: up to 19 significant digits gathered into a u64 (later
/// digits dropped), converted to f64, then multiplied or divided by one power of ten. The result can
/// be an ulp away from the correctly rounded value, and Viterbi ties follow those ulps.
func serdeJSONDouble(_ text: String) -> Double {
    var b = Array(text.utf8)[...]
    let negative = b.first == UInt8(ascii: "-")
    if negative { b = b.dropFirst() }
    var significand: UInt64 = 0
    var exponent = 0
    var overflowed = false
    func digit(_ c: UInt8) -> UInt64? { c >= 48 && c <= 57 ? UInt64(c - 48) : nil }
    func push(_ d: UInt64) -> Bool {  // false once another digit would overflow
        if overflowed { return false }
        let maxDiv = UInt64.max / 10, maxRem = UInt64.max % 10
        if significand >= maxDiv && (significand > maxDiv || d > maxRem) { overflowed = true; return false }
        significand = significand * 10 + d
        return true
    }
    while let c = b.first, let d = digit(c) {  // integer part: digits past overflow scale by 10
        if !push(d) { exponent += 1 }
        b = b.dropFirst()
    }
    if b.first == UInt8(ascii: ".") {
        b = b.dropFirst()
        while let c = b.first, let d = digit(c) {
            if push(d) { exponent -= 1 }
            b = b.dropFirst()
        }
    }
    if let c = b.first, c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
        b = b.dropFirst()
        var neg = false
        if b.first == UInt8(ascii: "-") { neg = true; b = b.dropFirst() } else if b.first == UInt8(ascii: "+") { b = b.dropFirst() }
        var e = 0
        while let c = b.first, let d = digit(c) { e = min(e * 10 + Int(d), 100_000); b = b.dropFirst() }
        exponent += neg ? -e : e
    }
    var f = Double(significand)
    while true {
        let a = abs(exponent)
        if a <= 308 {
            let pow = Double("1e\(a)")!  // invariant: "1e0"..."1e308" always parse
            if exponent >= 0 { f *= pow } else { f /= pow }
            break
        }
        if f == 0 || exponent >= 0 { break }
        f /= 1e308
        exponent += 308
    }
    return negative ? -f : f
}
