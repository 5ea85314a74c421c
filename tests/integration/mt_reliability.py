# SPDX-License-Identifier: MIT
# Integration tests of issue 7 (reliability): exact accounting under load, programs with their
# own allocator, crashes on a broken stack, the program's own signal handlers, threads and
# allocations at odd moments. Same conventions and helpers as mt_integration.py (exit 0 pass,
# 77 skip); one meson test per case.
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import mt_integration as it
from mt_integration import Fail, Skip, check, memtrace, report_json, show, SAMPLE_LINE


def sample(name):
    path = os.path.join(it.ARGS.build_root, "samples", name)
    if not os.access(path, os.X_OK):
        raise Skip(f"{path} was not built")
    return path


def truth_of(p, name):
    m = SAMPLE_LINE.findall(p.stdout)
    check(m, f"{name} printed no memtrace-sample line\n{show(p)}")
    return tuple(int(x) for x in m[-1])


def own_totals(rep, prog):
    """The sample's own calls (sites whose innermost frame is in its binary) and its frees:
    the report's frees minus those of the C library's own blocks (pthread_create's TLS
    callocs), which are its allocations minus its blocks still live at exit."""
    alloc, _, leaked, blocks = it.own_calls(rep, prog)
    lib_alloc = rep["allocations"] - alloc
    lib_live = rep["leaked_blocks"] - blocks
    frees = rep["frees"] - (lib_alloc - lib_live)
    return (alloc, frees, leaked, blocks)


# ---- exact accounting under load ----

def case_stress():
    """16 threads of mixed malloc/calloc/realloc/free with cross-thread frees: the report's
    counts equal the program's own, exactly. MT_STRESS_OPS sets the calls per thread (CI
    default 100000; the full run is 1000000, see README)."""
    prog = sample("stress")
    ops = os.environ.get("MT_STRESS_OPS", "1000000")
    log = os.path.join(it.TMP, "stress.mtr")
    p = memtrace("run", "-q", "-o", log, "--", prog, ops, timeout=1800)
    check(p.returncode == 0, f"memtrace run stress {ops}\n{show(p)}")
    want = truth_of(p, "stress")
    rep = report_json(log, "--top", "1000000")
    check(not rep["truncated"], f"the log is truncated: {rep['truncation']}")
    check(rep["unknown_frees"] == 0, f"{rep['unknown_frees']} frees of unknown blocks")
    got = own_totals(rep, prog)
    check(got == want, f"report: allocations={got[0]} frees={got[1]} leaked_bytes={got[2]} "
          f"leaked_blocks={got[3]}; the program counted allocations={want[0]} frees={want[1]} "
          f"leaked_bytes={want[2]} leaked_blocks={want[3]}")
    print(f"  stress {ops} ops/thread: allocations={got[0]} frees={got[1]} "
          f"leaked_bytes={got[2]} leaked_blocks={got[3]}: exact")


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items()
         if name.startswith("case_") and callable(fn)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--build-root", required=True)
    ap.add_argument("--cc", default=None)
    ap.add_argument("case", choices=sorted(CASES))
    args = ap.parse_args()
    args.memtrace = os.path.abspath(args.memtrace)
    args.sample = None
    it.ARGS = args
    it.TMP = tempfile.mkdtemp(prefix=f"memtrace-rel-{args.case}.")
    try:
        CASES[args.case]()
    except Skip as e:
        print(f"SKIP {args.case}: {e}")
        return it.SKIP
    except Fail as e:
        print(f"FAIL {args.case}: {e}", file=sys.stderr)
        print(f"(files kept in {it.TMP})", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"FAIL {args.case}: timed out: {e}", file=sys.stderr)
        return 1
    shutil.rmtree(it.TMP, ignore_errors=True)
    print(f"PASS {args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
