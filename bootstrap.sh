#!/bin/bash
# SPDX-License-Identifier: MIT
# One command from a fresh Debian 12 machine to a working memtrace: installs the missing build
# packages (apt-get, only when something is missing), configures build/, builds, then runs the
# demo or the test suite. Idempotent; never removes anything but what apt must replace.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: ./bootstrap.sh [--werror] demo|test|build

  demo     install what is missing, build, record samples/demo and print its report
  test     install what is missing, build, run the test suite; the last line is
           "N passed, N failed" and the exit status is non-zero on any failure
  build    install what is missing and build
  --werror build with warnings as errors (the default when CI=true)
EOF
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD="${MEMTRACE_BUILDDIR:-$ROOT/build}" # override to keep several build trees
LOG="${TMPDIR:-/tmp}/memtrace-bootstrap.$(id -u).log"
WERROR=false
[[ "${CI:-}" == "true" ]] && WERROR=true
ACTION=

while [[ $# -gt 0 ]]; do
    case "$1" in
    --werror) WERROR=true ;;
    -h | --help) usage; exit 0 ;;
    demo | test | build) ACTION=$1 ;;
    *) echo "bootstrap: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
if [[ -z "$ACTION" ]]; then
    usage >&2
    exit 2
fi

say() { echo "bootstrap: $*" >&2; }

# Runs a noisy step with its output in $LOG; shows the end of it only when the step fails.
quietly() {
    local what=$1
    shift
    echo "== $what: $*" >>"$LOG"
    if ! "$@" >>"$LOG" 2>&1; then
        say "$what failed; the last lines of $LOG:"
        tail -n 40 "$LOG" >&2
        exit 1
    fi
}

# libunwind-dev (the nongnu libunwind that memtrace uses) replaces LLVM's libunwind-14-dev,
# which conflicts with it; apt-get removes that one when it installs ours.
# python3.11-dev: CPython 3.11's headers, for Python frames (the recorder reads the
# interpreter's frame structures); python3-numpy: the numpy case of the Python tests.
PACKAGES=(build-essential g++ meson ninja-build pkg-config libunwind-dev libdw-dev libelf-dev
          zlib1g-dev libdeflate-dev libzstd-dev check python3 python3.11-dev python3-numpy sqlite3
          git valgrind libjemalloc-dev libgoogle-perftools-dev)
# Only `test` needs a browser: the flame graph and HTML report tests open the files in headless
# Chromium (with its libraries about 120 MB to download, 410 MB installed on a Debian 12 with
# the build packages), which `demo` and `build` never use. clang: the leak corpus
# (tests/leakcorpus) builds each program with clang as well as gcc. python3-pytest: the CI
# recipe of the README run on a pytest suite (py-pytest-recipe; Debian's, PyPI is not needed).
# python3-pandas: the pandas script of the Python corpus (tests/pycorpus; numpy is in PACKAGES).
TEST_PACKAGES=(chromium clang python3-pytest python3-pandas)

install_missing() {
    local missing=() p
    for p in "${PACKAGES[@]}" "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed'; then
            missing+=("$p")
        fi
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if ! command -v sudo >/dev/null; then
            say "missing packages: ${missing[*]}; run as root or install sudo"
            exit 1
        fi
        sudo=(sudo)
    fi
    say "installing ${missing[*]} (log: $LOG)"
    export DEBIAN_FRONTEND=noninteractive
    quietly "apt-get update" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    quietly "apt-get install" "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
}

configure_and_build() {
    if [[ ! -f "$BUILD/build.ninja" ]]; then
        say "configuring $BUILD (werror=$WERROR)"
        quietly "meson setup" meson setup "$BUILD" "$ROOT" -Dwerror="$WERROR"
    elif [[ "$(meson introspect --buildoptions "$BUILD" 2>/dev/null |
        python3 -c 'import json,sys; print(str([o["value"] for o in json.load(sys.stdin) if o["name"]=="werror"][0]).lower())')" != "$WERROR" ]]; then
        quietly "meson configure" meson configure "$BUILD" -Dwerror="$WERROR"
    fi
    say "building"
    quietly "meson compile" meson compile -C "$BUILD"
}

run_demo() {
    local demo="$BUILD/samples/demo" tmp
    if [[ ! -x "$demo" ]]; then
        say "$demo was not built"
        exit 1
    fi
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/memtrace-demo.XXXXXX")
    DEMO_TMP=$tmp # global: the EXIT trap runs after this function's locals are gone
    trap 'rm -rf "${DEMO_TMP:-}"' EXIT
    say "recording samples/demo: memtrace run -o $tmp/demo.mtr -- $demo"
    "$BUILD/cli/memtrace" run -o "$tmp/demo.mtr" -- "$demo"
    echo
    "$BUILD/cli/memtrace" report "$tmp/demo.mtr"
}

run_tests() {
    local rc=0
    meson test -C "$BUILD" --print-errorlogs || rc=$?
    # Count from meson's own JSON log rather than its console output, whose format changes
    # between meson versions.
    python3 - "$BUILD/meson-logs/testlog.json" "$rc" <<'EOF'
import json, sys
passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line).get("result", "")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
except OSError as e:
    print(f"bootstrap: cannot read the test log: {e}", file=sys.stderr)
    failed += 1
if failed == 0 and sys.argv[2] != "0":
    failed = 1  # meson failed without recording a failing test (e.g. a build error)
if skipped:
    print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
}

: >"$LOG"
if [[ "$ACTION" == test ]]; then
    install_missing "${TEST_PACKAGES[@]}"
else
    install_missing
fi
configure_and_build
case "$ACTION" in
demo) run_demo ;;
test) run_tests ;;
build) ;;
esac
