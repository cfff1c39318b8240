#!/usr/bin/env python3
"""The prokd experiment table (Tools/prokd/README.md) from results/prokd/<seed>/<system>/test-<lang>.json:
entity F1 (seqeval micro, ×100) on the target test sets, mean ± std over the seeds that finished."""
import json, os, statistics, sys

root = sys.argv[1] if len(sys.argv) > 1 else "results/prokd"
systems = [("direct", "(a) direct transfer: teacher, English only"), ("tsl", "(b) TSL: student of (a), distillation"),
           ("cpa", "(c) teacher with prototype alignment"), ("prokd", "(d) ProKD: student of (c) with self-training"),
           ("nocpa", "ProKD − CPA: student of (a) with self-training"), ("nopst", "ProKD − PST: student of (c), distillation"),
           ("tslfresh", "TSL with a fresh student (the reference's), of (a)")]
langs = ["es", "nl"]

def f1(seed, system, lang):
    d = system if system == "direct" else f"{system}-{lang}"
    p = os.path.join(root, seed, d, f"test-{lang}.json")
    if not os.path.exists(p):
        return None
    return 100 * json.load(open(p))["f1"]

seeds = sorted(s for s in os.listdir(root) if s.isdigit()) if os.path.isdir(root) else []
def cell(values):
    v = [x for x in values if x is not None]
    if not v:
        return "—"
    if len(v) == 1:
        return f"{v[0]:.1f} (1)"
    return f"{statistics.mean(v):.1f} ± {statistics.stdev(v):.1f} ({len(v)})"

print("| system | es | nl | mean |")
print("|---|---|---|---|")
means = {}
for key, name in systems:
    per = {l: [f1(s, key, l) for s in seeds] for l in langs}
    both = [ (a + b) / 2 for a, b in zip(per["es"], per["nl"]) if a is not None and b is not None]
    means[key] = statistics.mean(both) if both else None
    print(f"| {name} | {cell(per['es'])} | {cell(per['nl'])} | {cell(both)} |")

def diff(a, b):
    return None if means.get(a) is None or means.get(b) is None else means[a] - means[b]
print()
for label, a, b, target in [("(d) − (b)", "prokd", "tsl", "≥ +1.0"), ("(b) − (a)", "tsl", "direct", "≥ 0"), ("(c) − (a)", "cpa", "direct", "≥ −0.5")]:
    d = diff(a, b)
    print(f"{label}: {'—' if d is None else f'{d:+.2f}'} F1 (target {target}; means over the seeds with both languages)")
