#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Two memtrace builds on one workload, side by side: RUNS interleaved runs of
# `memtrace run -q` with each, medians of wall and CPU (user + sys of every thread). The
# machines are noisy; interleaving and medians are what make a before/after comparison mean
# something (README, Performance).
#
#   bench/ab.sh BASE_MEMTRACE NEW_MEMTRACE RUNS -- CMD [ARGS...]
#   e.g. git worktree add /tmp/base HEAD~3 && (cd /tmp/base && ./bootstrap.sh build)
#        bench/ab.sh /tmp/base/build/cli/memtrace build/cli/memtrace 7 -- python3 -c 'import json'
set -euo pipefail

usage() {
    echo "usage: bench/ab.sh BASE_MEMTRACE NEW_MEMTRACE RUNS -- CMD [ARGS...]" >&2
    exit 2
}
[ $# -ge 5 ] && [ "$4" = "--" ] || usage
base=$1 new=$2 runs=$3
shift 4
for b in "$base" "$new"; do
    [ -x "$b" ] || { echo "bench/ab.sh: $b is not an executable memtrace" >&2; exit 2; }
done
case $runs in '' | *[!0-9]*) usage ;; esac
[ "$runs" -ge 1 ] || usage

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "$runs"); do
    for side in base new; do
        bin=$base
        [ $side = new ] && bin=$new
        rm -f "$work"/*.mtr*
        if ! /usr/bin/time -f "%e %U %S" -o "$work/t" "$bin" run -q -o "$work/ab.mtr" -- "$@" \
            >/dev/null 2>"$work/err"; then
            echo "bench/ab.sh: the $side run failed:" >&2
            cat "$work/err" >&2
            exit 1
        fi
        awk '{print $1, $2 + $3}' "$work/t" >>"$work/$side"
    done
done
median() { # column file
    sort -n -k"$1" "$2" | awk -v c="$1" '{v[NR] = $c} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
bw=$(median 1 "$work/base") bc=$(median 2 "$work/base")
nw=$(median 1 "$work/new") nc=$(median 2 "$work/new")
echo "runs: $runs interleaved; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v bw="$bw" -v bc="$bc" -v nw="$nw" -v nc="$nc" 'BEGIN {
    printf "base  wall %7.3f s  cpu %7.3f s\n", bw, bc
    printf "new   wall %7.3f s  cpu %7.3f s\n", nw, nc
    printf "new/base  wall %.3f  cpu %.3f\n", nw / bw, nc / bc }'
