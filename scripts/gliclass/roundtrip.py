"""A model written by `gliclass train` loads in the reference package and scores as we do.

Loads <model> with gliclass 0.1.21's GLiClassModel.from_pretrained and AutoTokenizer, scores every record of
<records> (JSONL {"text", "labels"}) one per batch through the reference's own input builder (pipeline
prepare_inputs; one record per batch, so the reference's pooling over padding does not enter), and compares
with <ours> (`gliclass predict --model <model> --logits < records`). Prints the largest |difference| of logits
and whether every record's ids-level prediction agrees; exits 1 when a logit differs by more than 1e-4
(relative to the record's largest logit).
Run: .refenv/bin/python scripts/gliclass/roundtrip.py MODEL records.jsonl ours.jsonl
"""
import json, sys
import torch
from transformers import AutoTokenizer
from gliclass import GLiClassModel
from gliclass.pipeline import ZeroShotClassificationPipeline


def main(model_dir, records_path, ours_path):
    torch.set_num_threads(1)
    model = GLiClassModel.from_pretrained(model_dir)
    model.eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    pipe = ZeroShotClassificationPipeline(model, tok, classification_type="multi-label", device="cpu", progress_bar=False)
    records = [json.loads(l) for l in open(records_path)]
    ours = [json.loads(l) for l in open(ours_path)]
    worst, agree = 0.0, 0
    with torch.no_grad():
        for r, o in zip(records, ours):
            inputs = pipe.pipe.prepare_inputs([r["text"]], r["labels"], same_labels=True, examples=r.get("examples"), prompt=r.get("prompt"))
            logits = model(**inputs, max_num_classes=len(r["labels"]), output_hidden_states=True).logits[0, :len(r["labels"])].tolist()
            scale = max(1.0, max(abs(x) for x in logits))
            worst = max(worst, max(abs(a - b) for a, b in zip(logits, o["logits"])) / scale)
            agree += max(range(len(logits)), key=lambda i: logits[i]) == r["labels"].index(o["prediction"])
    print(f"{len(records)} records: max |logit difference| / scale {worst:.2e}; top-1 agreement {agree}/{len(records)}")
    sys.exit(0 if worst <= 1e-4 else 1)


if __name__ == "__main__":
    main(*sys.argv[1:4])
