#!/bin/sh
# Regenerates the example reports in docs/examples from a build directory:
#   docs/examples/make-examples.sh [BUILD_DIR]   (default: build)
# sqlite3 runs a 50,000-row workload in memory; python runs samples/pyalloc.py 50000.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
mt="$build/cli/memtrace"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$mt" run -q -o "$tmp/sqlite3.mtr" sqlite3 :memory: <"$here/sqlite3-workload.sql" >/dev/null
for cmd in report peak fragmentation; do
    "$mt" $cmd --no-color --top 5 --frames 6 "$tmp/sqlite3.mtr" |
        sed "s|$tmp/||" >"$here/sqlite3-$cmd.txt"
done
"$mt" timeline --no-color "$tmp/sqlite3.mtr" | sed "s|$tmp/||" >"$here/sqlite3-timeline.txt"
if [ -x /usr/bin/python3 ]; then
    # samples/pyalloc.py is shared/bench/pyalloc.py; Python 3.11 gives the script's frames its
    # absolute path, shown here relative to samples/ so that the examples read "pyalloc.py:8"
    (cd "$root/samples" && "$mt" run -q -o "$tmp/pyalloc.mtr" /usr/bin/python3 pyalloc.py 50000 >/dev/null)
    for cmd in report peak fragmentation; do
        "$mt" $cmd --no-color --top 5 --frames 6 "$tmp/pyalloc.mtr" |
            sed -e "s|$tmp/||" -e "s|$root/samples/||" >"$here/pyalloc-$cmd.txt"
    done
fi
echo "examples written to $here"
