"""Reference side of zo-bench: one PyTorch MeZO step (ZO-SGD, in-place perturbation as MeZO's code
does it) or one Adam step (first order) on SmolLM2-135M loaded by transformers from the GGUF, batch
16 of the given JSONL prompts (label-word loss, as zo trains), same threads. Prints peak RSS and
seconds per step. Usage: python zo_bench.py THREADS GGUF_DIR GGUF_FILE DATA.jsonl mezo|adam|infer
"""
import json, resource, sys, time
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

threads, gdir, gfile, data, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
torch.set_num_threads(threads)
tok = AutoTokenizer.from_pretrained(gdir, gguf_file=gfile)
model = AutoModelForCausalLM.from_pretrained(gdir, gguf_file=gfile, dtype=torch.float32).eval()
rows = [json.loads(l) for l in open(data)][:16]
label_ids = [tok(" terrible", add_special_tokens=False)["input_ids"][0], tok(" great", add_special_tokens=False)["input_ids"][0]]
enc = [tok(r["text"] + " It was", add_special_tokens=False)["input_ids"] for r in rows]
T = max(len(e) for e in enc)
ids = torch.tensor([e + [0] * (T - len(e)) for e in enc])
mask = torch.tensor([[1] * len(e) + [0] * (T - len(e)) for e in enc])
last = torch.tensor([len(e) - 1 for e in enc])
labels = torch.tensor([r["label"] for r in rows])

def loss_fn():
    h = model.model(input_ids=ids, attention_mask=mask).last_hidden_state
    h = h[torch.arange(len(rows)), last]
    logits = h @ model.lm_head.weight[label_ids].T
    return torch.nn.functional.cross_entropy(logits, labels)

params = [p for p in model.parameters() if p.requires_grad]
def mezo_step(seed, eps=1e-3, lr=1e-6):
    def perturb(scale):
        torch.manual_seed(seed)
        for p in params:
            z = torch.normal(mean=0, std=1, size=p.data.size())
            p.data = p.data + scale * z * eps
    with torch.inference_mode():
        perturb(1); l1 = loss_fn()
        perturb(-2); l2 = loss_fn()
        perturb(1)
        g = ((l1 - l2) / (2 * eps)).item()
        torch.manual_seed(seed)
        for p in params:
            z = torch.normal(mean=0, std=1, size=p.data.size())
            p.data = p.data - lr * g * z

opt = torch.optim.Adam(params, lr=1e-5) if mode == "adam" else None
def adam_step():
    l = loss_fn(); opt.zero_grad(); l.backward(); opt.step()

def infer():
    with torch.inference_mode():
        loss_fn()

step = {"mezo": mezo_step, "adam": adam_step, "infer": infer}[mode]
args = (lambda i: (i,)) if mode == "mezo" else (lambda i: ())
step(*args(0))
t0 = time.perf_counter()
for i in range(1, 3):
    step(*args(i))
print(json.dumps({"mode": mode, "seconds_per_step": (time.perf_counter() - t0) / 2,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
