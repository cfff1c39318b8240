"""The README table of `make exp-llmfew`: test accuracy (mean ± std over seeds, n runs) per data set and
shots for LLMFew (--llm lora), PTCEnc + head (--llm none), 1-NN Euclidean and 1-NN DTW on the same shots.
Also the macro accuracy (the reference's "Accuracy") for the LLM runs.
Usage: python3 scripts/llmfew/table.py results/llmfew
"""
import glob, json, os, statistics, sys

root = sys.argv[1] if len(sys.argv) > 1 else "results/llmfew"
names = {"bm": "BasicMotions", "jv": "JapaneseVowels", "hw": "Handwriting"}


def collect(pattern, key="accuracy"):
    vals = []
    for f in sorted(glob.glob(pattern)):
        with open(f) as h:
            vals.append(100 * json.load(h)[key])
    return vals


def cell(vals):
    if not vals:
        return "–"
    if len(vals) == 1:
        return f"{vals[0]:.1f} (1)"
    return f"{statistics.mean(vals):.1f} ± {statistics.stdev(vals):.1f} ({len(vals)})"


print("| data | shots | LLMFew (SmolLM2 + LoRA) | its macro accuracy | PTCEnc + head (no LLM) | 1-NN Euclidean | 1-NN DTW |")
print("|---|---|---|---|---|---|---|")
for s in ["bm", "jv", "hw"]:
    for k in ["1", "5", "0"]:
        row = [collect(os.path.join(root, f"{s}-{k}-lora-*/test.json")),
               collect(os.path.join(root, f"{s}-{k}-lora-*/test.json"), "macro_accuracy"),
               collect(os.path.join(root, f"{s}-{k}-none-*/test.json")),
               collect(os.path.join(root, f"knn/{s}-{k}-euclidean-*.json")),
               collect(os.path.join(root, f"knn/{s}-{k}-dtw-*.json"))]
        if not any(row):
            continue
        print(f"| {names[s]} | {'all' if k == '0' else k} | " + " | ".join(cell(v) for v in row) + " |")

ref = collect(os.path.join(root, "bm-1-refsel-*/test.json"), "macro_accuracy")
val = collect(os.path.join(root, "bm-1-lora-*/test.json"), "macro_accuracy")
if ref:
    print()
    print("BasicMotions, 1 shot, LLMFew: test macro accuracy of the epoch kept by")
    print(f"- the reference's selection (best test epoch): {cell(ref)}")
    print(f"- validation selection (ours): {cell(val)}")
