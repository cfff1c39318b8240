// BPE: byte-pair encoding as Hugging Face's tokenizers applies it. A word starts as its code points
// (each looked up with continuing_subword_prefix on all but the first and end_of_word_suffix on the
// last; a miss becomes byte-fallback tokens <0xXX>, or the unknown token, fused when fuse_unk), then
// the adjacent pair with the lowest merge rank is merged, leftmost first, until none applies.
// ignore_merges takes a word that is itself in the vocabulary whole (newlineRunsWhole: only a run of
// newlines, as llama.cpp does for gemma4). Dropout is ignored (inference).
// Merges come as "a b" strings or ["a", "b"] pairs. Results are cached per word.
import Foundation

final class BPEModel: TokenModel, @unchecked Sendable {
    let vocab: Vocab
    /// (left id << 32 | right id) -> (rank << 32 | merged id)
    var merges: [UInt64: UInt64] = [:]
    var unkId: Int?
    var unkToken: String?
    var prefix: [UInt8] = []
    var suffix: [UInt8] = []
    var fuseUnk = false
    var byteFallback = false
    var ignoreMerges = false
    /// llama.cpp's gemma4/mmbert rule: a word of newlines only that is a token is taken whole.
    var newlineRunsWhole = false
    private var byteIds: [Int] = []
    private var cache: [[UInt32]: [ModelToken]] = [:]
    private let lock = NSLock()

    init(vocab: Vocab, merges: [([UInt8], [UInt8])], unkToken: String?, prefix: String?, suffix: String?,
         fuseUnk: Bool, byteFallback: Bool, ignoreMerges: Bool) throws {
        self.vocab = vocab
        self.unkToken = unkToken
        self.unkId = unkToken.flatMap { vocab.id($0) }
        self.prefix = Array((prefix ?? "").utf8)
        self.suffix = Array((suffix ?? "").utf8)
        self.fuseUnk = fuseUnk
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        for (rank, (a, b)) in merges.enumerated() {
            guard let ia = vocab.id(a), let ib = vocab.id(b) else {
                throw TokenizerError("BPE merge \"\(String(decoding: a, as: UTF8.self)) \(String(decoding: b, as: UTF8.self))\" uses a token not in the vocabulary")
            }
            let rest = b.count >= self.prefix.count ? Array(b[self.prefix.count...]) : []
            guard let m = vocab.id(a + rest) else {
                throw TokenizerError("BPE merge result \"\(String(decoding: a + rest, as: UTF8.self))\" is not in the vocabulary")
            }
            self.merges[UInt64(ia) << 32 | UInt64(ib)] = UInt64(rank) << 32 | UInt64(m)  // a repeated pair: the last rank wins, as in HF
        }
        byteIds = (0..<256).map { vocab.id(Array(String(format: "<0x%02X>", $0).utf8)) ?? -1 }
    }

    convenience init(_ j: JSONValue) throws {
        let vocab = Vocab()
        guard let v = j["vocab"]?.objectValue else { throw TokenizerError("BPE model without a vocab") }
        for m in v { vocab.insert(Array(m.key.utf8), id: try vocabId(m, entries: v.count)) }
        var merges: [([UInt8], [UInt8])] = []
        for m in j["merges"]?.arrayValue ?? [] {
            if let s = m.stringValue {
                let b = Array(s.utf8)
                guard let sp = b.firstIndex(of: 32) else { throw TokenizerError("BPE merge \"\(s)\" is not two tokens") }
                merges.append((Array(b[..<sp]), Array(b[(sp + 1)...])))
            } else if let a = m.arrayValue, a.count == 2, let l = a[0].stringValue, let r = a[1].stringValue {
                merges.append((Array(l.utf8), Array(r.utf8)))
            } else { throw TokenizerError("BPE merge is neither \"a b\" nor [\"a\", \"b\"]") }
        }
        func str(_ k: String) -> String? { j[k]?.stringValue }
        try self.init(vocab: vocab, merges: merges, unkToken: str("unk_token"), prefix: str("continuing_subword_prefix"),
                      suffix: str("end_of_word_suffix"), fuseUnk: j["fuse_unk"]?.boolValue ?? false,
                      byteFallback: j["byte_fallback"]?.boolValue ?? false, ignoreMerges: j["ignore_merges"]?.boolValue ?? false)
    }

    func tokenize(_ word: [UInt32], into out: inout [ModelToken]) throws {
        if word.isEmpty { return }
        lock.lock()
        if let hit = cache[word] { lock.unlock(); out += hit; return }
        lock.unlock()
        var toks: [ModelToken] = []
        try merge(word, &toks)
        lock.lock()
        if cache.count < 10_000 { cache[word] = toks }
        lock.unlock()
        out += toks
    }

    private func merge(_ word: [UInt32], _ out: inout [ModelToken]) throws {
        if ignoreMerges || (newlineRunsWhole && word.allSatisfy({ $0 == 10 })), let id = vocab.id(utf8Bytes(word)) {
            out.append(ModelToken(id: Int32(id), lo: 0, hi: Int32(word.count))); return
        }
        // Symbols: id and code-point span; `len` counts UTF-8 bytes as HF does for unk fusing.
        var ids: [Int32] = [], lo: [Int32] = [], hi: [Int32] = []
        ids.reserveCapacity(word.count)
        var unk: (id: Int, lo: Int, hi: Int)? = nil
        var key: [UInt8] = []
        var tmp: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        for (i, c) in word.enumerated() {
            key.removeAll(keepingCapacity: true)
            if i > 0 { key += prefix }
            let n = utf8Encode(c, &tmp)
            withUnsafeBytes(of: &tmp) { for k in 0..<n { key.append($0[k]) } }
            if i == word.count - 1 { key += suffix }
            if let id = key.withUnsafeBufferPointer({ vocab.id($0.baseAddress!, $0.count) }) {  // invariant: key holds a char
                if let u = unk { ids.append(Int32(u.id)); lo.append(Int32(u.lo)); hi.append(Int32(u.hi)); unk = nil }
                ids.append(Int32(id)); lo.append(Int32(i)); hi.append(Int32(i + 1))
                continue
            }
            if byteFallback, key.allSatisfy({ byteIds[Int($0)] >= 0 }) {
                for b in key { ids.append(Int32(byteIds[Int(b)])); lo.append(Int32(i)); hi.append(Int32(i + 1)) }
                continue
            }
            if let u = unkId {
                if let pending = unk {
                    if fuseUnk { unk = (u, pending.lo, i + 1) } else {
                        ids.append(Int32(pending.id)); lo.append(Int32(pending.lo)); hi.append(Int32(pending.hi))
                        unk = (u, i, i + 1)
                    }
                } else { unk = (u, i, i + 1) }
            }
        }
        if let u = unk { ids.append(Int32(u.id)); lo.append(Int32(u.lo)); hi.append(Int32(u.hi)) }
        // Merge: repeatedly the lowest (rank, position) pair among live neighbours.
        var n = ids.count
        if n > 1 && !merges.isEmpty {
            var ranks = [UInt64](repeating: .max, count: n)  // rank<<32|newId of pair (k, k+1)
            @inline(__always) func pairRank(_ a: Int32, _ b: Int32) -> UInt64 {
                merges[UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))] ?? .max
            }
            for k in 0..<(n - 1) { ranks[k] = pairRank(ids[k], ids[k + 1]) }
            while n > 1 {
                var best = 0
                var bestRank = UInt64.max
                for k in 0..<(n - 1) where ranks[k] < bestRank { bestRank = ranks[k]; best = k }
                if bestRank == .max { break }
                ids[best] = Int32(truncatingIfNeeded: bestRank & 0xFFFF_FFFF)
                hi[best] = hi[best + 1]
                ids.remove(at: best + 1); lo.remove(at: best + 1); hi.remove(at: best + 1); ranks.remove(at: best + 1)
                n -= 1
                if best > 0 { ranks[best - 1] = pairRank(ids[best - 1], ids[best]) }
                ranks[best] = best + 1 < n ? pairRank(ids[best], ids[best + 1]) : .max
            }
        }
        for k in 0..<n { out.append(ModelToken(id: ids[k], lo: lo[k], hi: hi[k])) }
    }
}
