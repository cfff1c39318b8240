"""The first N sentences of a CoNLL column file (model selection on a part of the dev split, to keep
evaluation cheap on CPU). Usage: python3 scripts/ls-llama/conll_dev.py SRC N OUT"""
import sys
src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sents, cur = [], []
for line in open(src, encoding="utf-8"):
    line = line.rstrip("\r\n")
    if not line.strip() or line.startswith("-DOCSTART-"):
        if cur:
            sents.append(cur)
            cur = []
        continue
    cur.append(line)
if cur:
    sents.append(cur)
with open(out, "w", encoding="utf-8") as f:
    for s in sents[:n]:
        f.write("\n".join(s) + "\n\n")
print(len(sents[:n]), "sentences")
