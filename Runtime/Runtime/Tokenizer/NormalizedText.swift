// NormalizedText: text being tokenized, as code points, each aligned to a range of the original text.
//
// This is Hugging Face's NormalizedString with code points instead of bytes: `chars[i]` came from
// original code points `spans[i].start..<spans[i].end` (absolute indices into the encoded text), so
// every offset the tokenizer reports is a code-point offset, as Python's are. `transform` applies a
// list of (char, change) edits with HF's exact alignment rule: a kept or replaced char takes the
// alignment of the char it replaces, an inserted one (change > 0) the alignment of the char before it,
// and a negative change removes that many following chars.

/// The original code points one normalized char came from.
struct Span: Equatable {
    var start: Int32
    var end: Int32
}

struct NormalizedText {
    var chars: [UInt32]
    var spans: [Span]
    /// Original offset where this piece begins (what an insertion at its very start aligns to).
    var origin: Int32

    init(chars: [UInt32], spans: [Span], origin: Int32) {
        self.chars = chars; self.spans = spans; self.origin = origin
    }

    /// Original text `scalars[range]`, aligned one to one.
    init<C: Collection>(_ scalars: C, from start: Int) where C.Element == UInt32 {
        chars = Array(scalars)
        let n = chars.count
        spans = (0..<n).map { Span(start: Int32(start + $0), end: Int32(start + $0 + 1)) }
        origin = Int32(start)
    }

    var count: Int { chars.count }
    var isEmpty: Bool { chars.isEmpty }

    /// Original range of chars[lo..<hi]: from the first char's start to the last char's end.
    func originalRange(_ lo: Int, _ hi: Int) -> (Int, Int) {
        if lo >= hi {
            if lo < count { return (Int(spans[lo].start), Int(spans[lo].start)) }
            let o = count > 0 ? Int(spans[count - 1].end) : Int(origin)
            return (o, o)
        }
        return (Int(spans[lo].start), Int(spans[hi - 1].end))
    }

    /// The sub-piece chars[lo..<hi], keeping alignments.
    func slice(_ lo: Int, _ hi: Int) -> NormalizedText {
        NormalizedText(chars: Array(chars[lo..<hi]), spans: Array(spans[lo..<hi]),
                       origin: lo < count ? spans[lo].start : (count > 0 ? spans[count - 1].end : origin))
    }

    /// HF's transform_range over chars[lo..<hi]: `dest` replaces them; `initialRemoved` chars at the
    /// start of the range are dropped first.
    mutating func transform(_ lo: Int, _ hi: Int, _ dest: [(UInt32, Int)], initialRemoved: Int = 0) {
        var nc: [UInt32] = [], ns: [Span] = []
        nc.reserveCapacity(count + dest.count - (hi - lo))
        ns.reserveCapacity(nc.capacity)
        nc += chars[0..<lo]; ns += spans[0..<lo]
        let empty = Span(start: origin, end: origin)
        var idx = lo + initialRemoved
        for (c, change) in dest {
            if change > 0 {
                ns.append(idx < 1 ? empty : spans[idx - 1])
            } else {
                let r = Swift.min(idx, count - 1)  // a malformed edit list cannot read past the end
                ns.append(r >= 0 ? spans[r] : empty)
                idx += 1
                if change < 0 { idx += -change }
            }
            nc.append(c)
        }
        nc += chars[hi...]; ns += spans[hi...]
        chars = nc; spans = ns
    }

    mutating func transform(_ dest: [(UInt32, Int)], initialRemoved: Int = 0) {
        transform(0, count, dest, initialRemoved: initialRemoved)
    }

    /// Keep only chars for which `keep` holds (HF's NormalizedString::filter).
    mutating func filter(_ keep: (UInt32) -> Bool) {
        var nc: [UInt32] = [], ns: [Span] = []
        for i in 0..<count where keep(chars[i]) { nc.append(chars[i]); ns.append(spans[i]) }
        chars = nc; spans = ns
    }

    /// Map each char to one char (alignments unchanged).
    mutating func map(_ f: (UInt32) -> UInt32) {
        for i in 0..<count { chars[i] = f(chars[i]) }
    }

    /// HF's prepend: the new chars all take the first char's alignment.
    mutating func prepend(_ s: [UInt32]) {
        guard let first = chars.first, !s.isEmpty else { return }
        var dest: [(UInt32, Int)] = s.enumerated().map { ($0.element, $0.offset == 0 ? 0 : 1) }
        dest.append((first, 1))
        transform(0, 1, dest)
    }

    /// Replace every match of `pattern` by `content` (HF's NormalizedString::replace).
    mutating func replace(_ pattern: SplitPattern, _ content: [UInt32]) {
        let matches = pattern.matches(chars)
        guard !matches.isEmpty else { return }
        var nc: [UInt32] = [], ns: [Span] = []
        var last = 0
        for (s, e) in matches {
            nc += chars[last..<s]; ns += spans[last..<s]
            for c in content {
                ns.append(e < 1 ? Span(start: origin, end: origin) : spans[e - 1])
                nc.append(c)
            }
            last = e
        }
        nc += chars[last...]; ns += spans[last...]
        chars = nc; spans = ns
    }

    /// Strip White_Space at either end (HF's lrstrip).
    mutating func strip(left: Bool, right: Bool) {
        var lo = 0, hi = count
        if left { while lo < hi && UChar.isSpace(chars[lo]) { lo += 1 } }
        if right { while hi > lo && UChar.isSpace(chars[hi - 1]) { hi -= 1 } }
        if lo > 0 || hi < count { self = slice(lo, hi) }
    }

    var string: String {
        var v = String.UnicodeScalarView()
        for c in chars { if let u = Unicode.Scalar(c) { v.append(u) } }
        return String(v)
    }
}

/// How a split keeps the delimiters it finds (HF's SplitDelimiterBehavior).
enum SplitBehavior: String {
    case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext", contiguous = "Contiguous"
}

extension NormalizedText {
    /// Split around `matches` (sorted, non-overlapping ranges of chars) as HF's NormalizedString::split
    /// does; empty pieces are dropped.
    func split(matches: [(Int, Int)], behavior: SplitBehavior, invert: Bool = false) -> [NormalizedText] {
        // All ranges, each flagged as a match or not.
        var parts: [(Int, Int, Bool)] = []
        if count == 0 { return [] }
        var prev = 0
        for (s, e) in matches where e > s {
            if prev < s { parts.append((prev, s, invert)) }
            parts.append((s, e, !invert))
            prev = e
        }
        if prev < count { parts.append((prev, count, invert)) }
        var out: [(Int, Int, Bool)] = []  // (lo, hi, remove)
        switch behavior {
        case .isolated: out = parts.map { ($0.0, $0.1, false) }
        case .removed: out = parts
        case .contiguous:
            var previous = false
            for p in parts {
                if p.2 == previous, !out.isEmpty { out[out.count - 1].1 = p.1 } else { out.append((p.0, p.1, false)) }
                previous = p.2
            }
        case .mergedWithPrevious:
            var previous = false
            for p in parts {
                if p.2 && !previous, !out.isEmpty { out[out.count - 1].1 = p.1 } else { out.append((p.0, p.1, false)) }
                previous = p.2
            }
        case .mergedWithNext:
            var previous = false
            for p in parts.reversed() {
                if p.2 && !previous, !out.isEmpty { out[out.count - 1].0 = p.0 } else { out.append((p.0, p.1, false)) }
                previous = p.2
            }
            out.reverse()
        }
        return out.compactMap { $0.2 || $0.0 >= $0.1 ? nil : slice($0.0, $0.1) }
    }

    /// Split on every char for which `isDelimiter` holds.
    func split(where isDelimiter: (UInt32) -> Bool, behavior: SplitBehavior) -> [NormalizedText] {
        var m: [(Int, Int)] = []
        for i in 0..<count where isDelimiter(chars[i]) { m.append((i, i + 1)) }
        return split(matches: m, behavior: behavior)
    }
}
