"""prokd-bench's reference side: TSL's teacher step in PyTorch + transformers on multilingual-e5-small:
BertForTokenClassification (dropout 0.1 + Linear on every token), labels on each word's first sub-token
(-100 elsewhere), embeddings and layers 0-2 frozen, AdamW lr 5e-5 with weight decay 0.01 (none on biases and
LayerNorm weights), clipping to 1.

Args: THREADS MODEL_DIR CONLL_FILE. Prints {"train_sent_s", "train_peak_mb", "tag_sent_s", "torch",
"transformers"}. train_sent_s: sentences per second from the median of steps 2-11 (batch 16, sentences
16k..16k+15, is_split_into_words, padded to the batch's longest, max 128 tokens); train_peak_mb: this process's
peak RSS after them; tag_sent_s: sentences per second of the eval-mode forward + softmax on all sentences,
batch 32, best of 2 after a warm-up.
"""
import json, resource, sys, time
import torch, transformers
from transformers import AutoTokenizer, BertForTokenClassification

threads, model_dir, conll = sys.argv[1:4]
torch.set_num_threads(int(threads))
sents, words, tags = [], [], []
for line in open(conll, encoding="utf-8"):
    cols = line.split()
    if not cols or cols[0] == "-DOCSTART-":
        if words:
            sents.append((words, tags))
        words, tags = [], []
        continue
    words.append(cols[0]); tags.append(cols[-1])
if words:
    sents.append((words, tags))
names = sorted({t for _, ts in sents for t in ts})
tok = AutoTokenizer.from_pretrained(model_dir)
model = BertForTokenClassification.from_pretrained(model_dir, num_labels=len(names))
for n, p in model.named_parameters():
    if "embeddings" in n or any(f"encoder.layer.{i}." in n for i in range(3)):
        p.requires_grad = False
no_decay = ["bias", "LayerNorm.weight"]
params = [p for p in model.parameters() if p.requires_grad]
groups = [{"params": [p for n, p in model.named_parameters() if p.requires_grad and not any(d in n for d in no_decay)], "weight_decay": 0.01},
          {"params": [p for n, p in model.named_parameters() if p.requires_grad and any(d in n for d in no_decay)], "weight_decay": 0.0}]
opt = torch.optim.AdamW(groups, lr=5e-5, eps=1e-8)

def batch(items):
    enc = tok([w for w, _ in items], is_split_into_words=True, padding="longest", truncation=True, max_length=128, return_tensors="pt")
    labels = []
    for i, (_, ts) in enumerate(items):
        prev, row = None, []
        for wid in enc.word_ids(i):
            row.append(-100 if wid is None or wid == prev else names.index(ts[wid]))
            prev = wid
        labels.append(row)
    return enc, torch.tensor(labels)

model.train()
times = []
for step in range(11):
    enc, labels = batch(sents[step * 16:(step + 1) * 16])
    t0 = time.perf_counter()
    loss = model(**enc, labels=labels).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    opt.zero_grad()
    if step > 0:
        times.append(time.perf_counter() - t0)
out = {"torch": torch.__version__, "transformers": transformers.__version__}
out["train_sent_s"] = 16 / sorted(times)[len(times) // 2]
out["train_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
model.eval()

def tag(items):
    with torch.no_grad():
        for i in range(0, len(items), 32):
            enc = tok([w for w, _ in items[i:i + 32]], is_split_into_words=True, padding="longest", truncation=True, max_length=128, return_tensors="pt")
            model(**enc).logits.softmax(-1)

tag(sents[:32])
best = 0.0
for _ in range(2):
    t0 = time.perf_counter()
    tag(sents)
    best = max(best, len(sents) / (time.perf_counter() - t0))
out["tag_sent_s"] = best
print(json.dumps(out))
