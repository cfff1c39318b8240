"""Reference side of `make bench` for the models (Benchmarks/ModelBench): the same work in
transformers / sentence-transformers at the same thread count. Prints one JSON object.
Usage: python model_bench.py THREADS llama GGUF_DIR GGUF_FILE PROMPT_LEN DECODE_LEN
       python model_bench.py THREADS embed MODEL_DIR TEXTS_FILE
       python model_bench.py THREADS onnx MODEL_DIR TEXTS_FILE
onnx: the encoder exported with torch.onnx (once, into .refenv/onnx/), run by ONNX Runtime with every
graph optimization on (after onnxruntime.transformers' BERT fusions) and THREADS intra-op threads; the fast tokenizer, mean pooling over the mask and
L2 normalization around it (the sentence-transformers pipeline of these models), batches of 32,
tokenization included, model load excluded.
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
elif what == "onnx":
    import os
    import numpy as np
    import onnxruntime as ort
    from transformers import AutoModel, AutoTokenizer
    mdir, texts_file = sys.argv[3], sys.argv[4]
    texts = [json.loads(l)["text"] for l in open(texts_file)]
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../.refenv/onnx")
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, os.path.basename(os.path.normpath(mdir)) + ".onnx")
    tok = AutoTokenizer.from_pretrained(mdir)
    if not os.path.exists(path):
        model = AutoModel.from_pretrained(mdir, attn_implementation="eager").eval()
        enc = tok(["an example"], return_tensors="pt")
        names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc]
        class Encoder(torch.nn.Module):  # positional inputs by name (tracing passes arguments positionally)
            def __init__(self, m): super().__init__(); self.m = m
            def forward(self, *xs): return self.m(**dict(zip(names, xs))).last_hidden_state
        torch.onnx.export(Encoder(model), tuple(enc[n] for n in names), path, input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "seq"} for n in names + ["last_hidden_state"]},
                          opset_version=17, dynamo=False)
        # ONNX Runtime's own transformer optimizer (attention, LayerNorm, GELU and bias fusions), as its
        # documentation recommends for BERT-style encoders.
        from onnxruntime.transformers.optimizer import optimize_model
        cfg = model.config
        optimize_model(path, model_type="bert", num_heads=cfg.num_attention_heads, hidden_size=cfg.hidden_size).save_model_to_file(path)
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    t0 = time.perf_counter()
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    out["load_s"] = time.perf_counter() - t0
    out["onnxruntime"] = ort.__version__
    wanted = [i.name for i in sess.get_inputs()]
    max_len = min(getattr(tok, "model_max_length", 512), 512)
    def encode(batch):
        e = tok(batch, padding=True, truncation=True, max_length=max_len, return_tensors="np")
        h = sess.run(None, {n: e[n].astype(np.int64) for n in wanted})[0]
        m = e["attention_mask"][..., None].astype(np.float32)
        v = (h * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        return v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)
    encode(texts[:32])  # warm-up
    t0 = time.perf_counter()
    for i in range(0, len(texts), 32):
        encode(texts[i:i + 32])
    out["sentences_s"] = len(texts) / (time.perf_counter() - t0)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
