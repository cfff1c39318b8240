"""PTEC HateSpeech (22 labels, multi-label) as GLiClass items with all 22 labels as candidates (stdlib only):
<out>/ptec-rl-train.jsonl (the last N items of train.json; some may also be in mixture.py's sample, which is
training data too) and <out>/ptec-dev.jsonl (the first 300 of dev.json, held out from both).
Run: python3 scripts/gliclass/ptec.py ../shared/data results/gliclass/data 600
"""
import json, os, sys


def items(path):
    rows = [json.loads(l) for l in open(path)]
    names = [k for k in rows[0] if k not in ("ID", "title", "type", "message")]
    for r in rows:
        yield {"text": r["message"].strip(), "all_labels": names, "true_labels": [k for k in names if r[k] == 1]}


def main(root, out, n):
    train = list(items(os.path.join(root, "ptec_hatespeech/train.json")))[-int(n):]
    dev = list(items(os.path.join(root, "ptec_hatespeech/dev.json")))[:300]
    for name, part in [("ptec-rl-train", train), ("ptec-dev", dev)]:
        with open(os.path.join(out, name + ".jsonl"), "w") as f:
            for it in part:
                f.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(f"{len(train)} train, {len(dev)} dev items")


if __name__ == "__main__":
    main(*sys.argv[1:4])
