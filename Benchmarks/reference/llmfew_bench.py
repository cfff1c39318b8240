"""llmfew-bench's reference side: the LLMFew model in PyTorch + PEFT (scripts/llmfew/reference_model.py) on
the same SmolLM2 GGUF (transformers dequantizes it to fp32): AutoModel, LoRA r 8, alpha 32, dropout 0.1 on
q_proj/v_proj, PTCEnc 256/3/128/3, dropout 0.1, Adam lr 1e-3, one softmax.

Args: THREADS GGUF_DIR GGUF_NAME DATA_JSON. DATA_JSON: {"train": [[M][L] series], "targets": [...],
"test": [...], "classes": K, "epochs": E}. Prints {"epoch_s" (median of E epochs of batch-4 steps after one
warm-up step), "peak_mb" (peak RSS after them), "predict_per_s" (eval-mode series/s over the test series,
batch 4, best of 2), "torch", "transformers", "peft"}.
"""
import json, pathlib, resource, sys, time
import torch, transformers, peft
from transformers import AutoModel
from peft import LoraConfig, get_peft_model

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "scripts/llmfew"))
from reference_model import LLMFew  # noqa: E402

threads, gguf_dir, gguf_name, data_path = sys.argv[1:5]
torch.set_num_threads(int(threads))
torch.manual_seed(0)
data = json.load(open(data_path))
x = torch.tensor(data["train"], dtype=torch.float32)
y = torch.tensor(data["targets"])
test = torch.tensor(data["test"], dtype=torch.float32)
llm = AutoModel.from_pretrained(gguf_dir, gguf_file=gguf_name, torch_dtype=torch.float32)
llm = get_peft_model(llm, LoraConfig(r=8, lora_alpha=32, lora_dropout=0.1, target_modules=["q_proj", "v_proj"]))
for n, p in llm.named_parameters():
    p.requires_grad = "lora" in n
model = LLMFew(llm, llm.config.hidden_size, x.shape[1], x.shape[2], data["classes"])
opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
model.train()


def step(i):
    loss = torch.nn.functional.cross_entropy(model(x[i:i + 4]), y[i:i + 4])
    opt.zero_grad()
    loss.backward()
    opt.step()


step(0)
epochs = []
for _ in range(data["epochs"]):
    t0 = time.perf_counter()
    for i in range(0, len(x), 4):
        step(i)
    epochs.append(time.perf_counter() - t0)
out = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
out["epoch_s"] = sorted(epochs)[len(epochs) // 2]
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
model.eval()


def predict():
    with torch.no_grad():
        for i in range(0, len(test), 4):
            model(test[i:i + 4]).softmax(-1)


predict()
best = 0.0
for _ in range(2):
    t0 = time.perf_counter()
    predict()
    best = max(best, len(test) / (time.perf_counter() - t0))
out["predict_per_s"] = best
print(json.dumps(out))
