"""AG News test set (7,600 rows, CSV class,title,description) as GLiClass items, split 80/20 at random (seed 7).

Writes <out>/agnews-train.jsonl and <out>/agnews-test.jsonl, one item per line:
  {"text": "<title>. <description>", "all_labels": ["World", "Sports", "Business", "Sci/Tech"], "true_labels": [<class>]}
and <out>/agnews-test-records.jsonl for `gliclass predict` / `embed` ({"text", "label"}).
Run: python3 scripts/gliclass/agnews.py ../shared/data/ag_news/test.csv results/gliclass/data
"""
import csv, json, os, random, sys

NAMES = ["World", "Sports", "Business", "Sci/Tech"]


def main(path, out):
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for cls, title, desc in csv.reader(f):
            text = (title.strip() + ". " + desc.replace("\\", " ").strip()).strip()
            rows.append({"text": text, "label": NAMES[int(cls) - 1]})
    rng = random.Random(7)
    rng.shuffle(rows)
    cut = int(len(rows) * 0.8)
    os.makedirs(out, exist_ok=True)
    for name, part in [("train", rows[:cut]), ("test", rows[cut:])]:
        with open(os.path.join(out, f"agnews-{name}.jsonl"), "w") as f:
            for r in part:
                f.write(json.dumps({"text": r["text"], "all_labels": NAMES, "true_labels": [r["label"]]}) + "\n")
    with open(os.path.join(out, "agnews-test-records.jsonl"), "w") as f:
        for r in rows[cut:]:
            f.write(json.dumps(r) + "\n")
    print(f"{cut} train, {len(rows) - cut} test items in {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
