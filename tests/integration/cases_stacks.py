# SPDX-License-Identifier: MIT
# The recorded stacks: exact counts and the right source line on shared/bench/churn.c, and
# the same stacks from the cached-CFI unwinder and from libunwind.
import json
import os

import mt_harness as it
from mt_harness import Skip, check, show, memtrace, record, report_json, compile_c

case = it.suite("integration")


@case(180)
def case_churn():
    src = os.path.normpath(os.path.join(it.ARGS.source_root, "..", "shared", "bench", "churn.c"))
    if not os.path.isfile(src):
        raise Skip(f"{src} not found (shared/ is a sibling of the checkout in CI)")
    with open(src) as f:
        lines = f.read().splitlines()
    want_line = next((i + 1 for i, l in enumerate(lines) if "live[slot] = malloc(" in l), None)
    check(want_line is not None, f"{src} has no 'live[slot] = malloc(' line")
    exe = os.path.join(it.TMP, "churn")
    c = compile_c(src, exe, "-O2", "-g")
    check(c.returncode == 0, f"cannot build churn.c\n{show(c)}")
    n = 20000
    log = os.path.join(it.TMP, "churn.mtr")
    p = record(log, exe, str(n))
    check(p.stdout == f"done {n}\n", f"churn output changed under memtrace\n{show(p)}")
    rep = report_json(log)
    # churn makes 2 mallocs per iteration, and its final printf makes one more: glibc allocates
    # stdout's buffer with malloc on first use. Both are checked exactly, the loop's through the
    # sites whose stack goes through leaf().
    check(rep.get("allocations") == 2 * n + 1,
          f"churn {n} makes exactly {2 * n} + 1 (stdout's buffer) malloc calls, report says "
          f"{rep.get('allocations')}")
    p = memtrace("report", "--format", "json", "--top", "1000000", log)
    check(p.returncode == 0, f"report --top 1000000\n{show(p)}")
    every = json.loads(p.stdout).get("top_sites") or []
    in_leaf = sum(s.get("allocations", 0) for s in every
                  if any(f.get("function") == "leaf" for f in s.get("stack") or []))
    check(in_leaf == 2 * n, f"sites through leaf() should hold exactly {2 * n} allocations, "
          f"they hold {in_leaf}")
    sites = rep.get("top_sites") or []
    check(sites, "report has no top_sites")
    stack = sites[0].get("stack") or []
    check(stack, f"top site has no stack: {sites[0]}")
    top = stack[0]
    check(top.get("function") == "leaf", f"top site's innermost frame should be leaf: {top}")
    check(os.path.basename(top.get("file") or "") == "churn.c" and top.get("line") == want_line,
          f"top site should be churn.c:{want_line} (live[slot] = malloc), got "
          f"{top.get('file')}:{top.get('line')}")
    # memtrace's own frames never show, neither the hooks on top nor its main() wrapper below.
    own = [f for s in every for f in s.get("stack") or []
           if "libmemtrace_preload" in os.path.basename(f.get("module") or "")]
    check(not own, f"memtrace's own frames in report stacks: {own[:3]}")


@case(180)
def case_fast_unwind_same_stacks():
    """The cached-CFI unwinder (default) and libunwind (MEMTRACE_FAST_UNWIND=0) record the same
    stacks: C (churn.c -O2 without frame pointers), C++ (cpp_containers) and CPython."""
    progs = []
    src = os.path.normpath(os.path.join(it.ARGS.source_root, "..", "shared", "bench", "churn.c"))
    if os.path.isfile(src):
        exe = os.path.join(it.TMP, "churn_nofp")
        c = compile_c(src, exe, "-O2", "-g", "-fomit-frame-pointer")
        check(c.returncode == 0, f"cannot build churn.c\n{show(c)}")
        progs.append(("churn", [exe, "3000"]))
    cpp = os.path.join(it.ARGS.build_root, "samples", "cpp_containers")
    if os.path.isfile(cpp):
        progs.append(("cpp", [cpp]))
    # No import of an extension module: whether a dlopen() is seen before the first allocation
    # from the new module is a matter of timing, and would change the symbolized frames.
    progs.append(("python", ["/usr/bin/python3", "-c", "x = [str(i) * 3 for i in range(999)]"]))
    for name, argv in progs:
        reps = []
        for fast in ("1", "0"):
            env = dict(os.environ, MEMTRACE_FAST_UNWIND=fast, PYTHONHASHSEED="0")
            log = os.path.join(it.TMP, f"fu-{name}-{fast}.mtr")
            record(log, *argv, env=env)
            p = memtrace("report", "--format", "json", "--top", "1000000", "--frames", "64", log)
            check(p.returncode == 0, f"report {log}\n{show(p)}")
            rep = json.loads(p.stdout)
            # Not the bytes: python3 copies the environment, where memtrace's variables hold
            # a pid, whose digits (and so a string's length) may differ between two runs.
            sites = sorted((s["allocations"],
                            [(f.get("module") or "", f.get("address") or "")
                             for f in s.get("stack") or []])
                           for s in rep.get("top_sites") or [])
            reps.append((rep.get("allocations"), sites))
        check(reps[0][0] == reps[1][0], f"{name}: {reps[0][0]} allocations with the fast "
              f"unwinder, {reps[1][0]} with libunwind")
        fast_only = [x for x in reps[0][1] if x not in reps[1][1]]
        slow_only = [x for x in reps[1][1] if x not in reps[0][1]]
        check(not fast_only and not slow_only, f"{name}: stacks differ between the fast "
              f"unwinder and libunwind: {len(fast_only)} sites only with the fast one, e.g. "
              f"{fast_only[:1]}, {len(slow_only)} only with libunwind, e.g. {slow_only[:1]}")
