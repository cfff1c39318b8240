"""Reference side of `make bench` for loki (Benchmarks/LokiBench): the same prediction as the reference
code writes it, np.argmin(np.dot(probs, d2[observed]), axis=1) (clip_exp/run_cifar.py, pubmed/exp.py)
and torch's (-probs @ d2).argmax(1) (simclr_exps/loki.py), on the same float32 D² and probabilities,
at the same thread count; and the distance rows from the same tree with networkx (the reference's
shortest_path_length) and scipy.sparse.csgraph (the fast alternative). Prints one JSON object.
Usage: python loki_bench.py THREADS D2_FILE K N PROBS_FILE B EDGES_FILE OBSERVED_FILE
"""
import json, os, resource, sys, time

threads = int(sys.argv[1])
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(threads)
import numpy as np
import torch

torch.set_num_threads(threads)
d2_file, k, n, probs_file, b, edges_file, observed_file = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6]), sys.argv[7], sys.argv[8]
out = {"torch": torch.__version__, "numpy": np.__version__, "threads": threads}


def timed(f, min_time=2.0):
    f()
    n_calls, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_time:
        f()
        n_calls += 1
    return (time.perf_counter() - t0) / n_calls


d2 = np.fromfile(d2_file, dtype=np.float32).reshape(k, n)
P = np.fromfile(probs_file, dtype=np.float32).reshape(b, k)
out["numpy_preds_s"] = b / timed(lambda: np.argmin(np.dot(P, d2), axis=1))
td2, tP = torch.from_numpy(d2), torch.from_numpy(P)
with torch.no_grad():
    out["torch_preds_s"] = b / timed(lambda: (-tP @ td2).argmax(dim=1))
out["numpy_prediction"] = np.argmin(np.dot(P, d2), axis=1)[:16].tolist()
out["peak_rss_mb_predict"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
del d2, td2

# Distance rows from the tree: networkx as the reference (a few sources), scipy for all of them.
import networkx as nx
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

edges = [l.rstrip("\n").split("\t") for l in open(edges_file)]
observed = [l.rstrip("\n") for l in open(observed_file) if l.strip()]
T = nx.Graph()
T.add_edges_from(edges)
t0 = time.perf_counter()
few = observed[:10]
for s in few:
    nx.single_source_shortest_path_length(T, s)
out["networkx_rows_s"] = len(few) / (time.perf_counter() - t0)
names = {v: i for i, v in enumerate(T.nodes())}
rows = [names[a] for a, _ in edges] + [names[b_] for _, b_ in edges]
cols = [names[b_] for _, b_ in edges] + [names[a] for a, _ in edges]
A = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(names), len(names)))
src = [names[s] for s in observed]
t0 = time.perf_counter()
shortest_path(A, unweighted=True, indices=src, directed=False)
out["scipy_rows_s"] = len(src) / (time.perf_counter() - t0)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
