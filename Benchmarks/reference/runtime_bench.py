"""Reference side of `make bench` for the runtime: the same matmul shapes and MLP training step as
Benchmarks/RuntimeBench in PyTorch at the same thread count, and the same JSONL loop with Python's
json module. Prints one JSON object on stdout.
Usage: python runtime_bench.py THREADS
"""
import json, statistics, sys, time
import torch

threads = int(sys.argv[1])
torch.set_num_threads(threads)
torch.manual_seed(0)

def timed(fn, min_time=0.5, reps=5):
    fn()  # warm-up
    samples = []
    for _ in range(reps):
        n, start = 0, time.perf_counter()
        while True:
            fn(); n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time / reps:
                break
        samples.append(elapsed / n)
    return statistics.median(samples)

out = {"torch": torch.__version__, "threads": threads, "matmul": {}}
for m, k, n in [(64, 576, 1536), (512, 384, 1536), (2048, 2048, 2048)]:
    a, b = torch.randn(m, k), torch.randn(k, n)
    c = torch.empty(m, n)
    t = timed(lambda: torch.mm(a, b))
    t_out = timed(lambda: torch.mm(a, b, out=c))
    out["matmul"][f"{m}x{k}x{n}"] = {"gflops": 2 * m * k * n / t / 1e9, "gflops_out": 2 * m * k * n / t_out / 1e9}

model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                            torch.nn.ReLU(), torch.nn.Linear(512, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.randn(256, 784), torch.randint(0, 10, (256,))
def train_step():
    loss = torch.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
out["mlp_step_ms"] = timed(train_step, min_time=1.0) * 1e3
import io, os
lines = [json.dumps({"id": i, "text": f"sentence number {i} of the benchmark"}) for i in range(20000)]
vectors = [torch.randn(384).tolist() for _ in range(64)]
def jsonl():
    sink = open(os.devnull, "w")
    for line in lines:
        r = json.loads(line)
        r["embedding"] = vectors[r["id"] % 64]
        sink.write(json.dumps(r, separators=(",", ":")) + "\n")
    sink.close()
out["jsonl_records_per_s"] = len(lines) / timed(jsonl, min_time=1.0, reps=3)
print(json.dumps(out))
