"""gliclass-bench's reference side: the gliclass package's ZeroShotClassificationPipeline (0.1.21) on the same
saved model, the same texts and labels, batch 8 (its default), torch on THREADS threads.

Args: THREADS MODEL_DIR TEXTS_JSON LABELS4_JSON LABELS20_JSON. Prints {"per_s_4", "per_s_20", "train_step_s",
"torch", "gliclass"}. Each throughput: texts per second of pipe(texts, labels) after one warm-up call on 8 texts
(best of 2 runs). train_step_s: one training step as the reference's Trainer runs it (model(**inputs, labels) on
a padded batch of 8 texts with the 4 labels, the first one true; backward; clip to norm 1; AdamW step), median
of 5 after one warm-up step.
"""
import json, sys, time
import torch
import gliclass
from transformers import AutoTokenizer
from gliclass import GLiClassModel
from gliclass.pipeline import ZeroShotClassificationPipeline

threads, model_dir, texts_path, l4, l20 = sys.argv[1:6]
torch.set_num_threads(int(threads))
model = GLiClassModel.from_pretrained(model_dir)
model.eval()
tok = AutoTokenizer.from_pretrained(model_dir)
pipe = ZeroShotClassificationPipeline(model, tok, classification_type="multi-label", device="cpu", progress_bar=False)
texts = json.load(open(texts_path))
out = {"torch": torch.__version__, "gliclass": getattr(gliclass, "__version__", "0.1.21")}
for key, path in [("per_s_4", l4), ("per_s_20", l20)]:
    labels = json.load(open(path))
    pipe(texts[:8], labels, threshold=0.5, batch_size=8)
    best = 0.0
    for _ in range(2):
        t0 = time.perf_counter()
        pipe(texts, labels, threshold=0.5, batch_size=8)
        best = max(best, len(texts) / (time.perf_counter() - t0))
    out[key] = best
# A training step on batches of 8 built by the pipeline's own input builder, padded as the collator pads.
labels = json.load(open(l4))
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
times = []
for step in range(6):
    batch = texts[step * 8:(step + 1) * 8]
    enc = [pipe.pipe.prepare_inputs([t], labels, same_labels=True) for t in batch]
    T = max(e["input_ids"].shape[1] for e in enc)
    ids = torch.zeros(len(batch), T, dtype=torch.long)
    mask = torch.zeros(len(batch), T, dtype=torch.long)
    for i, e in enumerate(enc):
        ids[i, :e["input_ids"].shape[1]] = e["input_ids"][0]
        mask[i, :e["input_ids"].shape[1]] = 1
    y = torch.zeros(len(batch), len(labels))
    y[:, 0] = 1
    t0 = time.perf_counter()
    loss = model(input_ids=ids, attention_mask=mask, labels=y, max_num_classes=len(labels)).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad()
    if step > 0:
        times.append(time.perf_counter() - t0)
out["train_step_s"] = sorted(times)[len(times) // 2]
print(json.dumps(out))
