#!/usr/bin/env python3
"""`make bench-scale-out`, MPI part: `zo train --distributed` step time and bytes on 1 and 2 ranks,
and a model of the step time at N = 8 ... 1,024 workers over a WAN.

Measured (this machine, medians of 3 runs of STEPS steps each, the first step dropped as warm-up):
  one process, --threads 1 and 2      (the single-machine baselines)
  mpirun -np 2, --threads 1 per rank  (same two cores, the batch split over two ranks)
on SmolLM2-135M (the GGUF), batch 16, zo-sgd, full fine-tuning of all 135M parameters.

Modelled (printed with its assumptions): a step on N workers, each with the per-rank compute time
measured here, plus communication:
  ZO:          recursive-doubling all-reduce of the step's B bytes: log2(N) * (alpha + B / bw)
  first-order: ring all-reduce of the whole gradient (P floats): 2 (N-1) alpha + 2 (N-1)/N * 4P / bw
Usage: bench_zo_mpi.py BINDIR MODEL TRAIN DEV WORKDIR
"""
import json, math, os, platform, shutil, statistics, subprocess, sys

bindir, model, train, dev, work = sys.argv[1:6]
zo = os.path.join(bindir, "zo")
STEPS, BATCH, REPEATS = 6, 16, 3
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl_vader_single_copy_mechanism="none")
if not shutil.which("mpirun"):
    print("bench-scale-out (MPI): SKIPPED: mpirun not found")
    sys.exit(0)
args = ["train", "--model", model, "--train", train, "--dev", dev, "--train-count", "256", "--dev-count", "16",
        "--steps", str(STEPS), "--batch", str(BATCH), "--lr", "1e-6", "--eval-every", "0", "--quiet", "--overwrite"]


def per_step(out):
    log = [json.loads(l) for l in open(os.path.join(out, "log.jsonl"))]
    t = [b["seconds"] - a["seconds"] for a, b in zip(log, log[1:])]  # drops step 1 (warm-up)
    return statistics.median(t), log[1].get("exchanged_bytes")  # a step without evaluation


rows = {}
for name, cmd in (("1 process, 1 thread", [zo] + args + ["--threads", "1"]),
                  ("1 process, 2 threads", [zo] + args + ["--threads", "2"]),
                  ("2 ranks x 1 thread", ["mpirun", "--oversubscribe", "-np", "2", zo] + args + ["--threads", "1", "--distributed"])):
    times = []
    for r in range(REPEATS):
        out = os.path.join(work, f"zo-{len(rows)}-{r}")
        p = subprocess.run(cmd + ["--out", out], env=env, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"{name}: {p.stderr[-500:]}")
        s, b = per_step(out)
        times.append(s)
    rows[name] = (statistics.median(times), b)

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
version = subprocess.run([zo, "--version"], capture_output=True, text=True).stdout.strip()
print(f"zo distributed, SmolLM2-135M ({os.path.basename(model)}), batch {BATCH}, zo-sgd full, medians of {REPEATS} x {STEPS - 1} steps")
print(f"CPU: {cpu}; {version}")
print("| run | s/step | bytes all-reduced per step (8 more on evaluation steps) |")
print("|---|---|---|")
for name, (s, b) in rows.items():
    print(f"| {name} | {s:.3f} | {b if b is not None else '0 (one process)'} |")

P = 134_515_008  # SmolLM2-135M's parameters
compute = rows["2 ranks x 1 thread"][0]  # one rank's share of a batch of 16 on one core
B = rows["2 ranks x 1 thread"][1] or 16
alpha, bw = 0.05, 125e6  # WAN: 50 ms one-way latency, 1 Gbit/s
print(f"\nModel: each worker computes its share in {compute:.2f} s (measured above); WAN latency {alpha * 1000:.0f} ms, {bw * 8 / 1e9:.0f} Gbit/s")
print("| workers N | ZO step, s | of which all-reduce | first-order step (ring all-reduce of 135M floats), s | ratio |")
print("|---|---|---|---|---|")
for n in (8, 32, 128, 1024):
    zo_comm = math.log2(n) * (alpha + B / bw)
    fo_comm = 2 * (n - 1) * alpha + 2 * (n - 1) / n * 4 * P / bw
    # first-order compute: forward + backward, about 3x a forward; ZO: 2 forwards (already measured)
    fo_compute = compute * 3 / 2
    print(f"| {n} | {compute + zo_comm:.2f} | {zo_comm:.2f} | {fo_compute + fo_comm:.1f} | {(fo_compute + fo_comm) / (compute + zo_comm):.0f}x |")
