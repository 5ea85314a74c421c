#!/bin/bash
# SPDX-License-Identifier: MIT
# Side-by-side benchmark of memtrace against the plain program, heaptrack and valgrind massif
# (each when installed) on the reference workloads: shared/bench/churn.c, its 2-thread variant
# bench/churn_mt.c (per-thread overhead with 2 threads against 1) and shared/bench/pyalloc.py.
# Runs are interleaved (plain, memtrace, heaptrack, massif, plain, ...) so machine noise hits
# every tool alike; figures are medians. Not part of CI: a full run takes several minutes.
#
#   bench/bench.sh [--runs N] [--iterations N] [--py-n N] [--no-massif] [--build DIR]
#
# Thread scaling is separate (issue 14): bench/bench.sh --threads [--runs N] [--iterations N]
# runs churn_mt with 1, 2 and 8 threads (8 on a 2-core machine too) of ITERATIONS/2 each (1M by
# default, as the default run's churn_mt rows; a few minutes), plain, under `memtrace run -q`
# and under heaptrack, interleaved; it prints each tool's overhead with N threads over its
# overhead with 1 (the ratio of the two overheads, wall and CPU) and the peak RSS over plain.
#
# The analysis at scale is separate (minutes, GBs of disk): bench/bench.sh --scale EVENTS
# generates a synthetic log with bench/gen_log.c and times `memtrace report` on it.
# Real programs are separate too: bench/bench.sh --real [--runs N] records churn.c, node, perl,
# a C++ compile, sqlite3 and python3 under memtrace and heaptrack, and compares the analyses.
# A long idle run's log is separate too: bench/bench.sh --idle-log EVENTS [--runs N] generates
# one of EVENTS heap events in chunks of 20 (a daemon's second, flushed every second) and
# times `memtrace report` on it with one analysis thread and with two, interleaved.
# Log size and recorder memory on real programs are separate too: bench/bench.sh --logsize
# (see logsize_bench below).
# Import-heavy Python is separate too: bench/bench.sh --pyimport [--runs N] (pyimport_bench).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_SRC="${MEMTRACE_BENCH_DIR:-$ROOT/../shared/bench}"
BUILD="$ROOT/build"
RUNS=5
ITER=2000000
PY_N=200000
MASSIF=1
SCALE=0
IDLE_LOG=0
REAL=0
LOGSIZE=0
PYIMPORT=0
THREADS=0
PYTHON=/usr/bin/python3

while [ $# -gt 0 ]; do
    case "$1" in
    --runs) RUNS="$2"; shift 2 ;;
    --iterations) ITER="$2"; shift 2 ;;
    --py-n) PY_N="$2"; shift 2 ;;
    --massif) MASSIF=1; shift ;;
    --no-massif) MASSIF=0; shift ;;
    --scale) SCALE="$2"; shift 2 ;;
    --idle-log) IDLE_LOG="$2"; shift 2 ;;
    --real) REAL=1; shift ;;
    --logsize) LOGSIZE=1; shift ;;
    --pyimport) PYIMPORT=1; shift ;;
    --build) BUILD="$(cd "$2" && pwd)"; shift 2 ;;
    --threads) THREADS=1; shift ;;
    -h | --help) sed -n '3,26p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done

MEMTRACE="$BUILD/cli/memtrace"
[ -x "$MEMTRACE" ] || { echo "bench.sh: $MEMTRACE not built (run ninja -C $BUILD)" >&2; exit 1; }

# ---- log size and recorder memory on real programs (issue 20, items 2 and 5) ----
#
# bench/bench.sh --logsize [--runs N]: for each program below that is installed, RUNS
# interleaved runs of the plain program, `memtrace run -q`, the same with every chunk deflated
# alone (MEMTRACE_LOG_ZSTD=0, the compression of log version 7), heaptrack and `memtrace run`
# (the summary read while the program runs). Medians of: the log's size against the deflated
# one's and heaptrack's, the program's peak RSS (GNU time's %M) under the recorder against
# plain, and the memtrace process's own peak RSS (polled) over a trivial run's, per block live
# at the heap's peak (for heaps of 100,000 blocks and more; it includes the reader's buffers,
# about 4 MiB).
# LOGSIZE_PROGRAMS="perl lua" measures only those.
logsize_bench() {
    LOGSIZE_WORK="$(mktemp -d)"
    trap 'rm -rf "$LOGSIZE_WORK"' EXIT
    local work="$LOGSIZE_WORK"
    cc -O2 "$ROOT/bench/idle_tick.c" -o "$work/idle_tick"
    # the programs of issue 20; scripts in files so that every command is a plain argv
    echo 'const a = []; for (let i = 0; i < 100000; i++) a.push({i: i, s: "x" + i, t: [i]});' \
        >"$work/objs.js"
    echo 'my %h; $h{"key$_"} = $_ for 1..300000;' >"$work/hash.pl"
    echo 'local t = {} for i = 1, 300000 do t[i] = {i, tostring(i)} end' >"$work/table.lua"
    cat >"$work/rows.sql" <<'SQL'
drop table if exists t;
create table t(a integer primary key, b text);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 300000)
insert into t select x, printf('row %d', x) from c;
SQL
    local names=(${LOGSIZE_PROGRAMS:-node clang cc1plus perl sqlite lua idle}) # or a subset
    # g++'s compiler proper, run directly: under g++ it is a child, whose log is another file
    # and which heaptrack does not follow
    local cc1plus multiarch
    cc1plus=$(g++ -print-prog-name=cc1plus 2>/dev/null || echo cc1plus)
    multiarch=$(g++ -print-multiarch 2>/dev/null || true)
    local -A cmd=(
        [node]="node $work/objs.js"
        [clang]="clang++-14 -std=c++17 -O2 -c $ROOT/bench/template_heavy.cpp -o $work/t.o"
        [cc1plus]="$cc1plus -quiet ${multiarch:+-imultiarch $multiarch} -D_GNU_SOURCE -O2 -std=c++17 \
            $ROOT/bench/template_heavy.cpp -o $work/t.s"
        [perl]="perl $work/hash.pl"
        [sqlite]="sqlite3 $work/rows.db .read\ $work/rows.sql"
        [lua]="lua5.4 $work/table.lua"
        [idle]="$work/idle_tick 30"
    )
    local have_ht=0
    command -v heaptrack >/dev/null && have_ht=1
    # peak RSS (KiB) of the process PID, polled until it ends: its last VmHWM
    hwm_of() {
        local pid=$1 hwm=0 h
        while kill -0 "$pid" 2>/dev/null; do
            h=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
            [ -n "$h" ] && hwm=$h
            sleep 0.05
        done
        wait "$pid" || true
        echo "$hwm"
    }
    lmedian() { # column file
        sort -n -k"$1" "$2" | awk -v c="$1" '{v[NR]=$c} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
    }
    "$MEMTRACE" run -o "$work/true.mtr" -- sleep 0.5 >/dev/null 2>&1 &
    local base_hwm
    base_hwm=$(hwm_of $!)
    echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "runs: $RUNS interleaved per program; memtrace process alone: $base_hwm KiB"
    echo
    local n argv
    for n in "${names[@]}"; do
        eval "argv=(${cmd[$n]})" # word splitting; the sqlite argument keeps its space
        command -v "${argv[0]}" >/dev/null || { echo "$n: ${argv[0]} not installed, skipped"; continue; }
        for _ in $(seq "$RUNS"); do
            rm -f "$work"/*.mtr* "$work"/ht.*
            /usr/bin/time -f "%M" -o "$work/t" "${argv[@]}" >/dev/null 2>&1 || true
            cat "$work/t" >>"$work/$n.plain"
            /usr/bin/time -f "%M" -o "$work/t" "$MEMTRACE" run -q -o "$work/q.mtr" -- \
                "${argv[@]}" >/dev/null 2>&1 || true
            echo "$(cat "$work/t") $(stat -c %s "$work/q.mtr")" >>"$work/$n.rec"
            MEMTRACE_LOG_ZSTD=0 "$MEMTRACE" run -q -o "$work/d.mtr" -- "${argv[@]}" >/dev/null \
                2>&1 || true
            stat -c %s "$work/d.mtr" >>"$work/$n.defl"
            if [ $have_ht = 1 ]; then
                (cd "$work" && heaptrack -o "$work/ht.$n" "${argv[@]}" >/dev/null 2>&1) || true
                stat -c %s "$work"/ht."$n".* 2>/dev/null | head -1 >>"$work/$n.ht"
            fi
            "$MEMTRACE" run -o "$work/s.mtr" -- "${argv[@]}" >/dev/null 2>&1 &
            local hwm blocks
            hwm=$(hwm_of $!)
            "$MEMTRACE" report --format json "$work/s.mtr" >"$work/s.json" 2>/dev/null || true
            blocks=$(awk -F'[:,]' '/"peak_heap_blocks"/ {print $2 + 0; exit}' "$work/s.json")
            echo "$hwm ${blocks:-0}" >>"$work/$n.sum"
        done
    done
    printf "%-7s %11s %11s %11s %7s   %10s %10s %8s   %12s %9s\n" "" "log" "deflated" \
        "heaptrack" "ratio" "plain RSS" "recorder" "+MiB" "summary RSS" "B/block"
    for n in "${names[@]}"; do
        [ -f "$work/$n.rec" ] || continue
        local plain rss log defl ht shwm sblocks
        plain=$(lmedian 1 "$work/$n.plain")
        rss=$(lmedian 1 "$work/$n.rec")
        log=$(lmedian 2 "$work/$n.rec")
        defl=$(lmedian 1 "$work/$n.defl")
        ht=$([ -f "$work/$n.ht" ] && lmedian 1 "$work/$n.ht" || echo 0)
        shwm=$(lmedian 1 "$work/$n.sum")
        sblocks=$(lmedian 2 "$work/$n.sum")
        awk -v n="$n" -v lg="$log" -v df="$defl" -v ht="$ht" -v p="$plain" -v r="$rss" \
            -v s="$shwm" -v b="$sblocks" -v base="$base_hwm" 'BEGIN {
            printf "%-7s %11d %11d %11d %7s   %6.1f MiB %6.1f MiB %+8.1f   %8.1f MiB %9s\n",
                n, lg, df, ht, ht ? sprintf("%.2f", lg / ht) : "-",
                p / 1024, r / 1024, (r - p) / 1024, s / 1024,
                (b >= 100000 ? sprintf("%.1f", (s - base) * 1024 / b) : "-") }'
    done
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
}
[ "$LOGSIZE" = 1 ] && { logsize_bench; exit 0; }
[ "$PYIMPORT" = 1 ] || [ -f "$BENCH_SRC/churn.c" ] || { echo "bench.sh: $BENCH_SRC/churn.c not found" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

machine() {
    echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
}

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

# ---- real programs (--real) ----------------------------------------------------------------
# Each workload is recorded once under memtrace and once under heaptrack; then the analysis of
# the two logs is timed, interleaved: `memtrace report` against `heaptrack_print`, medians of
# wall, CPU (user + sys) and peak RSS. A workload whose program is missing is left out (apt-get
# install nodejs perl clang sqlite3 python3). Further columns about the same workloads (log
# size, the recorder's memory) belong in real_row and real_header.
# `memtrace report` keeps uncompressed copies of compressed debug files (libc6-dbg's) in
# ~/.cache/memtrace/debug: the first run fills it, the others use it; run the benchmark under
# MEMTRACE_DEBUG_CACHE=0 for the analysis without it. The index a first command leaves beside
# a log (docs/index.md) would answer every later run in milliseconds: the runs here read the
# log each time (MEMTRACE_INDEX=0), which is what heaptrack_print does and what the first
# command on a new log costs.

REAL_WORKLOADS=(churn node perl cxx sqlite python)

# real_cmd NAME: the workload's command in CMD, memtrace run's own options in MT_OPTS,
# environment for both recorders in RUN_ENV; returns 1 when its program is missing.
real_cmd() {
    MT_OPTS=(-q)
    RUN_ENV=()
    case "$1" in
    churn) CMD=("$WORK/churn" "$ITER") ;; # issue 14's target: at most 0.35x heaptrack_print
    node) CMD=(node -e 'let a=[];for(let i=0;i<100000;i++)a.push({i,s:"x"+i});') ;;
    perl) CMD=(perl -e 'my %h; $h{"key$_"} = $_ for 1..300000; print scalar(keys %h), "\n";') ;;
    cxx)
        local cxx
        cxx="$(command -v clang++-14 || command -v clang++ || command -v g++ || true)"
        CMD=("${cxx:-clang++}" -std=c++17 -O2 -DTEMPLATE_DEPTH=20 -c "$ROOT/bench/real_templates.cpp"
            -o /dev/null)
        ;;
    sqlite) CMD=(sqlite3 :memory: ".read $WORK/real.sql") ;;
    python) # every object through malloc, so both recorders see the same calls
        CMD=("$PYTHON" "$WORK/pyalloc.py" 50000)
        MT_OPTS+=(--python=off)
        RUN_ENV=(PYTHONMALLOC=malloc)
        ;;
    esac
    command -v "${CMD[0]}" >/dev/null
}

real_label() {
    case "$1" in
    churn) echo "churn.c, $ITER iterations" ;;
    node) echo "node -e, 100k objects" ;;
    perl) echo "perl, 300k-key hash" ;;
    cxx) echo "$(basename "${CMD[0]}") -O2, templates" ;;
    sqlite) echo "sqlite3, 300k rows" ;;
    python) echo "python3 --python=off" ;;
    esac
}

real_record() { # NAME: its logs in $WORK/real-NAME.mtr and $WORK/real-NAME.ht.*
    env "${RUN_ENV[@]}" "$MEMTRACE" run "${MT_OPTS[@]}" -o "$WORK/real-$1.mtr" -- "${CMD[@]}" \
        >/dev/null 2>"$WORK/err" || { echo "bench.sh: memtrace run $1 failed:" >&2; tail -5 "$WORK/err" >&2; exit 1; }
    (cd "$WORK" && env "${RUN_ENV[@]}" heaptrack -o "$WORK/real-$1.ht" "${CMD[@]}" >/dev/null 2>&1) ||
        { echo "bench.sh: heaptrack $1 failed" >&2; exit 1; }
}

real_header() {
    printf "%-26s %-26s %-26s %s\n" "" "memtrace report" "heaptrack_print" "memtrace / heaptrack_print"
    printf "%-26s %-26s %-26s %s\n" "workload" "wall   CPU    peak RSS" "wall   CPU    peak RSS" \
        "wall   CPU    RSS"
}

real_row() { # NAME
    local m="$WORK/real_$1_mt.times" h="$WORK/real_$1_ht.times" label
    real_cmd "$1" || true
    label="$(real_label "$1")"
    awk -v l="$label" \
        -v mw="$(median 1 "$m")" -v mc="$(median 2 "$m")" -v mr="$(median 3 "$m")" \
        -v hw="$(median 1 "$h")" -v hc="$(median 2 "$h")" -v hr="$(median 3 "$h")" 'BEGIN {
        printf "%-26s %5.2fs %5.2fs %6.1f MiB   %5.2fs %5.2fs %6.1f MiB   %5.2fx %5.2fx %5.2fx\n",
            l, mw, mc, mr / 1024, hw, hc, hr / 1024, mw / hw, mc / hc, mr / hr }'
}

real_programs() {
    command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null ||
        { echo "bench.sh: --real compares with heaptrack: apt-get install heaptrack" >&2; exit 1; }
    cp "$BENCH_SRC/pyalloc.py" "$WORK/"
    cc -O2 -g "$BENCH_SRC/churn.c" -o "$WORK/churn"
    cat >"$WORK/real.sql" <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000)
INSERT INTO t SELECT x, 'name' || x, x * 0.5 FROM c;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(v) FROM t WHERE name LIKE 'name1%';
SQL
    local names=() n
    for n in ${REAL_PROGRAMS:-${REAL_WORKLOADS[@]}}; do # REAL_PROGRAMS="churn node": a subset
        if real_cmd "$n"; then
            real_record "$n"
            names+=("$n")
        else
            echo "skipped $n: ${CMD[0]} not installed"
        fi
    done
    machine
    echo "runs: $RUNS interleaved; analysis of the same workload's log (each recorded once per tool)"
    echo
    for _ in $(seq "$RUNS"); do
        for n in "${names[@]}"; do
            measure "real_${n}_mt" env MEMTRACE_INDEX=0 "$MEMTRACE" report "$WORK/real-$n.mtr"
            measure "real_${n}_ht" heaptrack_print "$(ls "$WORK/real-$n.ht".* | head -1)"
        done
    done
    real_header
    for n in "${names[@]}"; do
        real_row "$n"
    done
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

if [ "$REAL" = 1 ]; then
    real_programs
    exit 0
fi

# ---- import-heavy Python (--pyimport, issue 17) ----------------------------------------------
# An import runs module bodies through C (nested stacks, recorder.c): `python3 -c 'import
# pandas'` makes about a million allocations, nearly every one at a stack not seen before.
# RUNS interleaved runs of the plain import, tracemalloc with one frame (-X tracemalloc=1, the
# cheapest Python-level tracer) and `memtrace run -q`, and memtrace with its Python caches off
# (MEMTRACE_PYTHON_CACHE=0: every stack walked whole) and with --keep-free-lists (the free
# lists that memtrace otherwise keeps empty so that each object has its creator's stack, which
# adds a fifth of the events); medians of wall and CPU (user + sys).
# PYIMPORT_MODULE=numpy measures another import.
pyimport_bench() {
    local mod="${PYIMPORT_MODULE:-pandas}"
    "$PYTHON" -c "import $mod" 2>/dev/null ||
        { echo "bench.sh: --pyimport needs $mod for $PYTHON (apt-get install python3-$mod)" >&2; exit 1; }
    machine
    echo "runs: $RUNS interleaved; $PYTHON -c 'import $mod'"
    echo
    for _ in $(seq "$RUNS"); do
        rm -f "$WORK"/*.mtr*
        measure pyimp_plain "$PYTHON" -c "import $mod"
        measure pyimp_tracemalloc "$PYTHON" -X tracemalloc=1 -c "import $mod"
        measure pyimp_memtrace "$MEMTRACE" run -q -o "$WORK/imp.mtr" -- "$PYTHON" -c "import $mod"
        measure pyimp_keep "$MEMTRACE" run -q --keep-free-lists -o "$WORK/keep.mtr" -- \
            "$PYTHON" -c "import $mod"
        measure pyimp_nocache env MEMTRACE_PYTHON_CACHE=0 "$MEMTRACE" run -q -o "$WORK/nc.mtr" \
            -- "$PYTHON" -c "import $mod"
    done
    printf "%-38s %17s   %17s\n" "" "wall (ratio)" "cpu (ratio)"
    local n label
    for n in plain tracemalloc memtrace keep nocache; do
        case $n in
        plain) label="import $mod plain" ;;
        tracemalloc) label="import $mod -X tracemalloc=1" ;;
        memtrace) label="import $mod memtrace -q" ;;
        keep) label="import $mod memtrace -q, free lists" ;;
        nocache) label="import $mod memtrace, caches off" ;;
        esac
        awk -v l="$label" -v w="$(median 1 "$WORK/pyimp_$n.times")" \
            -v c="$(median 2 "$WORK/pyimp_$n.times")" \
            -v bw="$(median 1 "$WORK/pyimp_plain.times")" \
            -v bc="$(median 2 "$WORK/pyimp_plain.times")" 'BEGIN {
            printf "%-38s %7.2f s %6.2fx   %7.2f s %6.2fx\n", l, w, w / bw, c, c / bc }'
    done
    echo "log: $(du -k "$WORK/imp.mtr" | cut -f1) KiB"
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

if [ "$PYIMPORT" = 1 ]; then
    pyimport_bench
    exit 0
fi

# ---- thread scaling (--threads, issue 14) ----------------------------------------------------
# churn_mt with 1, 2 and 8 threads, each thread ITER/2 iterations, plain, `memtrace run -q` and
# heaptrack, interleaved. A tool's overhead with N threads is its wall (CPU) over plain's with
# N threads; the scaling figure is that over its overhead with 1 thread: 1.0 when threads cost
# nothing more per event, 2 when every event costs twice as much as with one thread.
threads_bench() {
    local per=$((ITER / 2)) t have_ht=0
    command -v heaptrack >/dev/null && have_ht=1
    cc -O2 -g -pthread "$ROOT/bench/churn_mt.c" -o "$WORK/churn_mt"
    machine
    echo "runs: $RUNS interleaved; churn_mt 1, 2 and 8 threads x $per iterations each"
    echo
    for _ in $(seq "$RUNS"); do
        for t in 1 2 8; do
            rm -f "$WORK"/*.mtr "$WORK"/heaptrack.*
            measure thr${t}_plain "$WORK/churn_mt" $t "$per"
            measure thr${t}_memtrace "$MEMTRACE" run -q -o "$WORK/thr$t.mtr" -- "$WORK/churn_mt" $t "$per"
            if [ $have_ht = 1 ]; then
                (cd "$WORK" && measure thr${t}_heaptrack heaptrack -o "$WORK/heaptrack.thr$t" \
                    "$WORK/churn_mt" $t "$per")
            fi
        done
    done
    printf "%-31s %11s %11s %11s   %-26s %s\n" "" "plain wall" "wall ratio" "CPU ratio" \
        "overhead N / overhead 1" "peak RSS vs plain"
    local tool f
    for tool in memtrace heaptrack; do
        [ -f "$WORK/thr1_$tool.times" ] || continue
        for t in 1 2 8; do
            f="$WORK/thr${t}_$tool.times"
            awk -v l="churn_mt $t thread(s) $tool" -v t="$t" \
                -v w="$(median 1 "$f")" -v c="$(median 2 "$f")" -v m="$(median 3 "$f")" \
                -v pw="$(median 1 "$WORK/thr${t}_plain.times")" \
                -v pc="$(median 2 "$WORK/thr${t}_plain.times")" \
                -v pm="$(median 3 "$WORK/thr${t}_plain.times")" \
                -v w1="$(median 1 "$WORK/thr1_$tool.times")" -v c1="$(median 2 "$WORK/thr1_$tool.times")" \
                -v p1="$(median 1 "$WORK/thr1_plain.times")" -v q1="$(median 2 "$WORK/thr1_plain.times")" 'BEGIN {
                printf "%-31s %9.2f s %10.2fx %10.2fx   %5.2f wall %5.2f CPU %6s %+8.1f MiB\n",
                    l, pw, w / pw, c / pc, (w / pw) / (w1 / p1), (c / pc) / (c1 / q1), "", (m - pm) / 1024 }'
        done
    done
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

if [ "$THREADS" = 1 ]; then
    threads_bench
    exit 0
fi

if [ "$SCALE" != 0 ]; then
    cc -O2 -I"$ROOT/format" "$ROOT/bench/gen_log.c" -o "$WORK/gen_log" -lz
    machine
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$WORK/gen_log" "$SCALE" "$WORK/big.mtr"
    echo "generated $SCALE events in $(cut -d' ' -f1 "$WORK/t") s: $(du -m "$WORK/big.mtr" | cut -f1) MiB"
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/t" "$MEMTRACE" report "$WORK/big.mtr" >"$WORK/report.txt"
    read -r wall user sys rss <"$WORK/t"
    awk -v n="$SCALE" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss" 'BEGIN {
        printf "memtrace report: %.1f s wall, %.1f s CPU, %.1f M events/s, peak RSS %.1f MiB\n",
            w, u + s, n / w / 1e6, m / 1024 }'
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    exit 0
fi

if [ "$IDLE_LOG" != 0 ]; then # a thread hand-over per chunk costs here, not on big chunks
    cc -O2 -I"$ROOT/format" "$ROOT/bench/gen_log.c" -o "$WORK/gen_log" -lz
    "$WORK/gen_log" "$IDLE_LOG" "$WORK/idle.mtr" 2000 100 20 2>/dev/null
    machine
    echo "runs: $RUNS interleaved; $IDLE_LOG events in chunks of 20: $(du -m "$WORK/idle.mtr" | cut -f1) MiB"
    for _ in $(seq "$RUNS"); do
        measure idle_t1 env MEMTRACE_ANALYSIS_THREADS=1 "$MEMTRACE" report "$WORK/idle.mtr"
        measure idle_t2 "$MEMTRACE" report "$WORK/idle.mtr"
    done
    for t in 1 2; do
        echo "memtrace report, $t analysis thread(s): $(median 1 "$WORK/idle_t$t.times") s wall," \
            "$(median 2 "$WORK/idle_t$t.times") s CPU"
    done
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    exit 0
fi

cc -O2 -g "$BENCH_SRC/churn.c" -o "$WORK/churn"
cc -O2 -g -pthread "$ROOT/bench/churn_mt.c" -o "$WORK/churn_mt"
cp "$BENCH_SRC/pyalloc.py" "$WORK/"
HAVE_HEAPTRACK=0
command -v heaptrack >/dev/null && HAVE_HEAPTRACK=1
command -v valgrind >/dev/null || MASSIF=0
MT_ITER=$((ITER / 2)) # per thread: churn_mt 1 and 2 threads make as many events per thread


machine
echo "runs: $RUNS interleaved; churn.c $ITER iterations; churn_mt 1 and 2 threads x $MT_ITER;" \
    "pyalloc.py $PY_N"
echo

for i in $(seq "$RUNS"); do
    rm -f "$WORK"/*.mtr "$WORK"/heaptrack.* "$WORK"/massif.*
    measure churn_plain "$WORK/churn" "$ITER"
    measure churn_memtrace "$MEMTRACE" run -q -o "$WORK/churn.mtr" -- "$WORK/churn" "$ITER"
    # issue 18 item 4: the aggregated log (per-site figures at exit, no events)
    measure churn_aggregate "$MEMTRACE" run -q --aggregate -o "$WORK/churna.mtr" -- "$WORK/churn" "$ITER"
    # the default run: the summary read while the program runs (issue 14's first target row)
    measure churn_summary "$MEMTRACE" run -o "$WORK/churns.mtr" -- "$WORK/churn" "$ITER"
    if [ $HAVE_HEAPTRACK = 1 ]; then
        (cd "$WORK" && measure churn_heaptrack heaptrack -o "$WORK/heaptrack.churn" "$WORK/churn" "$ITER")
    fi
    if [ $MASSIF = 1 ]; then
        measure churn_massif valgrind --tool=massif --massif-out-file="$WORK/massif.out" \
            "$WORK/churn" "$ITER"
    fi
    for t in 1 2; do
        measure mt${t}_plain "$WORK/churn_mt" $t "$MT_ITER"
        measure mt${t}_memtrace "$MEMTRACE" run -q -o "$WORK/mt$t.mtr" -- "$WORK/churn_mt" $t "$MT_ITER"
        if [ $HAVE_HEAPTRACK = 1 ]; then
            (cd "$WORK" && measure mt${t}_heaptrack heaptrack -o "$WORK/heaptrack.mt$t" \
                "$WORK/churn_mt" $t "$MT_ITER")
        fi
    done
    measure py_plain "$PYTHON" "$WORK/pyalloc.py" "$PY_N"
    measure py_memtrace "$MEMTRACE" run -q -o "$WORK/py.mtr" -- "$PYTHON" "$WORK/pyalloc.py" "$PY_N"
    # The default run also prints the summary, read while the script runs.
    measure py_summary "$MEMTRACE" run -o "$WORK/pys.mtr" -- "$PYTHON" "$WORK/pyalloc.py" "$PY_N"
    if [ $HAVE_HEAPTRACK = 1 ]; then
        (cd "$WORK" && measure py_heaptrack heaptrack -o "$WORK/heaptrack.py" "$PYTHON" \
            "$WORK/pyalloc.py" "$PY_N")
    fi
    # Analysis of this run's churn.c logs.
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
        printf "%-28s %7.2f s %6.2fx   %7.2f s %6.2fx   %8.1f MiB %+8.1f MiB\n",
            l, w, w / bw, c, c / bc, m / 1024, (m - bm) / 1024 }'
}

# per_thread TOOL: the overhead ratio with 2 threads over the one with 1 (wall and CPU)
per_thread() {
    local d="$WORK"
    [ -f "$d/mt2_$1.times" ] || return 0
    awk -v l="$1" -v w1="$(median 1 "$d/mt1_$1.times")" -v p1="$(median 1 "$d/mt1_plain.times")" \
        -v w2="$(median 1 "$d/mt2_$1.times")" -v p2="$(median 1 "$d/mt2_plain.times")" \
        -v c1="$(median 2 "$d/mt1_$1.times")" -v q1="$(median 2 "$d/mt1_plain.times")" \
        -v c2="$(median 2 "$d/mt2_$1.times")" -v q2="$(median 2 "$d/mt2_plain.times")" 'BEGIN {
        printf "%-10s 1 thread %5.2fx wall %5.2fx CPU; 2 threads %5.2fx wall %5.2fx CPU;" \
               " 2 vs 1: %+4.0f%% wall %+4.0f%% CPU\n", l, w1 / p1, c1 / q1, w2 / p2, c2 / q2,
               100 * ((w2 / p2) / (w1 / p1) - 1), 100 * ((c2 / q2) / (c1 / q1) - 1) }'
}

printf "%-28s %17s   %17s   %23s\n" "" "wall (ratio)" "cpu (ratio)" "peak RSS (vs plain)"
row "churn.c plain" churn_plain churn_plain
row "churn.c memtrace -q" churn_memtrace churn_plain
row "churn.c -q --aggregate" churn_aggregate churn_plain
row "  --aggregate vs -q" churn_aggregate churn_memtrace
row "churn.c memtrace" churn_summary churn_plain
row "churn.c heaptrack" churn_heaptrack churn_plain
row "churn.c massif" churn_massif churn_plain
row "churn_mt 1 thread plain" mt1_plain mt1_plain
row "churn_mt 1 thread memtrace" mt1_memtrace mt1_plain
row "churn_mt 1 thread heaptrack" mt1_heaptrack mt1_plain
row "churn_mt 2 threads plain" mt2_plain mt2_plain
row "churn_mt 2 threads memtrace" mt2_memtrace mt2_plain
row "churn_mt 2 threads heaptrack" mt2_heaptrack mt2_plain
row "pyalloc.py plain" py_plain py_plain
row "pyalloc.py memtrace -q" py_memtrace py_plain
row "pyalloc.py memtrace" py_summary py_plain
row "pyalloc.py heaptrack" py_heaptrack py_plain
row "memtrace report (churn)" report_memtrace report_memtrace
row "heaptrack_print (churn)" report_heaptrack report_memtrace
echo
echo "per-thread overhead (churn_mt, ratio to plain with the same threads):"
per_thread memtrace
per_thread heaptrack
echo
echo "log size, churn.c: memtrace $(du -k "$WORK/churn.mtr" | cut -f1) KiB," \
    "--aggregate $(stat -c %s "$WORK/churna.mtr") bytes" \
    "$([ $HAVE_HEAPTRACK = 1 ] && echo ", heaptrack $(du -kc "$WORK"/heaptrack.churn* | tail -1 | cut -f1) KiB")"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
