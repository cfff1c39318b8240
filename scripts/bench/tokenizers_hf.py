"""Hugging Face tokenizers' speed on the parity corpus, single thread, for scripts/bench/tokenizers.sh:
encode() each line, and encode_batch() of the whole corpus on one thread, each repeated for about 3 s
after one warm-up pass."""
import json, os, sys, time
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import Tokenizer

root = sys.argv[1] if len(sys.argv) > 1 else "."
corpus = [json.loads(l) for l in open(os.path.join(root, "data/fixtures/tokenizers/corpus.jsonl"), encoding="utf-8")]
for name, path in [("minilm-wordpiece", "data/models/all-MiniLM-L6-v2/tokenizer.json"),
                   ("smollm2-bpe", "data/fixtures/tokenizers/smollm2.tokenizer.json")]:
    tok = Tokenizer.from_file(os.path.join(root, path))
    tok.no_truncation(); tok.no_padding()
    for line in corpus:
        tok.encode(line)
    tokens = lines = 0
    start = time.perf_counter()
    while True:
        for line in corpus:
            tokens += len(tok.encode(line).ids); lines += 1
        elapsed = time.perf_counter() - start
        if elapsed >= 3:
            break
    print(json.dumps({"tokenizer": name, "impl": "hf-tokenizers encode", "tokens_per_s": int(tokens / elapsed), "lines_per_s": int(lines / elapsed)}))
    # encode_batch on one Rayon thread: the whole corpus per call, so Python's per-call cost is amortized.
    tokens = lines = 0
    start = time.perf_counter()
    while True:
        tokens += sum(len(e.ids) for e in tok.encode_batch(corpus)); lines += len(corpus)
        elapsed = time.perf_counter() - start
        if elapsed >= 3:
            break
    print(json.dumps({"tokenizer": name, "impl": "hf-tokenizers encode_batch", "tokens_per_s": int(tokens / elapsed), "lines_per_s": int(lines / elapsed)}))
