// AddedTokens: tokens matched in the text before the model runs ("[CLS]", "<|im_start|>", "<mask>"),
// as Hugging Face's AddedVocabulary does: tokens with normalized=false are found in the original
// text first; the pieces between are normalized and searched for the normalized=true tokens (in
// their normalized spelling). Matching is leftmost-longest; single_word requires no word char on
// either side; lstrip/rstrip take the whitespace next to the token into it.

public struct AddedToken: Sendable {
    public var content: String
    public var id: Int
    public var special: Bool
    public var singleWord = false, lstrip = false, rstrip = false, normalized = false
}

struct AddedTokenMatcher {
    /// (pattern chars, id, token), grouped by first char.
    private var byFirst: [UInt32: [([UInt32], Int, AddedToken)]] = [:]
    var isEmpty: Bool { byFirst.isEmpty }

    init(_ tokens: [AddedToken], normalizer: Normalizer?) {
        for t in tokens {
            var p = NormalizedText(scalars(t.content), from: 0)
            if t.normalized, let n = normalizer { n.normalize(&p) }
            guard let f = p.chars.first else { continue }
            byFirst[f, default: []].append((p.chars, t.id, t))
        }
        for k in byFirst.keys { byFirst[k]!.sort { $0.0.count > $1.0.count } }  // invariant: k is one of its keys
    }

    /// Pieces of `text`: (lo, hi, token id or nil), covering it (HF's find_matches).
    func split(_ c: [UInt32]) -> [(Int, Int, Int?, Bool)] {
        let n = c.count
        var out: [(Int, Int, Int?, Bool)] = []
        var startOffset = 0
        var i = 0
        while i < n {
            guard let cands = byFirst[c[i]] else { i += 1; continue }
            var hit: ([UInt32], Int, AddedToken)? = nil
            for cand in cands where i + cand.0.count <= n && c[i..<(i + cand.0.count)].elementsEqual(cand.0) { hit = cand; break }
            guard let (pat, id, tok) = hit else { i += 1; continue }
            var start = i, stop = i + pat.count
            if tok.singleWord {
                let startOK = start == 0 || !UChar.isWord(c[start - 1])
                let stopOK = stop == n || !UChar.isWord(c[stop])
                if !startOK || !stopOK { i += pat.count; continue }  // the match is consumed, as Aho-Corasick does
            }
            if tok.lstrip {
                var s = start
                while s > 0 && UChar.isSpace(c[s - 1]) { s -= 1 }
                start = max(s, startOffset)
            }
            if tok.rstrip { while stop < n && UChar.isSpace(c[stop]) { stop += 1 } }
            if startOffset < start { out.append((startOffset, start, nil, false)) }
            out.append((start, stop, id, tok.special))
            startOffset = stop
            i = stop
        }
        if startOffset < n { out.append((startOffset, n, nil, false)) }
        return out
    }
}

extension AddedToken {
    /// The token as tokenizer.json's "added_tokens" lists it.
    public var json: JSONValue {
        ["id": .number(JSONNumber(id)), "content": .string(content), "single_word": .bool(singleWord), "lstrip": .bool(lstrip),
         "rstrip": .bool(rstrip), "normalized": .bool(normalized), "special": .bool(special)]
    }
}

extension Tokenizer {
    /// `tokenizerJSON` (the tokenizer.json this tokenizer was read from) with the tokens added since
    /// (addTokens) appended to its "added_tokens", so Hugging Face reads back the same ids.
    public func json(updating tokenizerJSON: JSONValue) -> JSONValue {
        guard case .object(var root) = tokenizerJSON else { return tokenizerJSON }
        var list = root["added_tokens"]?.arrayValue ?? []
        let listed = Set(list.compactMap { $0["content"]?.stringValue })
        for t in addedTokens where !listed.contains(t.content) { list.append(t.json) }
        root["added_tokens"] = .array(list)
        return .object(root)
    }
}
