#!/bin/bash
# SPDX-License-Identifier: MIT
# Side-by-side benchmark of memtrace against the plain program and heaptrack (and, with
# --massif, valgrind massif) on the reference workloads in shared/bench. Runs are interleaved
# (plain, memtrace, heaptrack, plain, ...) so machine noise hits every tool alike; the
# figures printed are medians. Not part of CI: a full run takes several minutes.
#
#   bench/bench.sh [--runs N] [--iterations N] [--py-n N] [--massif] [--build DIR]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_SRC="${MEMTRACE_BENCH_DIR:-$ROOT/../shared/bench}"
BUILD="$ROOT/build"
RUNS=5
ITER=2000000
PY_N=200000
MASSIF=0
PYTHON=/usr/bin/python3

while [ $# -gt 0 ]; do
    case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --iterations) ITER="$2"; shift 2 ;;
    --py-n) PY_N="$2"; shift 2 ;;
    --massif) MASSIF=1; shift ;;
    --build) BUILD="$(cd "$2" && pwd)"; shift 2 ;;
    -h | --help) sed -n '3,9p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done

MEMTRACE="$BUILD/cli/memtrace"
[ -x "$MEMTRACE" ] || { echo "bench.sh: $MEMTRACE not built (run ninja -C $BUILD)" >&2; exit 1; }
[ -f "$BENCH_SRC/churn.c" ] || { echo "bench.sh: $BENCH_SRC/churn.c not found" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cc -O2 -g "$BENCH_SRC/churn.c" -o "$WORK/churn"
cp "$BENCH_SRC/pyalloc.py" "$WORK/"
HAVE_HEAPTRACK=0
command -v heaptrack >/dev/null && HAVE_HEAPTRACK=1

# measure NAME CMD...: appends "wall user+sys maxrss_kib" to $WORK/NAME.times
measure() {
    local name="$1"
    shift
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/t" "$@" >/dev/null 2>"$WORK/err" ||
        { echo "bench.sh: '$*' failed:" >&2; tail -5 "$WORK/err" >&2; exit 1; }
    awk '{printf "%s %.3f %s\n", $1, $2 + $3, $4}' "$WORK/t" >>"$WORK/$name.times"
}

median() { # column file
    sort -n -k"$1" "$2" | awk -v c="$1" '{v[NR]=$c} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "runs: $RUNS interleaved; churn.c $ITER iterations; pyalloc.py $PY_N"
echo

for i in $(seq "$RUNS"); do
    rm -f "$WORK"/*.mtr "$WORK"/heaptrack.*
    measure churn_plain "$WORK/churn" "$ITER"
    measure churn_memtrace "$MEMTRACE" run -q -o "$WORK/churn.mtr" -- "$WORK/churn" "$ITER"
    if [ $HAVE_HEAPTRACK = 1 ]; then
        (cd "$WORK" && measure churn_heaptrack heaptrack -o "$WORK/heaptrack.churn" "$WORK/churn" "$ITER")
    fi
    if [ $MASSIF = 1 ]; then
        measure churn_massif valgrind --tool=massif --massif-out-file="$WORK/massif.out" \
            "$WORK/churn" "$ITER"
    fi
    measure py_plain "$PYTHON" "$WORK/pyalloc.py" "$PY_N"
    measure py_memtrace "$MEMTRACE" run -q -o "$WORK/py.mtr" -- "$PYTHON" "$WORK/pyalloc.py" "$PY_N"
    if [ $HAVE_HEAPTRACK = 1 ]; then
        (cd "$WORK" && measure py_heaptrack heaptrack -o "$WORK/heaptrack.py" "$PYTHON" \
            "$WORK/pyalloc.py" "$PY_N")
    fi
    # Analysis of the last run's logs.
    measure report_memtrace "$MEMTRACE" report "$WORK/churn.mtr"
    if [ $HAVE_HEAPTRACK = 1 ]; then
        measure report_heaptrack heaptrack_print "$(ls "$WORK"/heaptrack.churn*.zst "$WORK"/heaptrack.churn*.gz 2>/dev/null | head -1)"
    fi
done

row() { # label name base
    local f="$WORK/$2.times" b="$WORK/$3.times"
    [ -f "$f" ] || return 0
    local w c m bw bc bm
    w=$(median 1 "$f"); c=$(median 2 "$f"); m=$(median 3 "$f")
    bw=$(median 1 "$b"); bc=$(median 2 "$b"); bm=$(median 3 "$b")
    awk -v l="$1" -v w="$w" -v c="$c" -v m="$m" -v bw="$bw" -v bc="$bc" -v bm="$bm" 'BEGIN {
        printf "%-26s %7.2f s %6.2fx   %7.2f s %6.2fx   %8.1f MiB %+8.1f MiB\n",
            l, w, w / bw, c, c / bc, m / 1024, (m - bm) / 1024 }'
}

printf "%-26s %17s   %17s   %23s\n" "" "wall (ratio)" "cpu (ratio)" "peak RSS (vs plain)"
row "churn.c plain" churn_plain churn_plain
row "churn.c memtrace" churn_memtrace churn_plain
row "churn.c heaptrack" churn_heaptrack churn_plain
row "churn.c massif" churn_massif churn_plain
row "pyalloc.py plain" py_plain py_plain
row "pyalloc.py memtrace" py_memtrace py_plain
row "pyalloc.py heaptrack" py_heaptrack py_plain
row "memtrace report" report_memtrace report_memtrace
row "heaptrack_print" report_heaptrack report_memtrace
echo
echo "log size, churn.c: memtrace $(du -k "$WORK/churn.mtr" | cut -f1) KiB" \
    "$([ $HAVE_HEAPTRACK = 1 ] && echo ", heaptrack $(du -kc "$WORK"/heaptrack.churn* | tail -1 | cut -f1) KiB")"
