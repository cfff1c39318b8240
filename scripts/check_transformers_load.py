"""Checks that a model directory written by `lm-infinite train` loads in transformers (model and
tokenizer) and scores a text as our runtime does: prints transformers' token count and mean NLL.
Usage: .refenv/bin/python scripts/check_transformers_load.py MODEL_DIR TEXT_FILE [CHARS]
"""
import json, sys
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

model_dir, text_file = sys.argv[1], sys.argv[2]
chars = int(sys.argv[3]) if len(sys.argv) > 3 else 200
text = open(text_file, encoding="utf-8").read()[:chars]
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
ids = tok(text, add_special_tokens=False)["input_ids"]
with torch.no_grad():
    logits = model(torch.tensor([ids])).logits[0]
nll = torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(ids[1:])).item()
print(json.dumps({"text": text, "tokens": len(ids), "nll": nll}))
