#!/usr/bin/env python3
"""compare_llama_cpp.py [GGUF...]: our GGUF tokenizer against llama.cpp's beyond its test suite.

Encodes every line of data/fixtures/tokenizers/corpus.jsonl (1,204 multilingual lines and hard cases)
with `tokenize --no-special` and with llama.cpp (scripts/bench/llama_tokenize_speed.cpp --ids, built by
scripts/bench/build-llama-cpp.sh), no special tokens added on either side, and prints per vocabulary how
many lines differ, with the first few. Default: every GGUF in data/models/llama.cpp-vocab and SmolLM2's.
llama.cpp is not the ground truth (its suite's expected ids come from the original tokenizers); a line
that differs is a place to look, not a verdict. Special tokens in the text ("<s>" in a corpus line) are
parsed by us, as Hugging Face does, and not by llama.cpp (parse_special false): such lines are counted
apart.

--fixture OUT GGUF: write llama.cpp's ids for every corpus line as OUT (JSON lines, one list per corpus
line), the fixture a test compares our tokenizer with (data/fixtures/tokenizers/nomic_bert_moe.llama_cpp.jsonl).
"""
import glob, json, os, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
corpus = [json.loads(l) for l in open(os.path.join(root, "data/fixtures/tokenizers/corpus.jsonl"), encoding="utf-8")]
helper = os.path.join(root, ".refenv/llama.cpp/build/bin/llama-tokenize-speed")
fixture = None
if sys.argv[1:2] == ["--fixture"]:
    fixture, sys.argv = sys.argv[2], sys.argv[:1] + sys.argv[3:]
paths = sys.argv[1:] or sorted(glob.glob(os.path.join(root, "data/models/llama.cpp-vocab/*.gguf"))) + \
    [os.path.join(root, "data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")]
records = "".join(json.dumps({"text": l}) + "\n" for l in corpus).encode()
for path in paths:
    name = os.path.basename(path)
    ours = subprocess.run([os.path.join(root, ".build/release/tokenize"), "--model", path, "--no-special", "--quiet"],
                          input=records, capture_output=True)
    if ours.returncode != 0:
        print(f"{name}: ours: {ours.stderr.decode().strip().splitlines()[-1][:150]}")
        continue
    theirs = subprocess.run([helper, "--ids", path], input=b"".join(b"%d\n%s" % (len(l.encode()), l.encode()) for l in corpus), capture_output=True)
    if theirs.returncode != 0:
        print(f"{name}: llama.cpp failed to load it")
        continue
    a = [json.loads(l)["ids"] for l in ours.stdout.decode().splitlines()]
    b = [[int(x) for x in l.split()] for l in theirs.stdout.decode().split("\n")[:len(corpus)]]
    if fixture:
        with open(fixture, "w") as f:
            f.writelines(json.dumps(x, separators=(",", ":")) + "\n" for x in b)
    marks = ["<s>", "</s>", "<unk>", "<pad>", "<mask>", "<|", "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]"]
    special = [any(m in t for m in marks) for t in corpus]
    diff = [i for i in range(len(corpus)) if a[i] != b[i]]
    plain = [i for i in diff if not special[i]]
    print(f"{name}: {len(corpus) - len(diff)}/{len(corpus)} lines equal; {len(plain)} differ without special-token text")
    for i in plain[:int(os.environ.get("SHOW", "3"))]:
        print(f"   line {i + 1} {corpus[i][:60]!r}\n     ours  {a[i][:24]}\n     llama {b[i][:24]}")
