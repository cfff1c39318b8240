"""Run the toolkit's programs as stages of a Spark job (the user's side; PySpark only).

    from mltools_spark import pipe_stage, to_dataframe
    lines = spark.sparkContext.textFile("reviews.jsonl", minPartitions=32)
    out = pipe_stage(lines, "embed", "--model", "/models/all-MiniLM-L6-v2")
    df = to_dataframe(spark, out)            # one row per input line, same order

Every input line comes back exactly once, in order: the program runs with `--on-error pass`, so a
bad record comes back as a record with an `error` field (`{"message", "file", "line"}`, the line
counted within its partition) instead of disappearing or failing the job. What still fails the task,
with the program's stderr in the exception: the program cannot start or load its model (exit 2),
usage errors (64), or a line count that differs from the input's.

Why not `rdd.pipe("embed ...")`: PySpark gives the child an empty environment (no PATH, so a bare
program name is not found), discards the exit status unless `checkCode=True` (and then one bad record
aborts the whole job), and lets stderr interleave on the executor's console. Here the program is
resolved to an absolute path on the driver, the environment is shipped explicitly, and each
partition's stderr is kept apart (in the exception, or appended to files under `stderr_dir`).

On a cluster, ship this file with `spark.sparkContext.addPyFile(".../mltools_spark.py")` and install
the programs (and the model directory) at the same paths on every worker (`make install`).
"""
import os
import shutil
import subprocess
import threading

__all__ = ["program_path", "stage_command", "pipe_stage", "to_dataframe"]

# What the programs need from the environment: nothing but a PATH for helpers and a UTF-8 locale;
# BLAS/OpenMP thread variables are passed through when the user set them.
_PASSED = ("LD_LIBRARY_PATH", "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "HOME", "TMPDIR")


def program_path(program, bindir=None):
    """Absolute path of `program` (in `bindir`, else on the driver's PATH)."""
    if os.sep in program:
        path = program
    elif bindir:
        path = os.path.join(bindir, program)
    else:
        path = shutil.which(program)
        if path is None:
            raise FileNotFoundError(f"{program} is not on PATH; pass bindir= (e.g. the output of `swift build -c release --show-bin-path`)")
    path = os.path.realpath(path)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} is not an executable")
    return path


def stage_command(program, *args, bindir=None, threads=1, error_field="error"):
    """The argv a stage runs: the program's absolute path, its arguments, and the flags that make it a
    well-behaved stage (error records, no progress, `threads` threads per task)."""
    return [program_path(program, bindir), *map(str, args),
            "--on-error", "pass", "--error-field", error_field, "--quiet", "--threads", str(threads)]


def _environment(extra):
    env = {k: os.environ[k] for k in _PASSED if k in os.environ}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env["LC_ALL"] = env["LANG"] = "C.UTF-8"
    env.update(extra or {})
    return env


class StageFailed(RuntimeError):
    pass


def _run_partition(argv, env, stderr_dir):
    """The mapPartitions function: feeds the partition's lines to one process, yields its output lines."""
    def run(lines):
        if stderr_dir:
            os.makedirs(stderr_dir, exist_ok=True)
            err_target = open(os.path.join(stderr_dir, f"{os.path.basename(argv[0])}-{os.getpid()}-{threading.get_ident()}.log"), "ab")
        else:
            err_target = subprocess.PIPE
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err_target)
        sent = [0]
        err_chunks = []

        def feed():
            try:
                for line in lines:
                    proc.stdin.write((line.rstrip("\n") + "\n").encode("utf-8"))
                    sent[0] += 1
            except BrokenPipeError:
                pass
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass

        def drain():  # stderr read on its own thread, so a chatty program never blocks on a full pipe
            for chunk in iter(lambda: proc.stderr.read(65536), b""):
                err_chunks.append(chunk)
                if sum(map(len, err_chunks)) > 1 << 20:
                    err_chunks.pop(0)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        drainer = None
        if err_target is subprocess.PIPE:
            drainer = threading.Thread(target=drain, daemon=True)
            drainer.start()
        received = 0
        for raw in iter(proc.stdout.readline, b""):
            received += 1
            yield raw.rstrip(b"\n").decode("utf-8")
        feeder.join()
        status = proc.wait()
        if drainer:
            drainer.join()
        else:
            err_target.close()
        stderr = b"".join(err_chunks).decode("utf-8", "replace").strip()
        if status != 0 or received != sent[0]:
            where = f" (stderr in {stderr_dir})" if stderr_dir else (":\n" + stderr[-4000:] if stderr else "")
            raise StageFailed(f"{' '.join(argv)} exited with status {status} after {received} of {sent[0]} lines{where}")
    return run


def pipe_stage(rdd, program, *args, bindir=None, threads=1, env=None, error_field="error", stderr_dir=None):
    """An RDD of JSONL strings through `program args...`, one process per partition.

    threads: threads per task (Spark runs `spark.task.cpus`-many tasks per core budget; set both so the
    product matches the executor's cores). env: extra environment variables. stderr_dir: append each
    process's stderr (reports of bad records, warnings) to a file there instead of keeping it for the
    exception."""
    argv = stage_command(program, *args, bindir=bindir, threads=threads, error_field=error_field)
    return rdd.mapPartitions(_run_partition(argv, _environment(env), stderr_dir))


def to_dataframe(spark, lines, schema=None):
    """JSONL strings as a DataFrame (Spark's JSON reader; pass `schema` to skip its inference pass).
    Error records have a non-null `error` column."""
    return spark.read.json(lines, schema=schema) if schema is not None else spark.read.json(lines)
