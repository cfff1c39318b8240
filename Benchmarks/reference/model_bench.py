"""Reference side of `make bench` for the models (Benchmarks/ModelBench): the same work in
transformers / sentence-transformers at the same thread count. Prints one JSON object.
Usage: python model_bench.py THREADS llama GGUF_DIR GGUF_FILE PROMPT_LEN DECODE_LEN
       python model_bench.py THREADS embed MODEL_DIR TEXTS_FILE
"""
import json, resource, sys, time
import torch

threads, what = int(sys.argv[1]), sys.argv[2]
torch.set_num_threads(threads)
out = {"torch": torch.__version__, "threads": threads}

if what == "llama":
    from transformers import AutoModelForCausalLM
    gdir, gfile, plen, dlen = sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
    t0 = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(gdir, gguf_file=gfile, dtype=torch.float32).eval()
    out["load_s"] = time.perf_counter() - t0
    prompt = torch.tensor([[(i * 7919) % model.config.vocab_size for i in range(plen)]])
    with torch.no_grad():
        model(prompt[:, :8])  # warm-up
        t0 = time.perf_counter()
        o = model(prompt, use_cache=True)
        out["prefill_tok_s"] = plen / (time.perf_counter() - t0)
        past, nxt = o.past_key_values, o.logits[:, -1:].argmax(-1)
        t0 = time.perf_counter()
        for _ in range(dlen):
            o = model(nxt, past_key_values=past, use_cache=True)
            past, nxt = o.past_key_values, o.logits[:, -1:].argmax(-1)
        out["decode_tok_s"] = dlen / (time.perf_counter() - t0)
elif what == "embed":
    from sentence_transformers import SentenceTransformer
    mdir, texts_file = sys.argv[3], sys.argv[4]
    texts = [json.loads(l)["text"] for l in open(texts_file)]
    t0 = time.perf_counter()
    st = SentenceTransformer(mdir, device="cpu")
    out["load_s"] = time.perf_counter() - t0
    st.encode(texts[:64], batch_size=32)  # warm-up
    t0 = time.perf_counter()
    st.encode(texts, batch_size=32)
    out["sentences_s"] = len(texts) / (time.perf_counter() - t0)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
