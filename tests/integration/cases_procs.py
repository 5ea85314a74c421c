# SPDX-License-Identifier: MIT
# Integration tests of the view over several processes (issue 20, items 3 and 4): the process
# tree `memtrace report|peak|leaks|html` build from a run's logs, exec chains, %e, the heap a
# forked child inherits, and every way a user can hand them the wrong logs. Ground truth comes
# from samples/proc_tree.c and samples/fork_inherit.c, which print their own figures.
# Uses mt_harness.py's helpers; exit 77 = skip.
import glob
import json
import os
import re
import shutil

import mt_harness as it
from mt_harness import Skip, check, show, memtrace, json_of

case = it.suite("integration", "procs")

PROC_LINE = re.compile(r"^memtrace-proc: role=(\w+) pid=(\d+) ppid=(\d+) peak=(\d+) held=(\d+) "
                       r"held_blocks=(\d+) allocations=(\d+) frees=(\d+)$", re.M)


def proc_tree_run(name="tree", *run_args):
    """Runs samples/proc_tree as DIR/proc_tree with DIR/worker and DIR/chain linked to it, logs
    in DIR/logs named %e.%p.mtr. Returns (DIR, logs dir, the lines the processes printed)."""
    exe = it.sample_exe("proc_tree")
    d = os.path.join(it.TMP, name)
    logs = os.path.join(d, "logs")
    os.makedirs(logs)
    for role in ("proc_tree", "worker", "chain"):
        os.symlink(exe, os.path.join(d, role))
    p = memtrace("run", *run_args, "-o", os.path.join(logs, "%e.%p.mtr"), "--",
                 os.path.join(d, "proc_tree"))
    check(p.returncode == 0, f"memtrace run proc_tree\n{show(p)}")
    lines = [dict(zip(("role", "pid", "ppid", "peak", "held", "held_blocks", "allocations",
                       "frees"), (m[0], *map(int, m[1:])))) for m in PROC_LINE.findall(p.stdout)]
    check(len(lines) == 5, f"proc_tree printed {len(lines)} lines, not 5\n{show(p)}")
    return d, logs, lines, p


def expected_processes(lines):
    """pid -> what the process must show: peak (its highest image), held (its last image's),
    images (roles in exec order, 'fork' for the forked image before the exec)."""
    parent = next(x for x in lines if x["role"] == "parent")
    want = {parent["pid"]: dict(ppid=parent["ppid"], peak=4096, held=4096, held_blocks=1,
                                images=["start"])}
    for x in lines:
        if x["role"] != "worker":
            continue
        chained = any(c["role"] == "chain" and c["pid"] == x["pid"] for c in lines)
        forked = x["peak"] in (300000, 500000)  # A and C fork; B is posix_spawn'ed
        origins = (["fork"] if forked else []) + (["exec"] if chained else []) + \
            (["exec"] if forked else ["start"])
        want[x["pid"]] = dict(ppid=parent["pid"], peak=x["peak"], held=x["held"],
                              held_blocks=x["held_blocks"], images=origins)
    return want


@case(60)
def case_procs_tree():
    """samples/proc_tree: 4 processes, 7 logs, exact per-process figures, parents, order,
    totals, the exec chain, %e of symlinked programs, and the biggest process's sites."""
    d, logs, lines, run = proc_tree_run()
    want = expected_processes(lines)
    check(len(want) == 4, f"expected 4 processes from the printed lines: {lines}")
    check("memtrace report" in run.stderr and logs in run.stderr,
          f"the run summary should name 'memtrace report {logs}'\n{show(run)}")
    # %e is the name each program was started as: the links, not proc_tree's own file name.
    names = sorted(os.path.basename(f).split(".")[0] for f in glob.glob(os.path.join(logs, "*")))
    check(names == ["chain"] + ["proc_tree"] * 3 + ["worker"] * 3, f"log names {names}")

    r = json_of("report", "--format", "json", logs)
    check(r["format"] == "memtrace-processes" and r["schema_version"] == 1, f"format {r}")
    t = r["totals"]
    check(t["processes"] == 4 and t["logs"] == 7 and t["truncated_logs"] == 0, f"totals {t}")
    procs = r["processes"]
    got_pids = [p["pid"] for p in procs]
    check(sorted(got_pids) == sorted(want), f"pids {got_pids}, want {sorted(want)}")
    peaks = [p["peak_heap_bytes"] for p in procs]
    check(peaks == [2000000, 500000, 300000, 4096], f"sorted by peak: {peaks}")
    for p in procs:
        w = want[p["pid"]]
        check(p["ppid"] == w["ppid"], f"pid {p['pid']}: ppid {p['ppid']}, want {w['ppid']}")
        root = p["ppid"] not in want
        check(p["parent_pid"] == (None if root else w["ppid"]) and p["depth"] == (0 if root else 1),
              f"pid {p['pid']}: parent {p['parent_pid']} depth {p['depth']}")
        check((p["peak_heap_bytes"], p["leaked_bytes"], p["leaked_blocks"]) ==
              (w["peak"], w["held"], w["held_blocks"]),
              f"pid {p['pid']}: peak/held/blocks {p['peak_heap_bytes']} {p['leaked_bytes']} "
              f"{p['leaked_blocks']}, want {w}")
        origins = [im["origin"] for im in p["images"]]
        check(origins == w["images"], f"pid {p['pid']}: images {origins}, want {w['images']}")
        check(all(os.path.basename(im["log"]).split(".")[1] == str(p["pid"])
                  for im in p["images"]), f"pid {p['pid']}: logs {p['images']}")
        check(p["exit"] == {"reason": "normal", "status": 0}, f"pid {p['pid']}: exit {p['exit']}")
    chain = next(p for p in procs if len(p["images"]) == 3)
    roles = [os.path.basename(im["log"]).split(".")[0] for im in chain["images"]]
    check(roles == ["proc_tree", "chain", "worker"], f"exec chain {roles}")
    check(chain["images"][1]["peak_heap_bytes"] == 50000 and
          chain["images"][0]["inherited_bytes"] == 4096, f"chain images {chain['images']}")
    check(t["peak_heap_bytes_max"] == 2000000 and
          t["peak_heap_bytes_sum"] == sum(w["peak"] for w in want.values()) and
          t["leaked_bytes"] == sum(w["held"] for w in want.values()) and
          t["leaked_blocks"] == sum(w["held_blocks"] for w in want.values()) and
          t["allocations"] == sum(x["allocations"] for x in lines) and
          t["frees"] == sum(x["frees"] for x in lines) and t["processes_leaking"] == 4,
          f"totals {t}")
    big = r["biggest"]
    check(big["pid"] == procs[0]["pid"] and big["log"] == procs[0]["peak_log"],
          f"biggest {big['pid']} {big['log']}")
    top = big["report"]["top_sites"][0]
    check(big["report"]["format"] == "memtrace-report" and
          top["stack"][0]["function"] == "worker_alloc" and top["bytes"] == 2000000,
          f"the biggest process's top site {top}")

    # text: the same rows in the same order, the chain, and the biggest process's sites
    p = memtrace("report", "--no-color", logs)
    check(p.returncode == 0 and p.stderr == "", f"report DIR\n{show(p)}")
    rows = re.findall(r"^\s+(\d+)\s+(\d+)\s+\S+ \S+\s+\S+ \S+\s+0\s+(.*)$", p.stdout, re.M)
    check([int(x[0]) for x in rows] == got_pids, f"text rows {rows}\n{show(p)}")
    check(any(x[2].count(" -> ") == 2 for x in rows), f"no exec chain a -> b -> c\n{show(p)}")
    check("4 processes in 7 logs" in p.stdout and "worker_alloc" in p.stdout,
          f"text report\n{show(p)}")
    # the same logs given one by one (a shell glob) make the same tree
    g = json_of("report", "--format", "json", *sorted(glob.glob(os.path.join(logs, "*.mtr"))))
    check([x["pid"] for x in g["processes"]] == got_pids, "a glob gives another tree")
    # --tree: parents before their children
    p = memtrace("report", "--no-color", "--tree", logs)
    order = [int(x) for x in re.findall(r"^\s+(\d+)\s+\d+\s", p.stdout, re.M)]
    parent = next(x["pid"] for x in lines if x["role"] == "parent")
    check(p.returncode == 0 and order[0] == parent and sorted(order) == sorted(got_pids),
          f"--tree order {order}\n{show(p)}")


@case(60)
def case_procs_chain_single():
    """A single log of an exec chain names the next log, and the next names the one before."""
    d, logs, lines, _ = proc_tree_run()
    chained = next(x["pid"] for x in lines if x["role"] == "chain")
    first = os.path.join(logs, f"proc_tree.{chained}.mtr")
    middle = os.path.join(logs, f"chain.{chained}.mtr")
    last = os.path.join(logs, f"worker.{chained}.mtr")
    r = it.report_json(first)
    check(r["exit"]["reason"] == "exec" and r["next_log"] == middle and
          r["origin"]["how"] == "fork", f"first image: {r['exit']} {r['next_log']} {r['origin']}")
    r = it.report_json(middle)
    check(r["origin"] == {"how": "exec", "from_log": first, "fork_seq": 0,
                          "run_id": r["origin"]["run_id"]} and r["next_log"] == last,
          f"chain image: {r['origin']} {r['next_log']}")
    check(it.report_json(last)["origin"]["from_log"] == middle, "worker image's origin")
    p = memtrace("report", "--no-color", first)
    check(p.returncode == 0 and f"the exec'd program's log is {middle}" in p.stdout,
          f"the text report of the first log must name the next one\n{show(p)}")
    # the environment variable that carries the link is gone before the program sees it
    p = memtrace("run", "-q", "-o", os.path.join(it.TMP, "env.%p.mtr"), "--", "/bin/sh", "-c",
                 "exec /usr/bin/env")
    check(p.returncode == 0 and "MEMTRACE_EXEC_FROM" not in p.stdout, f"env\n{show(p)}")
    # and a program exec'd with a cleaned environment (not recorded) gets none at all
    p = memtrace("run", "-q", "-o", os.path.join(it.TMP, "envi.%p.mtr"), "--", "/bin/sh", "-c",
                 "exec /usr/bin/env -i /usr/bin/env")
    check(p.returncode == 0 and p.stdout == "", f"env -i\n{show(p)}")


INHERIT_CHILD = re.compile(r"^memtrace-sample-child: inherited_bytes=(\d+) inherited_blocks=(\d+) "
                           r"inherited_freed_blocks=(\d+) allocations=(\d+) frees=(\d+) "
                           r"peak_bytes=(\d+) held_bytes=(\d+) held_blocks=(\d+)$", re.M)


def inherit_run(name, *run_args):
    logs = os.path.join(it.TMP, name)
    os.makedirs(logs)
    p = memtrace("run", *run_args, "-o", os.path.join(logs, "fi.%p.mtr"), "--",
                 it.sample_exe("fork_inherit"))
    check(p.returncode == 0, f"memtrace run fork_inherit\n{show(p)}")
    m = INHERIT_CHILD.search(p.stdout)
    check(m, f"no child line\n{show(p)}")
    truth = [int(x) for x in m.groups()]
    r = json_of("report", "--format", "json", logs)
    check(r["totals"]["processes"] == 2 and len(r["processes"]) == 2, f"{r['totals']}")
    child = next(x for x in r["processes"] if x["parent_pid"] is not None)
    return logs, truth, child["log"], r


def check_child(log, truth, listed):
    inh_bytes, inh_blocks, inh_freed, allocs, frees, peak, held, held_blocks = truth
    check((inh_bytes, inh_blocks, inh_freed, allocs, frees, peak, held, held_blocks) ==
          (10000000, 100, 40, 5, 40, 10000000, 8500000, 65), f"the sample's own figures {truth}")
    r = it.report_json(log)
    inh = r["inherited"]
    check(inh is not None and inh["known"] and inh["bytes"] == inh_bytes and
          inh["blocks"] == inh_blocks and inh["freed_blocks"] == inh_freed and
          inh["freed_bytes"] == inh_freed * 100000, f"inherited {inh}")
    check(r["origin"]["how"] == "fork" and r["origin"]["fork_seq"] == 1, f"origin {r['origin']}")
    # under --leak-check the child's log lists them; else they come from the parent's log
    check((inh["from_log"] == log) == listed, f"inherited from {inh['from_log']}, log {log}")
    got = (r["allocations"], r["frees"], r["peak_heap_bytes"], r["peak_heap_blocks"],
           r["leaked_bytes"], r["leaked_blocks"], r["unknown_frees"])
    check(got == (allocs, frees, peak, inh_blocks, held, held_blocks, 0),
          f"child: allocations, frees, peak, peak blocks, held, held blocks, unknown frees = "
          f"{got}, want {(allocs, frees, peak, inh_blocks, held, held_blocks, 0)}")
    # inherited blocks are no allocations of the child's
    check(r["allocations_by_kind"]["malloc"] == allocs and "inherited" not in
          r["allocations_by_kind"], f"by kind {r['allocations_by_kind']}")
    # who holds the child's peak: the parent's stack of the inherited blocks
    pk = json_of("peak", "--format", "json", log)
    check(pk["peak_heap_bytes"] == peak and pk["sites"] and
          pk["sites"][0]["bytes"] == inh_bytes and
          pk["sites"][0]["stack"][0]["function"] == "main", f"peak sites {pk['sites'][:1]}")
    p = memtrace("report", "--no-color", log)
    check(p.returncode == 0 and "inherited heap     9.54 MiB (10,000,000 B) in 100 blocks"
          in p.stdout and "60 of them (5.72 MiB) inherited" in p.stdout,
          f"text report of the child\n{show(p)}")


def check_child_threads(log, truth, logs):
    """The inherited blocks are the thread "(inherited)", tid 0, of no allocation; --thread
    selects them or the child's own thread, and over several logs --thread is refused."""
    inh_bytes, inh_blocks, inh_freed, allocs, frees, peak, held, held_blocks = truth
    r = it.report_json(log)
    rows = {t["tid"]: t for t in r["threads"]}
    kept = inh_bytes - inh_freed * 100000
    zero = rows.get(0)
    check(zero and zero["name"] is None and zero["allocations"] == 0 and
          zero["bytes_at_heap_peak"] == inh_bytes and zero["held_bytes"] == kept,
          f"the inherited pseudo-thread: {zero}")
    own = [t for tid, t in rows.items() if tid != 0]
    check(len(own) == 1 and own[0]["allocations"] == allocs and
          own[0]["held_bytes"] == held - kept, f"the child's own thread: {own}")
    p = memtrace("report", "--no-color", log)
    check(re.search(r"^  \(inherited\) +0 +0 ", p.stdout, re.M), f"text table\n{show(p)}")
    r0 = it.report_json(log, "--thread", "0")
    check((r0["allocations"], r0["peak_heap_bytes"], r0["leaked_bytes"], r0["inherited"]["bytes"])
          == (0, inh_bytes, kept, inh_bytes), f"--thread 0: {r0['inherited']}")
    tid = own[0]["tid"]
    r1 = it.report_json(log, "--thread", str(tid))
    check((r1["allocations"], r1["leaked_bytes"], r1["inherited"]["bytes"]) ==
          (allocs, held - kept, 0), f"--thread {tid}: {r1['allocations']} {r1['leaked_bytes']} "
          f"{r1['inherited']}")
    p = memtrace("report", "--no-color", "--thread", str(tid), log)
    check(p.returncode == 0 and "inherited heap     not in these figures" in p.stdout,
          f"a filter without tid 0 says the inherited heap is left out\n{show(p)}")
    p = memtrace("report", "--thread", str(tid), logs)
    check(p.returncode == 2 and p.stderr.count("\n") == 1 and "--thread takes one log" in p.stderr,
          f"--thread over a run's logs\n{show(p)}")


@case(60)
def case_procs_inherit():
    """A forked child starts with its parent's heap (issue 20, item 4): exact figures, with the
    heap taken from the parent's log, and listed in the child's own log under --leak-check."""
    logs, truth, child, tree = inherit_run("plain")
    check_child(child, truth, listed=False)
    check_child_threads(child, truth, logs)
    parent = next(x for x in tree["processes"] if x["parent_pid"] is None)
    check(parent["peak_heap_bytes"] == 10000000 and parent["leaked_bytes"] == 0 and
          parent["images"][0]["unknown_frees"] == 0, f"parent {parent}")
    logs, truth, child, _ = inherit_run("leakcheck", "--leak-check")
    check_child(child, truth, listed=True)
    check_child_threads(child, truth, logs)
    # the parent's log gone: the child says its inherited heap is unknown, on stderr too
    plain = os.path.join(it.TMP, "plain")
    child_log = next(x["log"] for x in tree["processes"] if x["parent_pid"] is not None)
    parent_log = next(x["log"] for x in tree["processes"] if x["parent_pid"] is None)
    os.rename(parent_log, parent_log + ".away")
    p = memtrace("report", "--format", "json", child_log)
    check(p.returncode == 0 and "warning" in p.stderr and "parent's log" in p.stderr and
          p.stderr.count("\n") == 1, f"missing parent log\n{show(p)}")
    r = json.loads(p.stdout)
    check(r["inherited"]["known"] is False and r["inherited"]["note"] and
          r["peak_heap_bytes"] == 2500000 and r["unknown_frees"] == 40, f"{r['inherited']}")
    # moved logs: the parent is found next to the child
    os.rename(parent_log + ".away", parent_log)
    moved = os.path.join(it.TMP, "moved")
    shutil.copytree(plain, moved)
    shutil.rmtree(plain)
    r = it.report_json(os.path.join(moved, os.path.basename(child_log)))
    check(r["inherited"]["known"] and r["peak_heap_bytes"] == 10000000, f"moved {r['inherited']}")


@case(60)
def case_procs_errors():
    """What a user can get wrong: one clear line and a non-zero exit, or a labelled skip."""
    empty = os.path.join(it.TMP, "empty")
    os.makedirs(empty)
    with open(os.path.join(empty, "notes.txt"), "w") as f:
        f.write("not a log\n")
    p = memtrace("report", empty)
    check(p.returncode == 1 and p.stdout == "" and p.stderr ==
          f"memtrace: report: {empty}: no memtrace logs in this directory\n",
          f"a directory without logs\n{show(p)}")
    d, logs, lines, _ = proc_tree_run("one")
    # a corrupt log among several: skipped with one line, the rest reported, exit 1
    bad = os.path.join(logs, "zz.bad.mtr")
    with open(bad, "wb") as f:
        f.write(b"MEMTRACE\x02\x00 this is no log")
    p = memtrace("report", "--format", "json", logs)
    check(p.returncode == 1 and p.stderr.count("\n") == 1 and bad in p.stderr and
          "(skipped)" in p.stderr, f"a corrupt log among several\n{show(p)}")
    r = json.loads(p.stdout)
    check(r["totals"]["processes"] == 4 and r["skipped"][0]["log"] == bad, f"{r['skipped']}")
    os.unlink(bad)
    # a file that is no log, given by name
    p = memtrace("report", os.path.join(empty, "notes.txt"), logs)
    check(p.returncode == 1 and "not a memtrace log (skipped)" in p.stderr, f"no log\n{show(p)}")
    p = memtrace("report", os.path.join(empty, "missing.mtr"), logs)
    check(p.returncode == 1 and "No such file" in p.stderr, f"missing file\n{show(p)}")
    # a second run into the same directory: the newest is shown, the older one left out with
    # one labelled line, and no error
    d2 = os.path.join(it.TMP, "two")
    os.makedirs(d2)
    for role in ("proc_tree", "worker", "chain"):
        os.symlink(it.sample_exe("proc_tree"), os.path.join(d2, role))
    for f in glob.glob(os.path.join(logs, "*.mtr")):
        shutil.copy(f, d2)
    p = memtrace("run", "-q", "-o", os.path.join(d2, "%e.%p.mtr"), "--", "/bin/true")
    check(p.returncode == 0, f"true\n{show(p)}")
    p = memtrace("report", "--format", "json", d2)
    check(p.returncode == 0 and p.stderr.count("\n") == 1 and
          "left out 7 logs of 1 older run" in p.stderr, f"two runs in one directory\n{show(p)}")
    r = json.loads(p.stdout)
    check(r["totals"]["processes"] == 1 and r["other_runs"] == 1 and
          r["processes"][0]["command"] == "/bin/true", "the newest run is shown")
    # formats that take one log
    p = memtrace("leaks", "--format", "sarif", logs)
    check(p.returncode == 2 and p.stderr.count("\n") == 1 and "one log" in p.stderr,
          f"sarif over several logs\n{show(p)}")


@case(90)
def case_procs_log_twice():
    """A run's directory and one of its logs by name, and a copy of a log: each process once,
    with a note, exit 0; before, the copies were more processes and the totals grew."""
    d, logs, lines, _ = proc_tree_run("twice")
    want = json_of("report", "--format", "json", logs)["totals"]
    one = sorted(glob.glob(os.path.join(logs, "*.mtr")))[0]
    shutil.copy(one, os.path.join(d, "copy.mtr"))
    p = memtrace("report", "--format", "json", logs, one, os.path.join(d, "copy.mtr"))
    check(p.returncode == 0 and p.stderr.count("the same log as") == 2 and
          "counted once" in p.stderr, f"a log given twice and a copy\n{show(p)}")
    got = json.loads(p.stdout)["totals"]
    for k in ("processes", "logs", "peak_heap_bytes_sum", "allocations"):
        check(got.get(k) == want.get(k), f"{k}: {got.get(k)} with the copies, {want.get(k)} without")
    p = memtrace("peak", one, one)
    check(p.returncode == 0 and "1 process in 1 log" in p.stdout and
          "given twice or copied was counted once" in p.stdout, f"peak LOG LOG\n{show(p)}")


@case(90)
def case_procs_commands():
    """peak, leaks and html over a run: the tree, then their report of the right process."""
    d, logs, lines, _ = proc_tree_run()
    biggest = next(x["pid"] for x in lines if x["peak"] == 2000000)
    pk = json_of("peak", "--format", "json", logs)
    check(pk["biggest"]["pid"] == biggest and pk["biggest"]["report"]["format"] == "memtrace-peak"
          and pk["biggest"]["report"]["peak_heap_bytes"] == 2000000, f"peak {pk['biggest']}")
    p = memtrace("peak", "--no-color", logs)
    check(p.returncode == 0 and "worker_alloc" in p.stdout and "4 processes" in p.stdout,
          f"peak text\n{show(p)}")
    lk = json_of("leaks", "--format", "json", logs)
    check(lk["most_not_freed"]["pid"] == biggest and
          lk["most_not_freed"]["report"]["format"] == "memtrace-leaks", f"leaks {lk}")
    # --error-exitcode checks every process: each one keeps blocks at exit
    p = memtrace("leaks", "--error-exitcode", "9", logs)
    check(p.returncode == 9 and p.stderr.count("failing kind") == 4, f"leaks exit\n{show(p)}")
    out = os.path.join(it.TMP, "tree.html")
    p = memtrace("html", "-o", out, logs)
    check(p.returncode == 0, f"html\n{show(p)}")
    with open(out) as f:
        page = f.read()
    check('id="processes"' in page and page.count("<tr data-pid=") == 4 and
          "worker_alloc" in page, "the page has the processes table and the biggest's sites")


MAKE_SOURCES = {
    "main.c": '#include "parts.h"\nint main(void) { return part_a() + part_b() + part_c() + '
              'part_d() + big() == 42 ? 0 : 1; }\n',
    "a.c": '#include "parts.h"\nint part_a(void) { return 1; }\n',
    "b.c": '#include "parts.h"\nint part_b(void) { return 2; }\n',
    "c.c": '#include "parts.h"\nint part_c(void) { return 3; }\n',
    "d.c": '#include "parts.h"\nint part_d(void) { return 4; }\n',
    "parts.h": "int part_a(void); int part_b(void); int part_c(void); int part_d(void); "
               "int big(void);\n",
    "Makefile": "OBJS = main.o a.o b.o c.o d.o big.o\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n"
                "%.o: %.c parts.h\n\t$(CC) -O2 -c $< -o $@\n",
}


@case(300)
def case_procs_make():
    """The example of the issue: memtrace run -- make -j2 on a small C project, then one
    command finds the biggest compiler process (big.c, a file far bigger than the others)."""
    make = shutil.which("make")
    cc = shutil.which("cc")
    if not make or not cc:
        raise Skip("make or cc not installed")
    proj = os.path.join(it.TMP, "proj")
    os.makedirs(proj)
    for name, text in MAKE_SOURCES.items():
        with open(os.path.join(proj, name), "w") as f:
            f.write(text)
    with open(os.path.join(proj, "big.c"), "w") as f:
        f.write('#include "parts.h"\n')
        for i in range(1500):
            f.write(f"static int f{i}(int x) {{ return x * {i} + (x >> 3) - {i % 7}; }}\n")
        f.write("int big(void) { int s = 0;\n")
        for i in range(1500):
            f.write(f"  s += f{i}(s);\n")
        f.write("  return s == 12345 ? 32 : 32; }\n")
    p = memtrace("run", "--", make, "-j2", cwd=proj, timeout=600)
    check(p.returncode == 0, f"memtrace run make -j2\n{show(p)}")
    check("memtrace report ." in p.stderr, f"the run summary names the command\n{show(p)}")
    r = json_of("report", "--format", "json", proj)
    procs = r["processes"]
    check(r["totals"]["processes"] == len(procs) >= 8, f"{len(procs)} processes")
    # sorted by peak: the first compiler proper (cc1) listed is the one of the big file (the
    # linker may come before it: gcc's own heap is mostly its mmap'ed garbage collector's)
    compilers = [x for x in procs  # the default names: memtrace.%e.%p.mtr
                 if os.path.basename(x["images"][-1]["log"]).startswith("memtrace.cc1.")]
    check(len(compilers) == 6 and "big.c" in compilers[0]["command"] and
          all("big.c" not in x["command"] for x in compilers[1:]),
          f"the first cc1 by peak should compile big.c: {[x['command'][:80] for x in compilers]}")
    check(compilers[0]["peak_heap_bytes"] > compilers[1]["peak_heap_bytes"],
          "cc1 on big.c has the highest peak of the compilers")
    roots = [x for x in procs if x["parent_pid"] is None]
    check(len(roots) == 1 and roots[0]["command"].startswith(make),
          f"one root, make: {[x['command'] for x in roots]}")
    names = {os.path.basename(im["log"]).split(".")[1] for x in procs for im in x["images"]}
    check("cc" in names and not any(n.startswith("x86_64-linux-gnu-gcc") for n in names),
          f"logs are named after the program as started: {sorted(names)}")
    p = memtrace("report", "--no-color", proj)
    rows = [x for x in p.stdout.split("\n") if "/cc1 " in x]
    check(p.returncode == 0 and rows and "big.c" in rows[0],
          f"text: the first compiler row is the one of big.c\n{show(p)}")


MANY_FORKS_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) static void *take(size_t n) { return malloc(n); }

int main(int argc, char **argv)
{
    int n = atoi(argv[1]);
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            void *a = take(1111), *b = take(2222), *c = take(3333);
            free(a);
            free(b);
            (void)c; /* 3,333 bytes left at exit */
            exit(0);
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
            return 1;
    }
    printf("forked %d\n", n);
    return 0;
}
"""


@case(300)
def case_procs_many_one_name():
    """1,100 processes under one fixed -o (no %p): each gets a log of its own. Names went
    FILE, FILE.2 ... FILE.999 and then every process was left unrecorded ("cannot create
    FILE.999: File exists"), each trying all the names before it; now FILE.2 to FILE.16, then
    FILE.PID.1 (preload/base/config.c: mt_config_log_name)."""
    exe = it.build_c("many_forks", MANY_FORKS_C)
    d = os.path.join(it.TMP, "many")
    os.makedirs(d)
    base = os.path.join(d, "one.mtr")
    p = memtrace("run", "-q", "-o", base, "--", exe, "1100", timeout=280)
    check(p.returncode == 0 and p.stdout == "forked 1100\n", f"memtrace run\n{show(p)}")
    check("cannot create" not in p.stderr, f"a process went unrecorded\n{show(p)}")
    names = sorted(os.listdir(d))
    check(len(names) == 1101, f"{len(names)} logs for 1,101 processes")
    in_turn = {"one.mtr"} | {f"one.mtr.{n}" for n in range(2, 17)}
    by_pid = [n for n in names if n not in in_turn]
    check(in_turn <= set(names) and all(re.fullmatch(r"one\.mtr\.\d+\.\d+", n) for n in by_pid),
          f"unexpected names: {[n for n in by_pid if not re.fullmatch(r'one.mtr.[0-9]+.[0-9]+', n)][:5]}")
    last = os.path.join(d, by_pid[-1])
    rep = json_of("report", "--format", "json", last)
    check(not rep["truncated"] and it.own_calls(rep, exe)[:3] == (3, 2, 3333),
          f"{last}: {it.own_calls(rep, exe)} (truncated: {rep['truncated']})")
