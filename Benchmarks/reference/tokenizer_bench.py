"""Hugging Face's tokenizer speed for tokenizer-bench: tokenizer_bench.py CORPUS PATH...

Each PATH is a tokenizer.json (read by `tokenizers`; PATH#digits: with SmolLM2's original pre-tokenizer,
Digits(individual_digits) then ByteLevel, put in place of the one transformers' GGUF loader wrote) or a GGUF file (read by transformers' GGUF loader,
AutoTokenizer.from_pretrained(dir, gguf_file=...), then its backend tokenizer). Each corpus line is encoded
alone with add_special_tokens=False (encode), and the whole corpus in one encode_batch call on one thread
(encode_batch): one pass by a fresh copy of the tokenizer (its BPE cache empty), median of 5.
Prints one JSON object: path -> tokens/s."""
import json, os, sys, time
os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
import logging
logging.disable(logging.WARNING)
import tokenizers, transformers
from tokenizers import Tokenizer

corpus = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
out = {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__, "errors": {}}


def cold(tok, step):
    """Median tokens/s of one pass by each of 5 fresh copies of tok."""
    text, rates = tok.to_str(), []
    for _ in range(5):
        t = Tokenizer.from_str(text)
        t.no_truncation(); t.no_padding()
        start = time.perf_counter()
        tokens = step(t)
        rates.append(tokens / (time.perf_counter() - start))
    return sorted(rates)[2]


for path in sys.argv[2:]:
    try:
        if path.endswith(".gguf"):
            from transformers import AutoTokenizer
            tok = AutoTokenizer.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path)).backend_tokenizer
        else:
            tok = Tokenizer.from_file(path.split("#")[0])
            if path.endswith("#digits"):
                from tokenizers import pre_tokenizers as P
                tok.pre_tokenizer = P.Sequence([P.Digits(individual_digits=True), P.ByteLevel(add_prefix_space=False, use_regex=True)])
    except Exception as e:  # no converter for this vocabulary type or pre-tokenizer
        out["errors"][path] = type(e).__name__ + ": " + str(e).split("\n")[0][:80]
        continue
    out[path] = {
        "encode": cold(tok, lambda t: sum(len(t.encode(l, add_special_tokens=False).ids) for l in corpus)),
        "encode_batch": cold(tok, lambda t: sum(len(e.ids) for e in t.encode_batch(corpus, add_special_tokens=False))),
    }
print(json.dumps(out))
