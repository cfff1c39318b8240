"""gliclass-bench's reference side: the gliclass package's ZeroShotClassificationPipeline (0.1.21) on the same
saved model, the same texts and labels, batch 8 (its default), torch on THREADS threads.

Args: THREADS MODEL_DIR TEXTS_JSON LABELS4_JSON LABELS20_JSON. Prints {"per_s_4", "per_s_20", "torch", "gliclass"}.
Each figure: texts per second of pipe(texts, labels) after one warm-up call on 8 texts (best of 2 runs).
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
print(json.dumps(out))
