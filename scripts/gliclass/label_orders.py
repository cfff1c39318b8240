"""Label-order and batch invariance of `gliclass predict` (stdlib only).

make RECORDS: each record {"text", "label"} of AG News four times, with the four labels in four orders (the
  original, reversed, and two rotations), as {"text", "labels", "id", "order"}.
compare BATCHED ALONE: top-1 agreement across the orders of each text (share of texts whose best label is the
  same in all four orders) in BATCHED, and the largest |score difference| between BATCHED (--batch 16) and
  ALONE (--batch 1) over all records and labels.
"""
import json, sys

NAMES = ["World", "Sports", "Business", "Sci/Tech"]
ORDERS = [NAMES, NAMES[::-1], NAMES[1:] + NAMES[:1], NAMES[2:] + NAMES[:2]]


def make(path):
    for i, line in enumerate(open(path)):
        r = json.loads(line)
        for k, order in enumerate(ORDERS):
            print(json.dumps({"text": r["text"], "labels": order, "id": i, "order": k}))


def compare(batched, alone):
    a = [json.loads(l) for l in open(batched)]
    b = [json.loads(l) for l in open(alone)]
    best = {}
    for r in a:
        best.setdefault(r["id"], []).append(r["prediction"])
    agree = sum(len(set(v)) == 1 for v in best.values())
    worst = max(abs(r["scores"][k] - s["scores"][k]) for r, s in zip(a, b) for k in r["scores"])
    print(json.dumps({"texts": len(best), "top1_agreement_across_orders": round(agree / len(best), 4),
                      "max_score_difference_batch16_vs_alone": worst}))


if __name__ == "__main__":
    {"make": lambda: make(sys.argv[2]), "compare": lambda: compare(sys.argv[2], sys.argv[3])}[sys.argv[1]]()
