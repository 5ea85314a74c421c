#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The golden test: memtrace's reports on two crafted logs, byte for byte.

golden_logs writes old.mtr and new.mtr (a made-up run of golden_fixture.so: threads, Python
frames, every kind of leak, a peak, a realloc, an mmap, fragmentation holes, allocator
samples); this script runs the real `memtrace` on them (report, leaks, peak, fragmentation and
diff, each in JSON and in text) and compares what it prints with the files in tests/golden/.
Only two things are rewritten before comparing, the ones that vary from build to build: the
fixture's build folder (@BUILD@) and the temporary folder of the logs (@LOGS@; the commands
run inside it and name the logs relatively, so it rarely shows). The exit status and stderr
of every command are compared too (status.txt).

A difference means the analyzer's output changed. Regenerate the goldens only when that change
is the intended one: a new or renamed field, a fixed figure, a deliberate text change; say so
in the commit that changes them, so a reviewer reads the golden diff as the change's effect.
Never regenerate to make a refactoring pass: a refactoring (issue #15's re-layering) must leave
these files as they are. To regenerate:

    MEMTRACE_UPDATE_GOLDEN=1 meson test -C build golden

and review `git diff tests/golden/` before committing. The outputs of a failed run are kept in
BUILD/tests/golden/actual/ for a closer look.
"""
import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile

# (golden file, memtrace arguments)
CASES = [
    ("report.json", ["report", "--format", "json", "old.mtr"]),
    ("report.txt", ["report", "old.mtr"]),
    ("report-new.json", ["report", "--format", "json", "new.mtr"]),
    ("leaks.json", ["leaks", "--format", "json", "old.mtr"]),
    ("leaks.txt", ["leaks", "old.mtr"]),
    ("leaks-native.json",
     ["leaks", "--after-finalization", "--kinds", "all", "--format", "json", "old.mtr"]),
    ("leaks-native.txt", ["leaks", "--after-finalization", "--kinds", "all", "old.mtr"]),
    ("peak.json", ["peak", "--format", "json", "old.mtr"]),
    ("peak.txt", ["peak", "old.mtr"]),
    ("fragmentation.json", ["fragmentation", "--format", "json", "old.mtr"]),
    ("fragmentation.txt", ["fragmentation", "old.mtr"]),
    ("diff.json", ["diff", "--format", "json", "old.mtr", "new.mtr"]),
    ("diff.txt", ["diff", "old.mtr", "new.mtr"]),
]
STATUS = "status.txt"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--memtrace", required=True)
    ap.add_argument("--logs", required=True, help="the golden_logs program")
    ap.add_argument("--fixture", required=True, help="golden_fixture.so")
    ap.add_argument("--golden-dir", required=True)
    args = ap.parse_args()
    update = os.environ.get("MEMTRACE_UPDATE_GOLDEN") == "1"
    fixture = os.path.realpath(args.fixture)
    actual_dir = os.path.join(os.path.dirname(fixture), "actual")
    # A fixed environment: no colour, no terminal width, no debuginfod, C locale, UTC.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1", "LC_ALL": "C",
           "TZ": "UTC"}

    with tempfile.TemporaryDirectory(prefix="mt_golden.") as logs:
        logs = os.path.realpath(logs)
        env["HOME"] = env["XDG_CACHE_HOME"] = logs  # nothing of the user's (caches, config)
        subprocess.run([args.logs, fixture, logs], check=True)

        def normalize(text):
            return text.replace(os.path.dirname(fixture), "@BUILD@").replace(logs, "@LOGS@")

        outputs, status = {}, []
        for name, argv in CASES:
            p = subprocess.run([os.path.realpath(args.memtrace)] + argv, cwd=logs, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if p.returncode < 0:
                sys.exit(f"golden: memtrace {' '.join(argv)} died of signal {-p.returncode}")
            outputs[name] = normalize(p.stdout)
            status.append(f"{name}: memtrace {' '.join(argv)}: exit {p.returncode}\n")
            status += [f"  stderr: {line}\n" for line in normalize(p.stderr).splitlines()]
        outputs[STATUS] = "".join(status)

    if update:
        for name, text in outputs.items():
            with open(os.path.join(args.golden_dir, name), "w") as f:
                f.write(text)
        print(f"golden: wrote {len(outputs)} files to {args.golden_dir}; review git diff")
        return 0

    shutil.rmtree(actual_dir, ignore_errors=True)
    failed = []
    for name, text in outputs.items():
        path = os.path.join(args.golden_dir, name)
        try:
            with open(path) as f:
                want = f.read()
        except FileNotFoundError:
            want = ""
        if text == want:
            continue
        failed.append(name)
        os.makedirs(actual_dir, exist_ok=True)
        with open(os.path.join(actual_dir, name), "w") as f:
            f.write(text)
        diff = list(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                         f"tests/golden/{name}", f"actual/{name}"))
        sys.stdout.writelines(diff[:80])
        if len(diff) > 80:
            print(f"... {len(diff) - 80} more diff lines")
    if failed:
        print(f"golden: {len(failed)} of {len(outputs)} outputs differ: {', '.join(failed)}")
        print(f"golden: actual outputs in {actual_dir}")
        print("golden: if the change is intended, MEMTRACE_UPDATE_GOLDEN=1 meson test -C build golden")
        return 1
    print(f"golden: {len(outputs)} outputs identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
