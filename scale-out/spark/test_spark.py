#!/usr/bin/env python3
"""`make test-scale-out`, Spark part: programs as Spark stages (mltools_spark.pipe_stage) in local[2].

Checks, on 2,000 SST-2 training sentences:
  1. embed over 4 and over 32 partitions: every record back exactly once, in order, byte-identical
     to one `embed` process over the whole file;
  2. tokenize the same way; lm-infinite score (a decoder) on 200 of them; and the three-stage chain
     embed | loki zeroshot | loki predict (the demo's) on 50 texts against the same shell pipeline;
  3. two bad records (not JSON; a text that is a number) in different partitions come back as error
     records (the rest byte-identical to the clean run), the job completes, and the DataFrame has 2,000
     rows of which exactly 2 have an error;
  4. a stage whose program cannot load its model fails the job with the program's message.
Skips (exit 0 with a message) when PySpark or Java is missing.
Usage: test_spark.py BINDIR MODEL SENTENCES.jsonl
"""
import json, os, shutil, subprocess, sys

bindir, model, sentences = sys.argv[1:4]
try:
    import pyspark  # noqa: F401
except ImportError:
    print(f"test-scale-out (Spark): SKIPPED: no PySpark in {sys.executable} (`make refenv` installs it)")
    sys.exit(0)
if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
    print("test-scale-out (Spark): SKIPPED: no Java (Debian: openjdk-17-jre-headless)")
    sys.exit(0)

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from mltools_spark import pipe_stage, to_dataframe  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def differing(got, want):
    """Lines that differ, error records compared without their line number (counted per partition)."""
    def norm(line):
        if '"error"' not in line:
            return line
        r = json.loads(line)
        r.get("error", {}).pop("line", None)
        return json.dumps(r, sort_keys=True)
    return sum(norm(a) != norm(b) for a, b in zip(got, want)) + abs(len(got) - len(want))


lines = [l.rstrip("\n") for l in open(sentences)][:2000]
assert len(lines) == 2000, "needs 2,000 sentences"


def single(program, *args, data=lines):
    out = subprocess.run([os.path.join(bindir, program), *args, "--on-error", "pass", "--quiet", "--threads", "2"],
                         input="\n".join(data) + "\n", capture_output=True, text=True)
    return out.stdout.splitlines()


spark = (SparkSession.builder.master("local[2]").appName("mltools-test")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").config("spark.task.maxFailures", "1").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.sparkContext.addPyFile(os.path.join(here, "mltools_spark.py"))
sc = spark.sparkContext

expected = {"embed": single("embed", "--model", model), "tokenize": single("tokenize", "--model", model)}
for program, args in (("embed", ["--model", model]), ("tokenize", ["--model", model])):
    check(len(expected[program]) == 2000, f"{program}: one process gives 2,000 lines")
    for parts in (4, 32):
        got = pipe_stage(sc.parallelize(lines, parts), program, *args, bindir=bindir).collect()
        diff = differing(got, expected[program])
        check(diff == 0 and len(got) == 2000, f"{program} over {parts} partitions: {len(got)} lines, byte-identical to one process ({diff} differ)")

# More programs, on fewer records: a decoder (lm-infinite score on SmolLM2's GGUF) and a three-stage
# chain (embed | loki zeroshot | loki predict, the demo's pipeline) against the same shell pipeline.
root = os.path.abspath(os.path.join(here, "..", ".."))
smol = os.path.join(root, "data/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
few = lines[:200]
want = single("lm-infinite", "score", "--model", smol, data=few)
got = pipe_stage(sc.parallelize(few, 4), "lm-infinite", "score", "--model", smol, bindir=bindir).collect()
errors = sum('"error"' in l for l in want)
check(len(want) == 200 and differing(got, want) == 0,
      f"lm-infinite score over 4 partitions: byte-identical to one process ({differing(got, want)} differ; {errors} error records, for texts of one token, equal but for their line numbers)")
loki = os.path.join(root, "data/loki")
classes = os.path.join(root, ".build/test-scale-out/loki-classes.jsonl")
os.makedirs(os.path.dirname(classes), exist_ok=True)
with open(os.path.join(loki, "fashion_classes.jsonl")) as f:
    open(classes, "w").write("\n".join(single("embed", "--model", model, data=f.read().splitlines())) + "\n")
zeroshot = ["zeroshot", "--class-embeddings", classes, "--observed", os.path.join(loki, "fashion_demo_observed.txt"), "--temperature", "0.1"]
predict = ["predict", "--metric", os.path.join(loki, "fashion_tree.tsv"), "--observed", os.path.join(loki, "fashion_demo_observed.txt"), "--no-cache"]
texts = open(os.path.join(loki, "fashion_texts.jsonl")).read().splitlines()
want = single("loki", *predict, data=single("loki", *zeroshot, data=single("embed", "--model", model, data=texts)))
rdd = pipe_stage(sc.parallelize(texts, 4), "embed", "--model", model, bindir=bindir)
rdd = pipe_stage(rdd, "loki", *zeroshot, bindir=bindir)
got = pipe_stage(rdd, "loki", *predict, bindir=bindir).collect()
check(len(want) == len(texts) and differing(got, want) == 0, f"embed | loki zeroshot | loki predict as three stages over 4 partitions: {len(got)} lines, byte-identical to the shell pipeline")

bad = list(lines)
bad[100] = "not json {"
bad[1900] = json.dumps({"text": 5, "label": 1})
got = pipe_stage(sc.parallelize(bad, 4), "embed", "--model", model, bindir=bindir).collect()
check(len(got) == 2000, f"with two bad records: {len(got)} lines back")
records = [json.loads(l) for l in got]
errors = [i for i, r in enumerate(records) if "error" in r]
check(errors == [100, 1900], f"error records at the bad lines only: {errors}")
check(records[100].get("input") == "not json {" and "message" in records[100].get("error", {}), "a line that is not JSON comes back as {input, error}: " + got[100][:160])
check("message" in records[1900].get("error", {}) and records[1900].get("text") == 5, "a mistyped record comes back whole with its error: " + got[1900][:160])
check(all(got[i] == expected["embed"][i] for i in range(2000) if i not in (100, 1900)), "every other line byte-identical to the clean run")
df = to_dataframe(spark, sc.parallelize(got, 4))
check(df.count() == 2000 and df.filter(df.error.isNotNull()).count() == 2, "DataFrame: 2,000 rows, 2 with an error")

sc.setLogLevel("OFF")  # the failure below is expected: keep Spark's stack traces out of the output
try:
    pipe_stage(sc.parallelize(lines[:10], 2), "embed", "--model", "/nonexistent/model", bindir=bindir).collect()
    check(False, "a model that cannot be loaded fails the job")
except Exception as e:  # Py4J wraps the worker's StageFailed
    text = str(e)
    check("StageFailed" in text and "/nonexistent/model" in text and "status 2" in text,
          "a model that cannot be loaded fails the job with the program's message")

spark.stop()
print(f"test-scale-out (Spark): {'FAILED: ' + str(len(failures)) if failures else 'all passed'}")
sys.exit(1 if failures else 0)
