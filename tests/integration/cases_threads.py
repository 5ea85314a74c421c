# SPDX-License-Identifier: MIT
# Integration tests of the per-thread views: thread names as the program gives them (native:
# pthread_setname_np on itself and on another thread, prctl; Python: threading.Thread(name=)),
# each thread's figures in JSON against what the samples know, --thread on every report, the
# thread column of the sites and the HTML lanes. Reuses the helpers of mt_harness.py; one
# case per meson test, exit 0 pass, 77 skip, else fail.
import json
import os
import re

import mt_harness as it
from mt_harness import check, show

case = it.suite("integration")

THREAD_LINE = re.compile(r"^memtrace-thread: (.*)$", re.M)
PYTHREAD_LINE = re.compile(r"^memtrace-pythread: (.*)$", re.M)


def kv_lines(rx, stdout):
    rows = []
    for m in rx.finditer(stdout):
        d = dict(kv.split("=", 1) for kv in m.group(1).split())
        rows.append({k: (v if k == "name" else int(v)) for k, v in d.items()})
    check(rows, f"the sample printed no ground truth:\n{stdout[-2000:]}")
    return rows


def named_threads():
    """Records samples/named_threads; returns (log, the threads it reports)."""
    log = os.path.join(it.TMP, "named_threads.mtr")
    p = it.record(log, it.sample_exe("named_threads"))
    return log, kv_lines(THREAD_LINE, p.stdout)


def fails_with_one_line(args, needle):
    p = it.memtrace(*args)
    lines = p.stderr.strip().splitlines()
    check(p.returncode != 0, f"memtrace {' '.join(args)} should fail\n{show(p)}")
    check(len(lines) == 1 and needle in lines[0] and p.stdout == "",
          f"memtrace {' '.join(args)}: want one line with '{needle}'\n{show(p)}")


def by_tid(rows):
    return {r["tid"]: r for r in rows}


@case(60)
def case_threads_native():
    log, truth = named_threads()
    rep = it.report_json(log, "--top", "1000")
    threads = by_tid(rep.get("threads") or [])
    check(rep.get("thread_filter") is None,
          f"no --thread, yet thread_filter {rep.get('thread_filter')}")
    for t in truth:
        got = threads.get(t["tid"])
        check(got, f"{t['name']} (tid {t['tid']}) is not in the report's threads: {list(threads)}")
        want = {"name": t["name"], "allocations": t["allocations"], "bytes_allocated": t["bytes"],
                "own_peak_bytes": t["own_peak"], "bytes_at_heap_peak": t["at_peak"],
                "held_bytes": t["held"]}
        for k, v in want.items():
            check(got.get(k) == v, f"{t['name']} {k}: report {got.get(k)}, the sample {v}")
    # main is listed under the name it inherited from the program (its comm)
    main = [r for tid, r in threads.items() if tid not in {t["tid"] for t in truth}]
    check(len(main) == 1 and main[0]["name"] == "named_threads",
          f"besides the workers, main alone, named named_threads: {main}")
    # the thread column: keep_block is every worker's, worker0_scratch worker-0's alone
    sites = rep.get("top_sites") or []

    def site(fn):
        s = [x for x in sites if (x.get("stack") or [{}])[0].get("function") == fn]
        check(len(s) == 1, f"one {fn} site expected, got {len(s)}")
        return s[0]
    keep = site("keep_block")
    check(keep.get("thread_count") == len(truth)
          and sorted(x["tid"] for x in keep["threads"]) == sorted(t["tid"] for t in truth),
          f"keep_block is allocated by the {len(truth)} workers: {keep.get('threads')}")
    w0 = next(t for t in truth if t["name"] == "worker-0")
    scratch = site("worker0_scratch")
    check(scratch.get("thread_count") == 1
          and scratch["threads"] == [{"tid": w0["tid"], "name": "worker-0"}],
          f"worker0_scratch is worker-0's alone: {scratch.get('threads')}")
    text = it.memtrace("report", log).stdout
    check(re.search(r"in 8 allocations, thread worker-0 \(\d+\)", text),
          f"the text report names worker-0 on its site\n{text[:3000]}")
    check(re.search(r"5 threads: (worker-\d|pool) \d+, (worker-\d|pool) \d+, (worker-\d|pool) "
                    r"\d+, \.\.\.", text),
          f"the text report says keep_block has 5 threads\n{text[:3000]}")


def filtered(log, *args):
    return it.json_of(*args[:1], "--format", "json", *args[1:], log)


@case(120)
def case_threads_filter():
    log, truth = named_threads()
    full = it.report_json(log)
    w1 = next(t for t in truth if t["name"] == "worker-1")
    # worker-1 allocated everything under its inherited name: the filter by its last name
    # takes it all, and by its tid the same
    for spec in ("worker-1", str(w1["tid"])):
        rep = filtered(log, "report", "--thread", spec)
        check(rep["allocations"] == w1["allocations"] and rep["bytes_allocated"] == w1["bytes"]
              and rep["leaked_bytes"] == w1["held"],
              f"--thread {spec}: {rep['allocations']} allocations, {rep['bytes_allocated']} B, "
              f"{rep['leaked_bytes']} B not freed; the sample says {w1}")
        # the peak is the process's, the figure worker-1's part of it
        check(rep["peak_heap_bytes"] == w1["at_peak"] and rep["peak_time_s"] == full["peak_time_s"],
              f"--thread {spec}: peak {rep['peak_heap_bytes']} at {rep['peak_time_s']}, want "
              f"{w1['at_peak']} at {full['peak_time_s']}")
        tf = rep.get("thread_filter") or {}
        check(tf.get("threads") == [{"tid": w1["tid"], "name": "worker-1"}]
              and tf.get("process_peak_heap_bytes") == full["peak_heap_bytes"],
              f"--thread {spec}: thread_filter {tf}")
        check([t["tid"] for t in rep["threads"]] == [w1["tid"]], f"rows: {rep['threads']}")
    # a name two threads share selects both
    pools = [t for t in truth if t["name"] == "pool"]
    rep = filtered(log, "report", "--thread", "pool")
    check(rep["leaked_bytes"] == sum(t["held"] for t in pools)
          and rep["allocations"] == sum(t["allocations"] for t in pools),
          f"--thread pool: {rep['allocations']} allocations, {rep['leaked_bytes']} B held; "
          f"the pools: {pools}")
    # repeated: any of them
    w0 = next(t for t in truth if t["name"] == "worker-0")
    rep = filtered(log, "report", "--thread", "worker-0", "--thread", str(w1["tid"]))
    check(rep["leaked_bytes"] == w0["held"] + w1["held"], f"two --thread: {rep['leaked_bytes']}")
    # worker-0's own peak is higher than its part of the heap peak: peak says the latter
    pk = filtered(log, "peak", "--thread", "worker-0")
    check(pk["peak_heap_bytes"] == w0["at_peak"] and w0["own_peak"] > w0["at_peak"],
          f"peak --thread worker-0: {pk['peak_heap_bytes']}, want {w0['at_peak']} (own peak "
          f"{w0['own_peak']} is in the threads rows)")
    check(pk["threads"][0]["own_peak_bytes"] == w0["own_peak"], f"{pk['threads']}")
    lk = filtered(log, "leaks", "--thread", "worker-2")
    w2 = next(t for t in truth if t["name"] == "worker-2")
    got = sum(k["bytes"] for k in lk.get("leaks") or [])
    check(got == w2["held"], f"leaks --thread worker-2: {got} B, the sample says {w2['held']}")
    fr = filtered(log, "fragmentation", "--thread", "worker-2")
    check(fr.get("thread_filter", {}).get("threads") == [{"tid": w2["tid"], "name": "worker-2"}],
          f"fragmentation --thread: {fr.get('thread_filter')}")
    # the others take it too
    for args in (["flamegraph", "-o", os.path.join(it.TMP, "f.svg")],
                 ["timeline", "-o", os.path.join(it.TMP, "t.svg")],
                 ["html", "-o", os.path.join(it.TMP, "p.html")],
                 ["export", "--to", "folded", "-o", os.path.join(it.TMP, "x.folded")]):
        p = it.memtrace(args[0], "--thread", "worker-2", *args[1:], log)
        check(p.returncode == 0, f"memtrace {args[0]} --thread worker-2\n{show(p)}")
    with open(os.path.join(it.TMP, "x.folded")) as fh:
        folded = sum(int(line.rsplit(" ", 1)[1]) for line in fh if line.strip())
    check(folded == w2["at_peak"], f"export --thread worker-2: {folded} B at the peak")
    with open(os.path.join(it.TMP, "f.svg")) as fh:
        check("thread worker-2 (" in fh.read(), "the flame graph does not say whose it is")
    p = it.memtrace("diff", "--format", "json", "--thread", "pool", log, log)
    check(p.returncode == 0, f"diff --thread pool\n{show(p)}")
    d = json.loads(p.stdout)
    check(d["old"]["totals"]["leaked_bytes"] == sum(t["held"] for t in pools),
          f"diff --thread pool: {d['old']['totals']}")
    # unknown: one line, non-zero exit, for every command
    for cmd in ("report", "peak", "leaks", "fragmentation", "timeline"):
        fails_with_one_line([cmd, "--thread", "no-such-thread", log],
                            "no thread named 'no-such-thread'")
    fails_with_one_line(["report", "--thread", "999999999", log], "no thread with id 999999999")
    fails_with_one_line(["flamegraph", "--thread", "nope", "-o", os.path.join(it.TMP, "g.svg"),
                         log], "no thread named 'nope'")
    fails_with_one_line(["diff", "--thread", "nope", log, log], "no thread 'nope' in either log")
    # a thread is one process's: the forms over several logs or a directory refuse --thread
    # with one line and the usage-error status, before reading anything
    run_dir = os.path.join(it.TMP, "run")
    os.makedirs(run_dir)
    os.link(log, os.path.join(run_dir, "named_threads.mtr"))
    for args in (["report", run_dir], ["peak", log, log], ["leaks", run_dir],
                 ["html", "-o", os.path.join(it.TMP, "m.html"), run_dir]):
        p = it.memtrace(args[0], "--thread", "worker-1", *args[1:])
        check(p.returncode == 2 and p.stdout == "" and
              p.stderr == f"memtrace: {args[0]}: --thread takes one log, not several or a "
              f"directory: give the log of the thread's process (try 'memtrace {args[0]} "
              "--help')\n",
              f"memtrace {args[0]} --thread over several logs\n{show(p)}")
    check(not os.path.exists(os.path.join(it.TMP, "m.html")), "html wrote a page anyway")


@case(60)
def case_threads_html():
    log, truth = named_threads()
    out = os.path.join(it.TMP, "threads.html")
    p = it.memtrace("html", "-o", out, log)
    check(p.returncode == 0, f"memtrace html\n{show(p)}")
    with open(out, encoding="utf-8") as fh:
        html = fh.read()
    check('<h2 id="threads">' in html, "the page has no Threads section")
    lanes = {}
    for m in re.finditer(r'<tr class="thread-lane" data-tid="(\d+)" data-name="([^"]*)">(.*?)</tr>',
                         html):
        figs = {k: int(v) for k, v in re.findall(r'data-key="(\w+)" data-value="(\d+)"',
                                                  m.group(3))}
        lanes[int(m.group(1))] = (m.group(2), figs, m.group(3))
    for t in truth:
        check(t["tid"] in lanes, f"no lane for {t['name']} ({t['tid']}): {list(lanes)}")
        name, figs, cells = lanes[t["tid"]]
        check(name == t["name"], f"lane {t['tid']} is called {name}, want {t['name']}")
        want = {"thread_allocations": t["allocations"], "thread_bytes_allocated": t["bytes"],
                "thread_own_peak_bytes": t["own_peak"], "thread_bytes_at_heap_peak": t["at_peak"],
                "thread_held_bytes": t["held"], "thread_tid": t["tid"]}
        for k, v in want.items():
            check(figs.get(k) == v, f"lane {t['name']} {k}: page {figs.get(k)}, sample {v}")
        check('<svg class="lane"' in cells, f"lane {t['name']} has no picture")
    check(len(lanes) == len(truth) + 1, f"{len(lanes)} lanes, want {len(truth)} workers and main")
    # the site table's thread column
    check(re.search(r'data-key="site_thread_count" data-value="5">5 threads: ', html),
          "the sites table has no thread column for keep_block")
    # a filtered page says whose it is, and lists that thread only
    p = it.memtrace("html", "--thread", "worker-0", "-o", out, log)
    check(p.returncode == 0, f"memtrace html --thread worker-0\n{show(p)}")
    with open(out, encoding="utf-8") as fh:
        html = fh.read()
    check(re.search(r'data-key="thread_filter">worker-0 \(\d+\) only', html),
          "the filtered page does not say it shows worker-0 only")
    check(html.count('class="thread-lane"') == 1, "the filtered page shows other threads' lanes")


def py_threads(extra_env=None, name="py_thread_names.mtr"):
    env = dict(os.environ, **(extra_env or {}))
    log = os.path.join(it.TMP, name)
    p = it.memtrace("run", "-o", log, "--", it.PYTHON, it.py_sample("py_thread_names.py"),
                    env=env)
    check(p.returncode == 0 and os.path.isfile(log), f"memtrace run python3\n{show(p)}")
    return log, kv_lines(PYTHREAD_LINE, p.stdout)


@case(120, needs="python_frames")
def case_threads_python():
    log, truth = py_threads()
    rep = it.report_json(log)
    threads = by_tid(rep.get("threads") or [])
    names = sorted(t.get("name") or "" for t in threads.values())
    check("MainThread" in names, f"the main thread is MainThread for a Python user: {names}")
    for t in truth:
        got = threads.get(t["tid"])
        check(got and got.get("name") == t["name"],
              f"{t['name']} (tid {t['tid']}): report says {got and got.get('name')}: {names}")
        # what the thread holds at the end of the script: its objects and its list, plus the
        # few small objects threading's bootstrap leaves with the Thread object (its ids)
        check(t["kept_bytes"] <= got["held_bytes"] <= t["kept_bytes"] + 1024,
              f"{t['name']} holds {got['held_bytes']} B at the end, its objects and list take "
              f"{t['kept_bytes']}")
    # --thread loader-1: exactly its objects at make()'s line, nobody else's
    t1 = next(t for t in truth if t["name"] == "loader-1")
    lk = it.leaks_json(log, "--thread", "loader-1")
    at = [k for k in lk.get("leaks") or []
          if it.first_py(k.get("stack") or []).get("line") == t1["line"]]
    got_blocks = sum(k["blocks"] for k in at)
    got_bytes = sum(k["bytes"] for k in at)
    check(got_blocks == t1["objects"] and got_bytes == t1["objects"] * t1["object_bytes"],
          f"--thread loader-1 at make(): {got_bytes} B in {got_blocks} blocks, the script kept "
          f"{t1['objects']} x {t1['object_bytes']} B")
    rep1 = it.report_json(log, "--thread", "loader-1")
    check(rep1["leaked_bytes"] == threads[t1["tid"]]["held_bytes"]
          and rep1["leaked_at"] == "script_end",
          f"report --thread loader-1 holds {rep1['leaked_bytes']} at {rep1['leaked_at']}, its "
          f"row says {threads[t1['tid']]['held_bytes']}")
    fails_with_one_line(["report", "--thread", "loader-9", log], "no thread named 'loader-9'")
    # memtrace lines --thread: make()'s line holds loader-1's objects alone, and says whose
    for spec in ("loader-1", str(t1["tid"])):
        ln = it.json_of("lines", "--format", "json", "--thread", spec, log)
        rows = [r for f in ln["functions"] for r in f["lines"] if r["line"] == t1["line"]]
        check(len(rows) == 1, f"lines --thread {spec}: line {t1['line']} shown {len(rows)} times")
        own = rows[0]["own"]
        check(own["end_blocks"] == t1["objects"] and
              own["end_bytes"] == t1["objects"] * t1["object_bytes"],
              f"lines --thread {spec}, line {t1['line']}: {own}, the script kept "
              f"{t1['objects']} x {t1['object_bytes']} B")
        check((ln.get("thread_filter") or {}).get("threads") ==
              [{"tid": t1["tid"], "name": "loader-1"}], f"lines: {ln.get('thread_filter')}")
    ln = it.json_of("lines", "--format", "json", log)
    rows = [r for f in ln["functions"] for r in f["lines"] if r["line"] == t1["line"]]
    check(ln.get("thread_filter", 0) is None and
          rows[0]["own"]["end_blocks"] == sum(t["objects"] for t in truth),
          f"lines without --thread: {rows[0]['own']}, every loader's objects")
    p = it.memtrace("lines", "--no-color", "--thread", "loader-1", log)
    check(p.returncode == 0 and re.search(r"^  threads +loader-1 \(\d+\) only$", p.stdout, re.M),
          f"lines --thread says whose allocations it shows\n{show(p)}")
    fails_with_one_line(["lines", "--thread", "loader-9", log], "no thread named 'loader-9'")
    # the switch turns Python names off (native names only)
    log, truth = py_threads({"MEMTRACE_PYTHON_THREADS": "0"}, "off.mtr")
    rep = it.report_json(log)
    names = {t.get("name") for t in rep.get("threads") or []}
    check(not any(n and n.startswith("loader-") for n in names) and "python3" in names,
          f"MEMTRACE_PYTHON_THREADS=0 still names Python threads: {names}")


# What a script sees of the profile functions, run plainly and under memtrace: the same.
PROFILE_SCRIPT = """
import sys, threading
inside = []
def run():
    inside.append(sys.getprofile())
t = threading.Thread(target=run, name="plain"); t.start(); t.join()
seen = []
def prof(frame, event, arg):
    seen.append(threading.current_thread().name)
threading.setprofile(prof)
t = threading.Thread(target=run, name="mine"); t.start(); t.join()
kinds = ["none" if x is None else "own" if x is prof else "other" for x in inside]
print("memtrace-prof: in_thread=%s mine_seen=%d getprofile_is_own=%d" % (
    ",".join(kinds), "mine" in seen, threading.getprofile() is prof))
"""


@case(60, needs="python_frames")
def case_threads_python_profile():
    """The profile function memtrace registers never shows in a thread's own code, and a
    program's own threading.setprofile works as without memtrace (its threads then keep
    their native names)."""
    script = os.path.join(it.TMP, "prof.py")
    with open(script, "w") as fh:
        fh.write(PROFILE_SCRIPT)
    it.py_sample("py_thread_names.py")  # skips without python3
    plain = it.run([it.PYTHON, script])
    log = os.path.join(it.TMP, "prof.mtr")
    under = it.memtrace("run", "-q", "-o", log, "--", it.PYTHON, script)
    check(plain.returncode == 0 and under.returncode == 0, f"{show(plain)}\n{show(under)}")
    check(under.stdout == plain.stdout,
          f"the script sees something else under memtrace:\n{plain.stdout}\n{under.stdout}")
    names = {t.get("name") for t in it.report_json(log).get("threads") or []}
    check("plain" in names and "MainThread" in names, f"thread names: {names}")
    # Without site (-S) nothing imports threading at start-up: memtrace does not either, and
    # names the threads once the script imports it.
    for code, want in (("import sys; print('threading' in sys.modules)", "False\n"),
                       ("import sys; a = 'threading' in sys.modules; import threading\n"
                        "t = threading.Thread(target=lambda: bytes(100), name='late')\n"
                        "t.start(); t.join(); print(a)", "False\n")):
        log = os.path.join(it.TMP, f"nosite{len(want)}{len(code)}.mtr")
        p = it.memtrace("run", "-q", "-o", log, "--", it.PYTHON, "-S", "-c", code)
        check(p.returncode == 0 and p.stdout == want, f"python3 -S -c {code!r}\n{show(p)}")
        names = {t.get("name") for t in it.report_json(log).get("threads") or []}
        if "late" in code:
            check({"late", "MainThread"} <= names, f"python3 -S, threading imported late: {names}")
