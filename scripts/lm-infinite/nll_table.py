#!/usr/bin/env python3
"""The README's NLL-by-position table from `lm-infinite perplexity` JSONL (stdlib only).

    nll_table.py FILE L RANGE_END [RANGE_END ...]

For each mode: the mean NLL per token over positions [0, L) (in-length), then over [L, e1), [e1, e2), ...
with the change against the in-length NLL, and the worst bucket in [L, e1).
"""
import json, sys

path, L, ends = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3:]]
rows = [json.loads(l) for l in open(path)]
modes = list(dict.fromkeys(r["mode"] for r in rows))


def mean(rs):
    n = sum(r["count"] for r in rs)
    return sum(r["nll"] * r["count"] for r in rs) / n if n else float("nan")


ranges = list(zip([L] + ends[:-1], ends))
print("| mode | 0–%d (in length) | " % (L - 1) + " | ".join("%d–%d" % (a, b - 1) for a, b in ranges)
      + " | worst bucket in %d–%d |" % (ranges[0][0], ranges[0][1] - 1))
print("|---" * (len(ranges) + 3) + "|")
for m in modes:
    rs = [r for r in rows if r["mode"] == m]
    base = mean([r for r in rs if r["to"] <= L])
    cells = []
    for a, b in ranges:
        v = mean([r for r in rs if r["from"] >= a and r["to"] <= b])
        cells.append("%.3f (%+.1f%%)" % (v, 100 * (v / base - 1)))
    a, b = ranges[0]
    worst = max((r for r in rs if r["from"] >= a and r["to"] <= b), key=lambda r: r["nll"])
    cells.append("%.3f (%+.1f%%)" % (worst["nll"], 100 * (worst["nll"] / base - 1)))
    print("| %s | %.3f | " % (m, base) + " | ".join(cells) + " |")
