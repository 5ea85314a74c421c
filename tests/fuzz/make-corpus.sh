#!/bin/bash
# SPDX-License-Identifier: MIT
# Makes the fuzzer's seed corpus (tests/fuzz/corpus) again from a build tree's samples, so that
# it follows the log format: run it after any change to format/log_format.h.
#   tests/fuzz/make-corpus.sh [BUILD_DIR]   (default: build)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
mt="$build/cli/memtrace"
out="$root/tests/fuzz/corpus"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -f "$out"/*.mtr
for s in demo leak fragment mmap_user peak threads; do
    "$mt" run -q -o "$out/$s.mtr" "$build/samples/$s" >/dev/null
done
"$mt" run -q --leak-check -o "$out/leak_kinds.mtr" "$build/samples/leak_kinds" >/dev/null || true
(cd "$tmp" && "$mt" run -q -o "$tmp/fork_exec.%p.mtr" "$build/samples/fork_exec" >/dev/null)
n=0
for f in "$tmp"/fork_exec.*.mtr; do
    cp "$f" "$out/fork_exec_$n.mtr"
    n=$((n + 1))
done
head -c $(($(stat -c %s "$out/demo.mtr") / 2)) "$out/demo.mtr" >"$out/demo_truncated.mtr"
if [[ -x /usr/bin/python3 ]]; then
    "$mt" run -q -o "$out/python.mtr" /usr/bin/python3 "$root/samples/py_leak.py" >/dev/null
fi
ls -l "$out"
