"""ls-llama-bench's reference side: PyTorch + PEFT on the same SmolLM2 GGUF (transformers dequantizes it to
fp32), as the reference's scripts train: LlamaForSequenceClassification (2 labels, pad = eos), LoRA r 12,
α 32, dropout 0.1 on q_proj/v_proj with the score head in modules_to_save, AdamW lr 1e-4, clipping to 1.

Args: THREADS GGUF_DIR GGUF_NAME TEXTS_JSON. Prints {"train_ex_s", "train_peak_mb", "predict_per_s", "torch",
"transformers", "peft"}. train_ex_s: examples per second from the median of steps 2-11 (batch 8, texts[8k:8k+8], padded
to the batch's longest, max 64 tokens); train_peak_mb: this process's peak RSS after those steps (the
model loaded, 6 steps). predict_per_s: texts per second of the eval-mode forward on the first 256 texts,
batch 8, best of 2 after a warm-up.
"""
import json, resource, sys, time
import torch, transformers, peft
from transformers import AutoTokenizer, LlamaForSequenceClassification
from peft import LoraConfig, get_peft_model

threads, gguf_dir, gguf_name, texts_path = sys.argv[1:5]
torch.set_num_threads(int(threads))
tok = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
if tok.pad_token is None:
    tok.pad_token = tok.eos_token
tok.padding_side = "right"
base = LlamaForSequenceClassification.from_pretrained(gguf_dir, gguf_file=gguf_name, num_labels=2, torch_dtype=torch.float32)
base.config.pad_token_id = tok.pad_token_id
model = get_peft_model(base, LoraConfig(task_type="SEQ_CLS", r=12, lora_alpha=32, lora_dropout=0.1, target_modules=["q_proj", "v_proj"]))
texts = json.load(open(texts_path))
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.01)
model.train()
times = []
for step in range(11):
    batch = tok(texts[step * 8:(step + 1) * 8], padding="longest", truncation=True, max_length=64, return_tensors="pt")
    labels = torch.tensor([(step + i) % 2 for i in range(8)])
    t0 = time.perf_counter()
    loss = model(**batch, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
    opt.step()
    opt.zero_grad()
    if step > 0:
        times.append(time.perf_counter() - t0)
out = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
out["train_ex_s"] = 8 / sorted(times)[len(times) // 2]
out["train_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
model.eval()

def predict(xs):
    with torch.no_grad():
        for i in range(0, len(xs), 8):
            b = tok(xs[i:i + 8], padding="longest", truncation=True, max_length=64, return_tensors="pt")
            model(**b).logits.softmax(-1)

predict(texts[:8])
best = 0.0
for _ in range(2):
    t0 = time.perf_counter()
    predict(texts[:256])
    best = max(best, 256 / (time.perf_counter() - t0))
out["predict_per_s"] = best
print(json.dumps(out))
