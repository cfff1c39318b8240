"""The README table of `make exp-nd-kd`: test top-1 and the student's feature statistics per loss,
mean ± sample std over the seeds found, from results/nd-kd/student-<loss>-<seed>/test.json.

Run: python3 scripts/nd-kd/table.py results/nd-kd ce kd kd++ dkd dkd++
"""
import json, pathlib, statistics, sys

root = pathlib.Path(sys.argv[1])
losses = sys.argv[2:] or ["ce", "kd", "kd++", "dkd", "dkd++"]


def runs(loss):
    out = []
    for d in sorted(root.glob(f"student-{loss}-*")):
        if d.name[len(f"student-{loss}-"):].isdigit() and (d / "test.json").exists():
            out.append(json.loads((d / "test.json").read_text()))
    return out


def ms(values, scale=1.0, digits=2):
    v = [x * scale for x in values if x is not None]
    if not v:
        return "–"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{statistics.mean(v):.{digits}f} ± {statistics.stdev(v):.{digits}f}"


teacher = root / "teacher" / "test.json"
if teacher.exists():
    t = json.loads(teacher.read_text())
    print(f"Teacher (fmnist-teacher) test top-1: {100 * t['top1']:.2f}%\n")
print("| loss | seeds | test top-1 (%) | top-5 (%) | ‖s‖/‖t‖ | cos(s, e_y) |")
print("|---|---|---|---|---|---|")
top1 = {}
for loss in losses:
    r = runs(loss)
    top1[loss] = [x["top1"] * 100 for x in r]
    print(f"| {loss} | {len(r)} | {ms([x['top1'] for x in r], 100)} | {ms([x['top5'] for x in r], 100)} | "
          f"{ms([x.get('norm_ratio') for x in r], digits=3)} | {ms([x.get('cos_class_direction') for x in r], digits=3)} |")
print()
for a, b in [("kd", "ce"), ("kd++", "kd"), ("dkd", "kd"), ("dkd++", "dkd")]:
    if top1.get(a) and top1.get(b):
        n = min(len(top1[a]), len(top1[b]))
        diffs = [x - y for x, y in zip(top1[a][:n], top1[b][:n])]  # paired by seed
        print(f"- {a} − {b}: {ms(diffs, digits=2)} points (paired by seed, n = {n})")
