"""ptec-bench's reference side: PTEC in PyTorch + transformers (fp32) on the same SmolLM2 GGUF (transformers
dequantizes it), as the reference's ptec_tuner.py trains it: LlamaForSequenceClassification (22 labels), every
parameter frozen but score.weight and a soft prompt nn.Parameter [sp_len, C]; per text the soft prompt, then the
text's token embeddings, left-padded as the reference does (flip, pad_sequence, flip) with the attention mask, the
head reading position -1 (the last real token); BCEWithLogitsLoss(pos_weight); loss.backward() per batch of 8 (each
batch's mean loss scaled by its share of the update), gradients clipped to 1 and an optimizer step every 32 examples.
The optimizer is torch.optim.AdamW with eps 1e-6 and no weight decay, standing in for transformers' AdamW (removed in
transformers 5: the same rule but for ε, which it adds before the bias correction and torch after; the same cost),
the soft prompt at lr 3e-3, the head at 1e-5, no schedule. The soft prompt starts at the embeddings of ids 1000..
(its values do not change the cost).

Args: THREADS GGUF_DIR GGUF_NAME DATA_JSON, where DATA_JSON (written by ptec-bench) holds "texts", "targets" (0/1
per label), "pos_weight", "updates" (the text indices of each update, in order), "sp_len", "max_length", "batch".
Prints {"train_ex_s", "train_peak_mb", "predict_per_s", "tokens", "torch", "transformers"}. train_ex_s: examples per
second over updates 2.. (update 1 warms up); train_peak_mb: this process's peak RSS after them (model loaded + all
updates); predict_per_s: texts per second of the no-grad forward and σ over all texts, batch 8, tokenization
included, best of 2 after a warm-up; tokens: the texts' token count after the cut at max_length.
"""
import json, resource, sys, time
import torch, transformers
from torch.nn.utils.rnn import pad_sequence
from transformers import AutoTokenizer, LlamaForSequenceClassification

threads, gguf_dir, gguf_name, data_path = sys.argv[1:5]
torch.set_num_threads(int(threads))
data = json.load(open(data_path))
texts, updates = data["texts"], data["updates"]
sp_len, max_length, batch = data["sp_len"], data["max_length"], data["batch"]
targets = torch.tensor(data["targets"], dtype=torch.float32)
pos_weight = torch.tensor(data["pos_weight"], dtype=torch.float32)

tok = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
if tok.pad_token is None:
    tok.pad_token = tok.eos_token
model = LlamaForSequenceClassification.from_pretrained(gguf_dir, gguf_file=gguf_name, num_labels=len(pos_weight),
                                                       torch_dtype=torch.float32)
model.config.pad_token_id = tok.pad_token_id  # batches > 1 need one; with inputs_embeds the head reads position -1
for name, p in model.named_parameters():
    p.requires_grad = name == "score.weight"
embeddings = model.get_input_embeddings()
soft_prompt = torch.nn.Parameter(embeddings.weight[1000:1000 + sp_len].detach().clone())
loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
opt = torch.optim.AdamW([{"params": [soft_prompt], "lr": 3e-3}, {"params": [model.score.weight], "lr": 1e-5}],
                        eps=1e-6, weight_decay=0.0)


def encode(text):
    return tok.encode(text)[:max_length]


def inputs(rows):
    """inputs_embeds [B, T, C] (soft prompt + text per row, padded on the left) and the attention mask [B, T]."""
    seqs = [torch.cat([soft_prompt, embeddings(torch.tensor(r, dtype=torch.long))]) for r in rows]
    x = pad_sequence([s.flip(dims=[0]) for s in seqs], batch_first=True).flip(dims=[1])
    mask = pad_sequence([torch.ones(len(s), dtype=torch.long) for s in seqs], batch_first=True).flip(dims=[1])
    return x, mask


ids = [encode(t) for t in texts]


def update(idx):
    for s in range(0, len(idx), batch):
        b = idx[s:s + batch]
        x, mask = inputs([ids[i] for i in b])
        logits = model(inputs_embeds=x, attention_mask=mask).logits
        loss = loss_fn(logits, targets[b]) * (len(b) / len(idx))
        loss.backward()
    torch.nn.utils.clip_grad_norm_([soft_prompt, model.score.weight], 1.0)
    opt.step()
    opt.zero_grad()


model.train()
update(updates[0])
t0 = time.perf_counter()
for u in updates[1:]:
    update(u)
elapsed = time.perf_counter() - t0
out = {"torch": torch.__version__, "transformers": transformers.__version__, "tokens": sum(len(r) for r in ids)}
out["train_ex_s"] = sum(len(u) for u in updates[1:]) / elapsed
out["train_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
model.eval()


def predict(xs):
    with torch.no_grad():
        for i in range(0, len(xs), batch):
            x, mask = inputs([encode(t) for t in xs[i:i + batch]])
            torch.sigmoid(model(inputs_embeds=x, attention_mask=mask).logits)


predict(texts[:batch])
best = 0.0
for _ in range(2):
    t0 = time.perf_counter()
    predict(texts)
    best = max(best, len(texts) / (time.perf_counter() - t0))
out["predict_per_s"] = best
print(json.dumps(out))
