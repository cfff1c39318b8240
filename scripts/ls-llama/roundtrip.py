"""PEFT loads what `ls-llama train` saves (decoders): LlamaForSequenceClassification on the same base model
(transformers dequantizes the GGUF), PeftModel.from_pretrained(model dir), and its softmax over the pooled
logits compared with `ls-llama predict`'s probs on the same texts (one text per batch in PyTorch, so its
`last` pooling needs no pad id). Usage:
  python scripts/ls-llama/roundtrip.py MODEL_DIR GGUF_DIR GGUF_FILE PREDICTIONS.jsonl
PREDICTIONS.jsonl: `ls-llama predict` output ({"text", "probs"}). Prints the largest difference; exit 1 above 1e-4.
"""
import json, sys
import torch
from transformers import AutoTokenizer, LlamaForSequenceClassification
from peft import PeftModel

model_dir, gguf_dir, gguf_file, preds = sys.argv[1:5]
cfg = json.load(open(f"{model_dir}/ls_llama.json"))
tok = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
base = LlamaForSequenceClassification.from_pretrained(gguf_dir, gguf_file=gguf_file, num_labels=len(cfg["labels"]), torch_dtype=torch.float32)
model = PeftModel.from_pretrained(base, model_dir).eval()
worst = 0.0
rows = [json.loads(l) for l in open(preds)]
with torch.no_grad():
    for r in rows:
        ids = tok(r["text"], truncation=True, max_length=cfg["max_length"], return_tensors="pt")["input_ids"]
        p = model(input_ids=ids).logits.softmax(-1)[0].tolist()
        ours = [r["probs"][l] for l in cfg["labels"]]
        worst = max(worst, max(abs(a - b) for a, b in zip(p, ours)))
print(json.dumps({"texts": len(rows), "max_abs_diff": worst}))
sys.exit(0 if worst <= 1e-4 else 1)
