"""SST-2 splits for ls-llama's experiments (make exp-ls-llama-sst2).

GLUE's SST-2 test labels are not public, so as the research notes propose: model selection on a
held-out part of GLUE's train split, and GLUE's validation split (872 sentences) scored once as the
test set. Writes results/ls-llama/data/sst2-{train,dev,test}.jsonl ({"text", "label"}, labels
negative/positive). Usage: python3 scripts/ls-llama/sst2.py SRC_DIR N_TRAIN N_DEV
"""
import json, pathlib, random, sys

src, n_train, n_dev = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
out = pathlib.Path("results/ls-llama/data"); out.mkdir(parents=True, exist_ok=True)
names = ["negative", "positive"]

def read(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    t = header.index("sentence") if "sentence" in header else header.index("content")
    l = header.index("label")
    return [{"text": c[t], "label": names[int(c[l])]} for c in (x.split("\t") for x in lines[1:] if x)]

train = read(src / "train.tsv")
random.Random(42).shuffle(train)
for name, rows in [("train", train[:n_train]), ("dev", train[n_train:n_train + n_dev]), ("test", read(src / "dev.tsv"))]:
    with open(out / f"sst2-{name}.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(name, len(rows))
