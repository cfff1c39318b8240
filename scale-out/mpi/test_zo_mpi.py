#!/usr/bin/env python3
"""`make test-scale-out`, MPI part: `zo train --distributed` under `mpirun -np 2` on one machine.

Checks, on MiniLM + SST-2 (the demo's run, batch 16, 12 steps):
  1. every step of a 2-rank run equals the 1-rank run (no MPI) within float summation error: the loss
     within 1e-6 (a few ulps: the ranks' share means are summed in double, the single process sums 16
     floats), the projected gradient within 2e-6 / (2 eps) (what those ulps become after the
     difference quotient); dev accuracy equal;
  2. all ranks end with bit-identical weights (zo checks the ranks' weight digests itself and records
     the digest in zo_model.json), and `zo replay` of the 2-rank trajectory on one process rebuilds
     rank 0's trained.safetensors bit for bit;
  3. a rank killed mid-run fails the job (non-zero exit, a message naming the dead rank), and
     `--resume` from the last checkpoint ends with the weights of the uninterrupted 2-rank run, bit for bit;
  4. the bytes exchanged per step (from the log) are a few dozen;
  5. ranks started with different training data stop before the first step with a message.
Skips (exit 0 with a message) when mpirun is not installed.
Usage: test_zo_mpi.py BINDIR MODEL TRAIN DEV WORKDIR
"""
import filecmp, json, os, shutil, signal, subprocess, sys, time

bindir, model, train, dev, work = sys.argv[1:6]
zo = os.path.join(bindir, "zo")
if not shutil.which("mpirun"):
    print("test-scale-out (MPI): SKIPPED: mpirun not found (Debian: openmpi-bin)")
    sys.exit(0)
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_btl_vader_single_copy_mechanism="none")
MPIRUN = ["mpirun", "--oversubscribe", "-np", "2"]
EPS = 1e-3
common = ["train", "--model", model, "--train", train, "--dev", dev, "--train-count", "64", "--dev-count", "32",
          "--lr", "1e-4", "--eps", str(EPS), "--eval-every", "6", "--threads", "1", "--quiet", "--checkpoint-every", "4"]
failures = []

def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)

def run(cmd, **kw):
    return subprocess.run(cmd, env=env, capture_output=True, text=True, **kw)

def log(d):
    return [json.loads(l) for l in open(os.path.join(d, "log.jsonl"))]

shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
one, two, killed = (os.path.join(work, n) for n in ("one", "two", "killed"))

r1 = run([zo] + common + ["--steps", "12", "--out", one])
check(r1.returncode == 0, f"1-rank run exits 0 ({r1.stderr.strip()[-200:]})")
t0 = time.time()
r2 = run(MPIRUN + [zo] + common + ["--steps", "12", "--distributed", "--out", two])
check(r2.returncode == 0, f"2-rank run exits 0 ({r2.stderr.strip()[-300:]})")
if failures:
    sys.exit(1)

# 1. step by step
a, b = log(one), log(two)
check(len(a) == len(b) == 12, "both logs have 12 steps")
worst_loss = max(abs(x["loss"] - y["loss"]) for x, y in zip(a, b))
worst_grad = max(abs(p - q) for x, y in zip(a, b) for p, q in zip(x["projected_grad"], y["projected_grad"]))
check(worst_loss <= 1e-6, f"losses equal within 1e-6 at every step (largest difference {worst_loss:.2e})")
check(worst_grad <= 2e-6 / (2 * EPS), f"projected gradients equal within {2e-6 / (2 * EPS):.0e} (largest {worst_grad:.2e})")
check(all(x.get("dev_accuracy") == y.get("dev_accuracy") for x, y in zip(a, b)), "dev accuracy equal where evaluated")

# 2. weights
meta = json.load(open(os.path.join(two, "zo_model.json")))
check(meta.get("ranks") == 2 and len(meta.get("weight_digest", "")) == 16, "zo_model.json records 2 ranks and their common weight digest")
rr = run([zo, "replay", "--base", model, "--log", os.path.join(two, "trajectory.jsonl"), "--out", os.path.join(work, "replay"), "--quiet"])
check(rr.returncode == 0 and filecmp.cmp(os.path.join(two, "trained.safetensors"), os.path.join(work, "replay", "trained.safetensors"), shallow=False),
      "zo replay of the 2-rank trajectory on one process = rank 0's weights, bit for bit")

# 4. bytes
sizes = sorted({x["exchanged_bytes"] for x in b})
check(all(s <= 64 for s in sizes), f"bytes all-reduced per step: {sizes} (16 per step: two losses; +8 on evaluation steps)")

# 3. kill rank 1 after step 6 (checkpoints at 4 and 8), then resume
p = subprocess.Popen(MPIRUN + [zo] + common + ["--steps", "12", "--distributed", "--out", killed],
                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
victim = None
deadline = time.time() + 300
while time.time() < deadline and p.poll() is None:
    try:
        steps = sum(1 for _ in open(os.path.join(killed, "log.jsonl")))
    except FileNotFoundError:
        steps = 0
    if steps >= 6:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                continue
            if exe.endswith("/zo") and b"OMPI_COMM_WORLD_RANK=1" in environ and killed.encode() in open(f"/proc/{pid}/cmdline", "rb").read():
                victim = int(pid)
        if victim:
            os.kill(victim, signal.SIGKILL)
            break
    time.sleep(0.05)
out, err = p.communicate(timeout=120)
check(victim is not None, "found rank 1 and killed it after step 6")
check(p.returncode != 0, f"the job fails when a rank dies (exit {p.returncode})")
check("rank 1" in err or "process rank 1" in err, "the message names the dead rank: " + next((l.strip() for l in err.splitlines() if "rank 1" in l), err.strip()[-200:]))
rr = run(MPIRUN + [zo] + common + ["--steps", "12", "--distributed", "--out", killed, "--resume"])
check(rr.returncode == 0, f"--resume completes ({rr.stderr.strip()[-200:]})")
check(filecmp.cmp(os.path.join(two, "trained.safetensors"), os.path.join(killed, "trained.safetensors"), shallow=False),
      "killed + resumed run = uninterrupted 2-rank run, bit for bit")
check(log(killed) == [dict(x, seconds=y["seconds"], cpu_seconds=y["cpu_seconds"]) for x, y in zip(b, log(killed))],
      "its log has the same 12 steps as the uninterrupted run (times aside)")

# 5. ranks started on different data are stopped before the first step
mixed = os.path.join(work, "mixed")
rm = run(["mpirun", "--oversubscribe", "-np", "1", zo] + common + ["--steps", "2", "--distributed", "--out", mixed]
         + [":", "-np", "1", zo] + common + ["--steps", "2", "--distributed", "--out", mixed, "--train-count", "63"])
check(rm.returncode != 0 and "disagree on the training examples" in rm.stderr,
      "ranks given different training sets stop with: " + next((l.strip() for l in rm.stderr.splitlines() if "disagree" in l), rm.stderr.strip()[-200:]))

print(f"test-scale-out (MPI): {'FAILED: ' + str(len(failures)) if failures else 'all passed'}")
sys.exit(1 if failures else 0)
