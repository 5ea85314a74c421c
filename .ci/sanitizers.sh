#!/bin/bash
# SPDX-License-Identifier: MIT
# The analyzer's unit tests under the sanitizers: ASan+UBSan for all of them, TSan for those
# that run the reader's decoder thread (log_reader, replay, report_*, the timeline, fuzz corpus).
# gcc's runtimes come with build-essential (no extra package). A few minutes on 2 cores.
#
# Only the unit tests: the preload library runs inside other programs, before and under their
# allocator. ASan replaces malloc itself (our hooks would wrap ASan's interceptors, and its
# runtime must be first in the link order, which LD_PRELOAD into an uninstrumented program
# cannot give), and TSan does not support being loaded into a process it did not start; so the
# recorder is tested without sanitizers against real programs (tests/integration) instead.
#
# usage: .ci/sanitizers.sh [asan|tsan]...   (default: both); build dirs under $SAN_BUILD_ROOT
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
OUT="${SAN_BUILD_ROOT:-$ROOT}"
kinds=("$@")
[[ ${#kinds[@]} -eq 0 ]] && kinds=(asan tsan)

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
export CK_DEFAULT_TIMEOUT=120

# Builds only the unit tests (not the recorder, CLI or samples) and runs them: those named, or
# all but those named with a leading '-'.
run_kind() {
    local kind=$1 sanitize=$2 extra=$3
    shift 3
    local dir="$OUT/build-$kind"
    if [[ ! -f "$dir/build.ninja" ]]; then
        meson setup "$dir" "$ROOT" -Dwerror=true -Db_sanitize="$sanitize" -Db_lundef=false \
            -Dbuildtype=debugoptimized -Dc_args="$extra" -Dc_link_args="$extra" >/dev/null
    fi
    local targets=()
    local sel
    # Each test's executable, and the targets it depends on (fixtures such as test_symtab's
    # libraries), by their meson target names.
    sel=$(meson introspect --tests --targets "$dir" | /usr/bin/python3 -c '
import json, os, sys
root, args = sys.argv[1], sys.argv[2:]
info = json.load(sys.stdin)
by_id = {t["id"]: t for t in info["targets"]}
def spec(t):
    return os.path.join(os.path.relpath(os.path.dirname(t["filename"][0]), root), t["name"])
want = {a for a in args if not a.startswith("-")}
skip = {a[1:] for a in args if a.startswith("-")}
for t in info["tests"]:
    if any(s.split(":")[-1] == "unit" for s in t["suite"]) and (not want or t["name"] in want) and t["name"] not in skip:
        deps = [spec(by_id[d]) for d in t.get("depends", []) if d in by_id and by_id[d]["type"] != "executable"]
        print(t["name"], os.path.relpath(t["cmd"][0], root), *deps)' "$dir" "$@")
    local names=() targets=() name target deps
    while read -r name target deps; do
        names+=("$name")
        targets+=("$target")
        # shellcheck disable=SC2206 # target names have no spaces
        targets+=($deps)
    done <<<"$sel"
    echo "sanitizers: $kind: ${names[*]}" >&2
    meson compile -C "$dir" "${targets[@]}" >/dev/null
    meson test -C "$dir" --suite unit --no-rebuild --print-errorlogs "${names[@]}"
}

for k in "${kinds[@]}"; do
    case "$k" in
    # leak_scan runs the recorder's conservative scan of the whole address space in-process:
    # under ASan that includes terabytes of shadow memory (and LSan does this job there).
    # gcc's "undefined" leaves out float-to-integer overflow, which clang's includes.
    asan) run_kind asan address,undefined -fsanitize=float-cast-overflow -leak_scan ;;
    # The threaded parts: the reader's decoder thread, used by every analysis of a file.
    tsan) run_kind tsan thread "" log_reader replay report_peak report_summary render_svg_timeline \
        report_fragmentation fuzz_regressions ;;
    *) echo "sanitizers: unknown kind '$k' (asan, tsan)" >&2; exit 2 ;;
    esac
done
