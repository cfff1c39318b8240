"""The README's example: embed, then tokenize, as two Spark stages; a DataFrame at the end.
Run from the repository root after `make build models`:  .refenv/bin/python scale-out/spark/example.py"""
import os, subprocess, sys
sys.path.insert(0, "scale-out/spark")
from mltools_spark import pipe_stage, to_dataframe
from pyspark.sql import SparkSession

BIN = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], capture_output=True, text=True).stdout.strip()
MODEL = os.path.abspath("data/models/all-MiniLM-L6-v2")

spark = SparkSession.builder.master("local[2]").config("spark.ui.showConsoleProgress", "false").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
spark.sparkContext.addPyFile("scale-out/spark/mltools_spark.py")     # the workers import it too
lines = spark.sparkContext.textFile("data/sst2/dev.jsonl", minPartitions=4)
embedded = pipe_stage(lines, "embed", "--model", MODEL, bindir=BIN)
tokenized = pipe_stage(embedded, "tokenize", "--model", MODEL, bindir=BIN)   # stages chain like a pipe
df = to_dataframe(spark, tokenized)                                    # a column per field (+ `error`)
df.select("text", "label", "ids").show(3, truncate=60)
print(df.count(), "rows,", len(df.first()["embedding"]), "dimensions")
spark.stop()
