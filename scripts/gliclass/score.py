"""Accuracy and macro-F1 of single-label predictions (scikit-learn's definitions, zero_division 0; stdlib only).

Reads JSONL records with the gold class in "label" and the prediction either in "prediction" or as the argmax
of "probs" (an array in the order of --classes FILE, one class per line) or of "scores" ({class: p}).
Prints one JSON object {"name", "items", "accuracy", "macro_f1"}.
Run: python3 scripts/gliclass/score.py NAME [CLASSES_FILE] < predictions.jsonl
"""
import json, sys


def main(name, classes_path=None):
    classes = [l.strip() for l in open(classes_path) if l.strip()] if classes_path else None
    gold, pred = [], []
    for line in sys.stdin:
        if not line.strip():
            continue
        r = json.loads(line)
        if "probs" in r and classes:
            p = classes[max(range(len(classes)), key=lambda i: r["probs"][i])]
        elif "scores" in r:
            p = max(r["scores"], key=r["scores"].get)
        else:
            p = r["prediction"]
        gold.append(r["label"])
        pred.append(p)
    labels = sorted(set(gold) | set(pred))
    f1s = []
    for c in labels:
        tp = sum(g == c and p == c for g, p in zip(gold, pred))
        fp = sum(g != c and p == c for g, p in zip(gold, pred))
        fn = sum(g == c and p != c for g, p in zip(gold, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    acc = sum(g == p for g, p in zip(gold, pred)) / max(1, len(gold))
    print(json.dumps({"name": name, "items": len(gold), "accuracy": round(acc, 4), "macro_f1": round(sum(f1s) / max(1, len(f1s)), 4)}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
