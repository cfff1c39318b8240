"""The zero-shot training mixture for GLiClass (stdlib only): labelled texts from the data at hand, none of them
AG News and none of its topics as labels, with label names shuffled and paraphrased.

  SST-2 train (sentiment): 1,500 phrases of 40+ characters; candidates one paraphrase of "positive" and one of
      "negative" (e.g. "praise" / "criticism"), plus 0-2 distractors from the other tasks' labels
  PTEC HateSpeech train (22 labels, multi-label): 1,500 messages; candidates 4-8 of the 22 names (or their
      paraphrases), always including the true ones
  CoNLL-2003 English train (entities): 1,500 sentences of 6+ tokens; candidates "mentions a person",
      "mentions a location", "mentions an organization", "mentions another named thing" (paraphrased);
      true: the entity types present (none: no true label)
Writes <out>/mixture.jsonl (4,500 items, shuffled). Seed 11.
Run: python3 scripts/gliclass/mixture.py ../shared/data results/gliclass/data
"""
import csv, json, os, random, sys

rng = random.Random(11)
POS = ["positive", "positive sentiment", "praise", "favorable opinion", "the writer liked it"]
NEG = ["negative", "negative sentiment", "criticism", "unfavorable opinion", "the writer disliked it"]
NER = {"PER": ["mentions a person", "names a person", "about someone"],
       "LOC": ["mentions a location", "names a place", "refers to a location"],
       "ORG": ["mentions an organization", "names a company or group", "refers to an organization"],
       "MISC": ["mentions another named thing", "names an event, nationality or product"]}


def sst2(root, n):
    lines = open(os.path.join(root, "sst2/train.tsv"), encoding="utf-8").read().splitlines()[1:]
    rows = [l.rstrip("\r").split("\t", 1) for l in lines]
    rows = [r for r in rows if len(r) == 2 and len(r[1]) >= 40]
    rng.shuffle(rows)
    for label, text in rows[:n]:
        p, q = rng.choice(POS), rng.choice(NEG)
        yield {"text": text.strip(), "all_labels": [p, q], "true_labels": [p if label == "1" else q]}


def ptec(root, n):
    items = [json.loads(l) for l in open(os.path.join(root, "ptec_hatespeech/train.json"))]
    names = [k for k in items[0] if k not in ("ID", "title", "type", "message")]
    rng.shuffle(items)
    for it in items[:n]:
        true = [k for k in names if it[k] == 1]
        others = [k for k in names if k not in true]
        cand = true + rng.sample(others, rng.randint(max(0, 4 - len(true)), max(0, 8 - len(true))))
        rename = {k: (k.lower() if rng.random() < 0.5 else k) for k in cand}
        yield {"text": it["message"].strip(), "all_labels": [rename[k] for k in cand], "true_labels": [rename[k] for k in true]}


def conll(root, n):
    sents, cur = [], []
    for line in open(os.path.join(root, "conll/conll2003/eng.train"), encoding="utf-8", errors="replace"):
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if cur:
                sents.append(cur)
            cur = []
            continue
        cur.append((parts[0], parts[-1]))
    sents = [s for s in sents if len(s) >= 6]
    rng.shuffle(sents)
    for s in sents[:n]:
        kinds = sorted({t.split("-")[-1] for _, t in s if t != "O"})
        names = {k: rng.choice(v) for k, v in NER.items()}
        yield {"text": " ".join(w for w, _ in s), "all_labels": [names[k] for k in NER], "true_labels": [names[k] for k in kinds]}


def main(root, out):
    items = list(sst2(root, 1500)) + list(ptec(root, 1500)) + list(conll(root, 1500))
    for it in items:   # 0-2 distractors from the whole label pool
        pool = POS + NEG + [x for v in NER.values() for x in v]
        extra = [x for x in rng.sample(pool, 2) if x not in it["all_labels"]][:rng.randint(0, 2)]
        it["all_labels"] = it["all_labels"] + extra
        rng.shuffle(it["all_labels"])
    rng.shuffle(items)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "mixture.jsonl"), "w") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(f"{len(items)} items in {out}/mixture.jsonl")


if __name__ == "__main__":
    main(*sys.argv[1:3])
