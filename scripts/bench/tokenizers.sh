#!/bin/sh
# Tokenizer speed, ours against Hugging Face's tokenizers (Rust, through Python), one thread each, on
# data/fixtures/tokenizers/corpus.jsonl: tokens/s for MiniLM's WordPiece and SmolLM2's byte-level BPE.
#   scripts/bench/tokenizers.sh [PYTHON]      (PYTHON: one with `tokenizers`; default .refenv/bin/python)
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
py=${1:-$root/.refenv/bin/python}
swift build -c release --package-path "$root/scripts/bench/tokenizer-speed" >&2
"$root/scripts/bench/tokenizer-speed/.build/release/tokenizer-speed" "$root"
"$py" "$root/scripts/bench/tokenizers_hf.py" "$root"
