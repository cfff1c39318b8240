"""The README's results table from `make exp-ptec`'s outputs (results/ptec/): test macro-F1, micro-F1 and
Jaccard-samples per method, mean ± std over the seeds present (ch-s*/, lh-s*/; gzip, k-NN and the probe
are deterministic or one run).
Run: python3 scripts/ptec/results_table.py results/ptec
"""
import glob, json, os, statistics, sys

root = sys.argv[1] if len(sys.argv) > 1 else "results/ptec"

def load(path):
    try:
        with open(path) as f:
            return json.loads(f.readline())
    except (OSError, ValueError):
        return None

def row(name, paths):
    runs = [r for r in (load(p) for p in paths) if r]
    if not runs:
        return f"| {name} | (not run) | | | |"
    def cell(key):
        xs = [r[key] for r in runs]
        return f"{xs[0]:.3f}" if len(xs) == 1 else f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs):.3f}"
    return f"| {name} | {cell('macro_f1')} | {cell('micro_f1')} | {cell('jaccard_samples')} | {len(runs)} |"

seeds = lambda pattern: sorted(glob.glob(os.path.join(root, pattern)))
print("| method | macro-F1 | micro-F1 | Jaccard samples | runs |")
print("|---|---|---|---|---|")
print(row("PTEC (ch), σ > 0.5", [p for p in seeds("ch-s*/test.json") if "-tuned" not in p]))
print(row("PTEC (ch), thresholds tuned on dev", seeds("ch-s*-tuned/test.json")))
print(row("PT (lh), unconstrained", seeds("lh-s*/test.json")))
print(row("PT (lh), label constraint (trie)", seeds("lh-s*/test-trie.json")))
print(row("frozen mean-pooled states + linear head (probe), σ > 0.5", [os.path.join(root, "probe/test.json")]))
print(row("probe, thresholds tuned on dev", [os.path.join(root, "probe-tuned/test.json")]))
print(row("k-NN on the same embeddings", [os.path.join(root, "knn-test.json")]))
print(row("gzip NCD 1-NN (full training set)", [os.path.join(root, "gzip-test.json")]))
