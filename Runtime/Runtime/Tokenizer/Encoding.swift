// Encoding: what encode returns, one entry per token: ids, token strings, code-point offsets
// [start, end) into the original text (as Python's), type ids, special-token and attention masks and
// word indices; plus the overflowing pieces truncation cut off. Truncation and padding of encodings
// live here too, as Hugging Face defines them.

public struct Encoding: Equatable, Sendable {
    public var ids: [Int] = []
    public var tokens: [String] = []
    public var offsets: [(Int, Int)] { zip(starts, ends).map { ($0, $1) } }
    public var typeIds: [Int] = []
    public var specialTokensMask: [Int] = []
    public var attentionMask: [Int] = []
    public var wordIds: [Int?] = []
    public var overflowing: [Encoding] = []
    var starts: [Int] = []
    var ends: [Int] = []

    public init() {}
    public var count: Int { ids.count }

    mutating func append(id: Int, token: String, start: Int, end: Int, typeId: Int, special: Bool, word: Int?) {
        ids.append(id); tokens.append(token); starts.append(start); ends.append(end); typeIds.append(typeId)
        specialTokensMask.append(special ? 1 : 0); attentionMask.append(1); wordIds.append(word)
    }

    mutating func append(_ o: Encoding) {
        ids += o.ids; tokens += o.tokens; starts += o.starts; ends += o.ends; typeIds += o.typeIds
        specialTokensMask += o.specialTokensMask; attentionMask += o.attentionMask; wordIds += o.wordIds
    }

    func slice(_ lo: Int, _ hi: Int) -> Encoding {
        var e = Encoding()
        e.ids = Array(ids[lo..<hi]); e.tokens = Array(tokens[lo..<hi]); e.starts = Array(starts[lo..<hi])
        e.ends = Array(ends[lo..<hi]); e.typeIds = Array(typeIds[lo..<hi]); e.specialTokensMask = Array(specialTokensMask[lo..<hi])
        e.attentionMask = Array(attentionMask[lo..<hi]); e.wordIds = Array(wordIds[lo..<hi])
        return e
    }

    public static func == (a: Encoding, b: Encoding) -> Bool {
        a.ids == b.ids && a.tokens == b.tokens && a.starts == b.starts && a.ends == b.ends && a.typeIds == b.typeIds
            && a.specialTokensMask == b.specialTokensMask && a.attentionMask == b.attentionMask && a.wordIds == b.wordIds
            && a.overflowing == b.overflowing
    }

    /// Keep `maxLength` tokens from the right or the left; what is cut goes to `overflowing` in
    /// windows of `maxLength` that overlap by `stride` (HF's Encoding::truncate).
    mutating func truncate(_ maxLength: Int, stride: Int, left: Bool) throws {
        let n = count
        if maxLength >= n { return }
        if maxLength == 0 { let o = self; self = Encoding(); overflowing = [o]; return }
        guard stride < maxLength else { throw TokenizerError("truncation stride \(stride) must be less than the length left \(maxLength)") }
        let step = maxLength - stride
        var parts: [(Int, Int)] = []
        if !left {
            var s = 0
            while s < n { let e = Swift.min(s + maxLength, n); parts.append((s, e)); if e == n { break }; s += step }
        } else {
            var stop = n
            while stop > 0 { let s = Swift.max(stop - maxLength, 0); parts.append((s, stop)); if s == 0 { break }; stop -= step }
        }
        var first = slice(parts[0].0, parts[0].1)
        first.overflowing = parts.dropFirst().map { slice($0.0, $0.1) }
        self = first
    }

    /// Pad to `length` with the pad token (HF's Encoding::pad).
    mutating func pad(to length: Int, id: Int, typeId: Int, token: String, left: Bool) {
        for k in overflowing.indices { overflowing[k].pad(to: length, id: id, typeId: typeId, token: token, left: left) }
        let n = length - count
        if n <= 0 { return }
        var p = Encoding()
        for _ in 0..<n { p.append(id: id, token: token, start: 0, end: 0, typeId: typeId, special: true, word: nil) }
        p.attentionMask = [Int](repeating: 0, count: n)
        let over = overflowing
        if left { p.append(self); self = p } else { append(p) }
        overflowing = over
    }
}

/// tokenizer.json's "truncation": max_length, strategy, stride, direction.
public struct Truncation: Sendable {
    public enum Strategy: String, Sendable { case longestFirst = "LongestFirst", onlyFirst = "OnlyFirst", onlySecond = "OnlySecond" }
    public var maxLength: Int
    public var strategy: Strategy = .longestFirst
    public var stride: Int = 0
    public var left = false
    public init(maxLength: Int, strategy: Strategy = .longestFirst, stride: Int = 0, left: Bool = false) {
        self.maxLength = maxLength; self.strategy = strategy; self.stride = stride; self.left = left
    }
}

/// tokenizer.json's "padding": to the longest in a batch or a fixed length, either side.
public struct Padding: Sendable {
    public var fixedLength: Int? = nil  // nil: longest in the batch
    public var left = false
    public var padToMultipleOf: Int? = nil
    public var padId = 0
    public var padTypeId = 0
    public var padToken = "[PAD]"
    public init(fixedLength: Int? = nil, left: Bool = false, padToMultipleOf: Int? = nil, padId: Int = 0, padTypeId: Int = 0, padToken: String = "[PAD]") {
        self.fixedLength = fixedLength; self.left = left; self.padToMultipleOf = padToMultipleOf
        self.padId = padId; self.padTypeId = padTypeId; self.padToken = padToken
    }
}

/// HF's truncate_encodings: shorten one sequence or a pair to `t.maxLength` in total.
func truncatePair(_ a: inout Encoding, _ b: inout Encoding?, _ t: Truncation, maxLength: Int) throws {
    if maxLength == 0 {
        try a.truncate(0, stride: t.stride, left: t.left)
        if b != nil { try b!.truncate(0, stride: t.stride, left: t.left) }
        return
    }
    let total = a.count + (b?.count ?? 0)
    guard total > maxLength else { return }
    let toRemove = total - maxLength
    switch t.strategy {
    case .longestFirst:
        if var other = b {
            var n1 = a.count, n2 = other.count
            let swap = n1 > n2
            if swap { Swift.swap(&n1, &n2) }
            n2 = n1 > maxLength ? n1 : Swift.max(n1, maxLength - n1)
            if n1 + n2 > maxLength { n1 = maxLength / 2; n2 = n1 + maxLength % 2 }
            if swap { Swift.swap(&n1, &n2) }
            try a.truncate(n1, stride: t.stride, left: t.left)
            try other.truncate(n2, stride: t.stride, left: t.left)
            b = other
        } else {
            try a.truncate(total - toRemove, stride: t.stride, left: t.left)
        }
    case .onlyFirst, .onlySecond:
        if t.strategy == .onlyFirst {
            guard a.count > toRemove else { throw TokenizerError("Truncation error: Sequence to truncate too short to respect the provided max_length") }
            try a.truncate(a.count - toRemove, stride: t.stride, left: t.left)
        } else {
            guard var other = b else { throw TokenizerError("Truncation error: Second sequence not provided") }
            guard other.count > toRemove else { throw TokenizerError("Truncation error: Sequence to truncate too short to respect the provided max_length") }
            try other.truncate(other.count - toRemove, stride: t.stride, left: t.left)
            b = other
        }
    }
}

func padBatch(_ encs: inout [Encoding], _ p: Padding) {
    guard !encs.isEmpty else { return }
    var length = p.fixedLength ?? encs.map(\.count).max()!  // invariant: encs is not empty (guard above)
    if let m = p.padToMultipleOf, m > 0, length % m > 0 { length += m - length % m }
    for k in encs.indices { encs[k].pad(to: length, id: p.padId, typeId: p.padTypeId, token: p.padToken, left: p.left) }
}
