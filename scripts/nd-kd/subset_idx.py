"""Writes the small Fashion-MNIST subset the nd-kd tests use (data/fashion-mnist/).

From Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist, MIT licence): the first
TRAIN images of the training set and the first TEST of the test set, as gzip IDX files with the
original names, so `--data data/fashion-mnist` reads them as it reads the full set.

Run: python3 scripts/nd-kd/subset_idx.py [SOURCE_DIR] [TRAIN] [TEST]
"""
import gzip, pathlib, struct, sys

src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist")
counts = {"train": int(sys.argv[2]) if len(sys.argv) > 2 else 600, "t10k": int(sys.argv[3]) if len(sys.argv) > 3 else 200}
out = pathlib.Path(__file__).resolve().parents[2] / "data/fashion-mnist"
out.mkdir(parents=True, exist_ok=True)
for split, n in counts.items():
    for kind in ["images-idx3", "labels-idx1"]:
        name = f"{split}-{kind}-ubyte.gz"
        data = gzip.open(src / name).read()
        rank = data[3]
        dims = list(struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank]))
        per = 1
        for d in dims[1:]:
            per *= d
        dims[0] = n
        body = data[4 + 4 * rank:4 + 4 * rank + n * per]
        # mtime 0: the same bytes on every run.
        with open(out / name, "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as g:
                g.write(data[:4] + struct.pack(">" + "I" * rank, *dims) + body)
        print(out / name, dims)
