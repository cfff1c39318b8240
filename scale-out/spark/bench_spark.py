#!/usr/bin/env python3
"""`make bench-scale-out`, Spark part: embed on 2,000 SST-2 sentences, one process against Spark
local[2] stages (mltools_spark.pipe_stage, one thread per task) over 2, 4, 32 and 128 partitions,
and what one partition pays before its first record (process start + model load, by mmap).

Wall times, medians of 3, the Spark session started and warmed up before timing.
Usage: bench_spark.py BINDIR MODEL SENTENCES.jsonl
"""
import os, platform, shutil, statistics, subprocess, sys, time

bindir, model, sentences = sys.argv[1:4]
try:
    import pyspark  # noqa: F401
except ImportError:
    print("bench-scale-out (Spark): SKIPPED: no PySpark")
    sys.exit(0)
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from mltools_spark import pipe_stage  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

lines = [l.rstrip("\n") for l in open(sentences)][:2000]
embed = os.path.join(bindir, "embed")
text = "\n".join(lines) + "\n"


def median_time(f, n=3):
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def one_process(threads, data=text):
    subprocess.run([embed, "--model", model, "--quiet", "--threads", str(threads)], input=data, capture_output=True, text=True, check=True)


startup = median_time(lambda: one_process(1, data=""), n=5)
one_record = median_time(lambda: one_process(1, data=lines[0] + "\n"), n=5)
single = {t: median_time(lambda: one_process(t)) for t in (1, 2)}

spark = (SparkSession.builder.master("local[2]").appName("mltools-bench").config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.sparkContext.addPyFile(os.path.join(here, "mltools_spark.py"))
sc = spark.sparkContext
pipe_stage(sc.parallelize(lines[:20], 2), "embed", "--model", model, bindir=bindir).count()  # warm-up
sc.parallelize(range(100), 2).count()
empty_job = median_time(lambda: sc.parallelize(lines, 4).count())
spark_rows = {}
for parts in (2, 4, 32, 128):
    spark_rows[parts] = median_time(lambda: pipe_stage(sc.parallelize(lines, parts), "embed", "--model", model, bindir=bindir).count())
spark.stop()

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
version = subprocess.run([embed, "--version"], capture_output=True, text=True).stdout.strip()
print(f"embed {os.path.basename(model)}, {len(lines)} SST-2 sentences, wall time, medians of 3; PySpark {pyspark.__version__}")
print(f"CPU: {cpu}; {os.cpu_count()} cores; {version}")
print(f"per process: start + model load (empty input) {startup * 1000:.0f} ms; with one record {one_record * 1000:.0f} ms")
print(f"Spark job overhead (count of the same RDD, no stage): {empty_job * 1000:.0f} ms")
print("| run | seconds | sentences/s | vs one process, 2 threads |")
print("|---|---|---|---|")
for t, s in single.items():
    print(f"| one process, {t} thread{'s' if t > 1 else ''} | {s:.2f} | {len(lines) / s:.0f} | {single[2] / s:.2f}x |")
for parts, s in spark_rows.items():
    print(f"| Spark local[2], {parts} partitions ({len(lines) // parts} records each), 1 thread per task | {s:.2f} | {len(lines) / s:.0f} | {single[2] / s:.2f}x |")
