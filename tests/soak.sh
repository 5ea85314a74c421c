#!/bin/bash
# SPDX-License-Identifier: MIT
# Soak test (not part of `meson test`: minutes long): records samples/soak, a program in a
# steady state that allocates and frees for SECONDS, and checks that the recorder's memory
# stays flat: the process's VmRSS may grow by less than MAX_GROWTH_KIB between the end of the
# warm-up and the end of the run (the program's own heap is flat, so growth is memtrace's), and
# so may its VmSize (mappings that leak without being touched).
# Then the log must be complete and its report must say the heap ends empty.
#
#   tests/soak.sh [SECONDS [WARMUP [MAX_GROWTH_KIB]]]     defaults: 180 30 4096
#   MEMTRACE_BUILDDIR=... to use another build directory (default: build/)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="${MEMTRACE_BUILDDIR:-$ROOT/build}"
SECONDS_RUN=${1:-180}
WARMUP=${2:-30}
MAX_GROWTH=${3:-4096}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/memtrace-soak.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "soak: recording $BUILD/samples/soak for ${SECONDS_RUN}s (warm-up ${WARMUP}s)" >&2
# One malloc arena: glibc creates arenas (64 MiB of address space each) lazily as threads
# contend, at any time, which would hide the recorder's own mappings in VmSize.
out=$(MALLOC_ARENA_MAX=1 nice -n 10 "$BUILD/cli/memtrace" run -q -o "$tmp/soak.mtr" -- \
    "$BUILD/samples/soak" "$SECONDS_RUN" "$WARMUP")
echo "$out"
read -r warm end max vwarm vend vmax < <(sed -n 's/.*rss_kib warm=\([0-9]*\) end=\([0-9]*\) max=\([0-9]*\) vmsize_kib warm=\([0-9]*\) end=\([0-9]*\) max=\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' <<<"$out")
if [[ -z "${warm:-}" ]]; then
    echo "soak: FAIL: the program printed no result line" >&2
    exit 1
fi
size=$(stat -c %s "$tmp/soak.mtr")
"$BUILD/cli/memtrace" report --format json "$tmp/soak.mtr" >"$tmp/report.json"
/usr/bin/python3 - "$warm" "$end" "$max" "$vwarm" "$vend" "$vmax" "$MAX_GROWTH" "$size" \
    "$tmp/report.json" <<'PY' || exit 1
import json, sys
warm, end, mx, vwarm, vend, vmx, limit, size = (int(x) for x in sys.argv[1:9])
with open(sys.argv[9]) as f:
    r = json.load(f)
growth, vgrowth = mx - warm, vmx - vwarm
print(f"soak: VmRSS after warm-up {warm} KiB, at the end {end} KiB, max {mx} KiB: "
      f"growth {growth} KiB; VmSize {vwarm} -> {vend} KiB, max {vmx} KiB: growth "
      f"{vgrowth} KiB (limit {limit} each); {r['allocations']:,} allocations, "
      f"log {size / 1048576:.1f} MiB")
bad = []
if growth >= limit:
    bad.append(f"the recorder's resident memory grew by {growth} KiB after warm-up")
if vgrowth >= limit:
    bad.append(f"the address space grew by {vgrowth} KiB after warm-up (leaked mappings?)")
if r["truncated"] or r["exit"] != {"reason": "normal", "status": 0}:
    bad.append(f"log incomplete: exit={r['exit']} truncation={r['truncation']}")
if r["leaked_blocks"] > 64:  # the program frees everything; glibc keeps a few of its own
    bad.append(f"{r['leaked_blocks']} blocks live at exit")
for b in bad:
    print(f"soak: FAIL: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
echo "soak: PASS"
