#!/bin/sh
# test-install.sh: `make install` into a temporary prefix, then every program from there in an empty
# environment (no PATH, no toolchain libraries): --version, a real embed run, the completions and
# man pages; the binaries must not depend on the Swift toolchain's libraries; `make uninstall` removes
# everything it installed.
set -eu
cd "$(dirname "$0")/.."
prefix=$(mktemp -d "${TMPDIR:-/tmp}/mltools-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
make --no-print-directory install PREFIX="$prefix" >/dev/null
fail() { echo "test-install: $*" >&2; exit 1; }
for p in embed tokenize lm-infinite loki zo; do
    env -i "$prefix/bin/$p" --version | grep -q "(mltools)" || fail "$p --version"
    [ -s "$prefix/share/man/man1/$p.1" ] || fail "no man page for $p"
    [ -s "$prefix/share/bash-completion/completions/$p" ] || fail "no bash completion for $p"
    [ -s "$prefix/share/zsh/site-functions/_$p" ] || fail "no zsh completion for $p"
    [ -s "$prefix/share/fish/vendor_completions.d/$p.fish" ] || fail "no fish completion for $p"
    if ldd "$prefix/bin/$p" | grep -qi swift; then fail "$p links the Swift toolchain's libraries: $(ldd "$prefix/bin/$p" | grep -i swift)"; fi
done
out=$(env -i "$prefix/bin/embed" --model "$PWD/data/models/all-MiniLM-L6-v2" --quiet < data/examples/sentences.jsonl | head -1)
case "$out" in *'"embedding":['*) ;; *) fail "installed embed gave: $out" ;; esac
# From an installed binary outside the checkout, load hints do not mention make.
hint=$(cd / && env -i "$prefix/bin/embed" --model /nonexistent < /dev/null 2>&1 || true)
case "$hint" in *make*) fail "hint mentions make outside the checkout: $hint" ;; esac
make --no-print-directory uninstall PREFIX="$prefix" >/dev/null
[ -z "$(find "$prefix" -type f)" ] || fail "uninstall left: $(find "$prefix" -type f)"
echo "test-install: installed, ran from an empty environment, uninstalled ($prefix)"
