# SPDX-License-Identifier: MIT
# Every sample program under memtrace: the report's counts against the ground truth the
# sample prints (`memtrace-sample: allocations=N frees=N leaked_bytes=N leaked_blocks=N`).
# meson.build makes one test of each sample (`sample-NAME`), or one `samples` test.
import glob
import os
import stat

import mt_harness as it
from mt_harness import (Fail, Skip, check, show, memtrace, report_json, SAMPLE_LINE,
                        own_calls)

case = it.suite("integration")


def sample_programs():
    d = os.path.join(it.ARGS.build_root, "samples")
    progs = []
    for path in sorted(glob.glob(os.path.join(d, "*"))):
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111 and not path.endswith((".so", ".p")):
            progs.append(path)
    return progs


@case(300, listed=False)
def case_samples():
    progs = [it.ARGS.sample] if it.ARGS.sample else sample_programs()
    if not progs:
        raise Skip(f"no sample programs built in {it.ARGS.build_root}/samples")
    checked = 0
    failures = []
    for prog in progs:
        name = os.path.basename(prog)
        log = os.path.join(it.TMP, f"{name}.mtr")
        p = memtrace("run", "-q", "-o", log, "--", prog)
        truth = SAMPLE_LINE.findall(p.stdout)
        if not truth:
            print(f"  {name}: prints no memtrace-sample line, only checked that it runs")
            if p.returncode != 0:
                failures.append(f"{name}: exit {p.returncode}\n{show(p)}")
            continue
        if p.returncode != 0:
            failures.append(f"{name}: memtrace run exited {p.returncode}\n{show(p)}")
            continue
        # A sample that forks prints one line per process; the root process prints first
        # only if it says so, so compare against the line whose counts match the root log.
        try:
            rep = report_json(log, "--top", "1000000")
        except Fail as e:
            failures.append(f"{name}: {e}")
            continue
        got = tuple(rep.get(k) for k in ("allocations", "frees", "leaked_bytes",
                                          "leaked_blocks"))
        own = own_calls(rep, prog)
        want = [tuple(int(x) for x in t) for t in truth]
        if own in want and got not in want:
            print(f"  {name}: the C library allocated for it too (e.g. per-thread TLS); "
                  f"comparing the sample's own calls")
            got = own
        made = own_calls(rep, prog, anywhere=True)
        if made in want and got not in want:
            print(f"  {name}: the runtimes allocated for themselves too (libstdc++'s pool); "
                  f"comparing the sites with a frame of the sample's")
            got = made
        if got in want:
            print(f"  {name}: allocations={got[0]} frees={got[1]} leaked_bytes={got[2]} "
                  f"leaked_blocks={got[3]}: exact")
            checked += 1
        else:
            failures.append(f"{name}: report says allocations={got[0]} frees={got[1]} "
                            f"leaked_bytes={got[2]} leaked_blocks={got[3]}, the sample says "
                            + " / ".join("allocations=%d frees=%d leaked_bytes=%d "
                                         "leaked_blocks=%d" % w for w in want))
    check(not failures, "\n".join(failures))
    # Run alone, a sample without a ground-truth line (leak_cpp: its sizes are libstdc++'s) is
    # only run here; its leak kinds are checked against valgrind in leaks-valgrind-cpp.
    check(checked > 0 or (it.ARGS.sample and not failures),
          "no sample printed a memtrace-sample line")
