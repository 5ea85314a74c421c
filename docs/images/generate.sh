#!/bin/bash
# SPDX-License-Identifier: MIT
# Regenerates the pictures of the README from the samples, with the memtrace of a build tree:
#   docs/images/generate.sh [BUILD_DIR]        (default: build)
# flamegraph.svg: samples/cpp_containers, --cost allocations; timeline.svg: samples/fragment.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
OUT="$ROOT/docs/images"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Commands and log names show in the pictures: keep them short and machine-independent.
cd "$BUILD/samples"
"$BUILD/cli/memtrace" run -q -o "$TMP/cpp_containers.mtr" -- ./cpp_containers >/dev/null
"$BUILD/cli/memtrace" run -q -o "$TMP/fragment.mtr" -- ./fragment >/dev/null
cd "$TMP"
"$BUILD/cli/memtrace" flamegraph --cost allocations -o "$OUT/flamegraph.svg" cpp_containers.mtr
"$BUILD/cli/memtrace" timeline -o "$OUT/timeline.svg" fragment.mtr
echo "wrote $OUT/flamegraph.svg and $OUT/timeline.svg"
