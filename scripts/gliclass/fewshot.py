"""Few-shot AG News items for `gliclass evaluate` (stdlib only): each test item with K examples per label drawn
from the training split (seed 5 + K; titles only, so that 4 labels x 4 examples fit MiniLM's 512 positions).

Run: python3 scripts/gliclass/fewshot.py results/gliclass/data K > items.jsonl
"""
import json, random, sys


def main(data, k):
    k = int(k)
    rng = random.Random(5 + k)
    train = [json.loads(l) for l in open(f"{data}/agnews-train.jsonl")]
    by = {}
    for it in train:
        by.setdefault(it["true_labels"][0], []).append(it["text"].split(". ")[0])
    for line in open(f"{data}/agnews-test.jsonl"):
        it = json.loads(line)
        if k:
            ex = [{"text": t, "labels": [lab]} for lab in it["all_labels"] for t in rng.sample(by[lab], k)]
            rng.shuffle(ex)
            it["examples"] = ex
        print(json.dumps(it))


if __name__ == "__main__":
    main(*sys.argv[1:3])
