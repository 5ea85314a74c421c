# SPDX-License-Identifier: MIT
# `memtrace lines`: a Python script line by line (issue 17), the import machinery hidden
# or shown, and the README's pytest recipe for CI. Needs the Python frames build.
import json
import os
import re
import shutil
import time

import mt_harness as it
from mt_harness import (Skip, check, show, run, memtrace, json_of, report_json, leaks_json,
                        sample_kv, py_sample, py_record, py_run, py_frames, first_py, PYTHON)

case = it.suite("integration")


def lines_json(log, *extra):
    return json_of("lines", "--format", "json", *extra, log)


def lines_by_number(rep):
    return {row["line"]: row for fn in rep.get("functions") or [] for row in fn["lines"]}


def check_lines_figures(rep, t):
    """The lines whose figures py_lines.py knows itself (its --truth file)."""
    rows = lines_by_number(rep)
    for key in ("list_line", "generator_line", "call_list_line", "call_generator_line",
                "recursive_line"):
        check(t[key] in rows, f"no row for {key} {t[key]}: {sorted(rows)}")
    n = t["list_ints"]
    lst = rows[t["list_line"]]
    own = lst["own"]
    # The list object, its item array and its n ints (free lists are kept empty, so the list
    # object is this line's too, not that of whatever first allocated its memory).
    check(own["end_bytes"] == t["list_bytes"],
          f"list line {t['list_line']} holds {own['end_bytes']} B at the end of the script; the "
          f"script: {t['list_bytes']} B (the list, its array, {n} ints)")
    check(own["end_blocks"] == n + 2, f"list line: {own['end_blocks']} blocks, {n} + 2")
    # The heap's peak comes after the list is whole (nothing later frees as much as it holds).
    check(own["peak_bytes"] == own["end_bytes"],
          f"list line at the peak {own['peak_bytes']} B, at the end {own['end_bytes']} B")
    # Ints from range() above 256 and i + 1000: allocated there (the range's freed at once),
    # plus the array's growth and the comprehension's own objects.
    ints = 2 * n - 257
    check(ints <= own["allocations"] <= ints + 256,
          f"list line: {own['allocations']} allocations, {ints} ints (+ at most 256)")
    # The comprehension's frame and make_ints' are on the same line: one count per stack.
    check(lst["incl"] == own, f"list line, own {own} incl. {lst['incl']}")
    check("for i in range(n)" in (lst.get("text") or ""), f"list line's text: {lst.get('text')}")

    gen = rows[t["generator_line"]]["own"]
    check(t["generator_ints"] <= gen["allocations"] <= t["generator_ints"] + 32,
          f"generator line: {gen['allocations']} allocations, {t['generator_ints']} ints (+32)")
    check(t["generator_int_bytes"] <= gen["bytes_allocated"] <= t["generator_int_bytes"] + 4096,
          f"generator line: {gen['bytes_allocated']} B allocated, {t['generator_int_bytes']} B "
          f"of ints (+4 KiB)")
    check(gen["end_bytes"] == t["total_bytes"] and gen["end_blocks"] == 1,
          f"generator line holds {gen['end_bytes']} B in {gen['end_blocks']} blocks at the end, "
          f"the script keeps only its sum ({t['total_bytes']} B)")

    # A call includes its callee: main's line holds what make_ints' line holds.
    call = rows[t["call_list_line"]]
    check(call["own"]["end_bytes"] == 0 and call["own"]["allocations"] == 0,
          f"the call line allocates nothing itself: {call['own']}")
    check(own["end_bytes"] <= call["incl"]["end_bytes"] <= own["end_bytes"] + 1024 and
          call["incl"]["allocations"] >= own["allocations"],
          f"call line {t['call_list_line']} incl. {call['incl']}, its callee's line {own}")
    cg = rows[t["call_generator_line"]]["incl"]
    check(cg["allocations"] >= gen["allocations"] and cg["end_bytes"] == gen["end_bytes"],
          f"call of the generator's function incl. {cg}, the generator line {gen}")

    # Recursion: the line is in the stack `depth` times, the bytes object counts once.
    rec = rows[t["recursive_line"]]["incl"]
    check(rec["end_bytes"] == t["nested_bytes"] and rec["end_blocks"] == 1,
          f"recursive line incl. {rec['end_bytes']} B in {rec['end_blocks']} blocks, the script "
          f"keeps one object of {t['nested_bytes']} B under {t['depth']} calls")


@case(300, needs="python_frames")
def case_py_lines():
    """`memtrace lines` on a script whose lines' figures it knows: a million ints kept, a
    generator consumed by sum(), a call including its callee, recursion counted once; text,
    JSON and the HTML section agree; tracemalloc's per-line figures are the oracle."""
    truth = os.path.join(it.TMP, "truth.json")
    log, _ = py_record("py_lines.py", "--truth", truth)
    with open(truth) as fh:
        t = json.load(fh)
    rep = lines_json(log)
    check(rep.get("script") is True and rep.get("python_file", "").endswith("/py_lines.py") and
          rep.get("held_at") == "script_end" and rep.get("source_error") is None,
          f"the default file is the script that was run, read from disk: "
          f"{ {k: v for k, v in rep.items() if k != 'functions'} }")
    check_lines_figures(rep, t)
    # Every line of a function with figures is shown, figures or not.
    mk = [f for f in rep["functions"] if f["name"] == "make_ints"]
    check(len(mk) == 1 and [r["line"] for r in mk[0]["lines"]] ==
          list(range(t["list_line"] - 2, t["list_line"] + 1)),
          f"make_ints: its def, its two lines: {mk}")
    # --file by the end of its path; --function by name.
    only = lines_json(log, "--file", "samples/py_lines.py", "--function", "make_ints")
    check([f["name"] for f in only["functions"]] == ["make_ints"] and
          only["functions"][0]["lines"] == mk[0]["lines"], f"--function make_ints: {only}")

    # The text shows the same figures, in memory_profiler's layout.
    p = memtrace("lines", "--no-color", log)
    check(p.returncode == 0 and p.stderr == "", f"memtrace lines\n{show(p)}")
    check(re.search(r"^Line #\s+own\s+incl\.", p.stdout, re.M) and "Line Contents" in p.stdout,
          f"no memory_profiler-like header\n{p.stdout[:3000]}")
    end = lines_by_number(rep)[t["list_line"]]["own"]["allocations"]
    row = re.search(rf"^\s*{t['list_line']}\s.*\s{end:,}\s+{end:,}\s+return \[i \+ 1000",
                    p.stdout, re.M)
    check(row, f"text row of line {t['list_line']} with {end:,} allocations and its source\n"
          f"{p.stdout[:4000]}")

    # The HTML page has the same rows.
    page = os.path.join(it.TMP, "page.html")
    h = memtrace("html", "-o", page, log)
    check(h.returncode == 0, f"memtrace html\n{show(h)}")
    with open(page, encoding="utf-8") as fh:
        html = fh.read()
    m = re.search(rf'<tr data-line="{t["list_line"]}">(.*?)</tr>', html)
    check('id="lines"' in html and m, "no row for the list line in the page's line view")
    cells = dict(re.findall(r'data-fig="(\w+)" data-value="(\d+)"', m.group(1)))
    want = lines_by_number(rep)[t["list_line"]]
    check(int(cells.get("own_end_bytes", -1)) == want["own"]["end_bytes"] and
          int(cells.get("incl_allocations", -1)) == want["incl"]["allocations"],
          f"page {cells}, memtrace lines {want}")

    # tracemalloc, in a plain run, at the end of the script: within 5% on lines above 10 MB.
    tm_path = os.path.join(it.TMP, "tm.json")
    tm = run([PYTHON, "-X", "tracemalloc", py_sample("py_lines.py"), "--tracemalloc", tm_path],
             timeout=300)
    check(tm.returncode == 0, f"python3 -X tracemalloc py_lines.py\n{show(tm)}")
    with open(tm_path) as fh:
        tm_lines = {int(k): v for k, v in json.load(fh).items()}
    big = {k: v for k, v in tm_lines.items() if v > 10 * 1000 * 1000}
    check(t["list_line"] in big, f"tracemalloc's lines above 10 MB: {big}")
    rows = lines_by_number(rep)
    for line, tm_bytes in sorted(big.items()):
        ours = rows.get(line, {}).get("own", {}).get("end_bytes", 0)
        print(f"  line {line}: memtrace {ours} B, tracemalloc {tm_bytes} B")
        check(abs(ours - tm_bytes) <= tm_bytes * 0.05,
              f"line {line}: memtrace holds {ours} B at the end, tracemalloc {tm_bytes} B (5%)")


@case(60, needs="python_frames")
def case_py_lines_errors():
    """`memtrace lines`: one line and a non-zero status for what it cannot show; a source file
    that is gone is said in one line and the figures are still there by line number."""
    d = os.path.join(it.TMP, "gone")
    os.mkdir(d)
    script = os.path.join(d, "small.py")
    with open(script, "w") as fh:
        fh.write("import sys\n"
                 "KEEP = []\n"
                 "def fill(n):\n"
                 "    for i in range(n):\n"
                 "        KEEP.append(bytes(1000 + i))  # line 5: kept\n"
                 "fill(50)\n"
                 "print(sum(map(sys.getsizeof, KEEP)) + sys.getsizeof(KEEP) - sys.getsizeof([]))\n")
    log, p = py_run("small.mtr", script)
    want = int(p.stdout)  # the bytes objects and the list's array, both grown on line 5
    rep = lines_json(log)
    row = lines_by_number(rep).get(5, {})
    check(row.get("own", {}).get("end_bytes") == want and row.get("text") ==
          "        KEEP.append(bytes(1000 + i))  # line 5: kept",
          f"line 5 holds {row}, the script keeps {want} B")
    check(rep["source_changed"] is False, f"an unchanged source is said changed: {rep}")
    # The script edited after the run: the text may not be the code that ran, and lines says so
    # (text, JSON), once.
    st = os.stat(script)
    os.utime(script, (st.st_atime, time.time() + 5))
    check(lines_json(log)["source_changed"] is True, "an edited source is not said changed")
    p = memtrace("lines", "--no-color", log)
    check(p.returncode == 0 and p.stdout.count("modified after the run was recorded") == 1,
          f"an edited source is not said changed once\n{show(p)}")
    os.utime(script, (st.st_atime, st.st_mtime))
    os.rename(script, os.path.join(it.TMP, "small.py"))
    p = memtrace("lines", "--no-color", log)
    check(p.returncode == 0 and p.stdout.count("not read: No such file or directory") == 1,
          f"a missing source is said once\n{show(p)}")
    n = row["own"]["allocations"]
    check(re.search(rf"^\s+5\s.*\s{n}\s+{n}\s*$", p.stdout, re.M),
          f"line 5's figures without its source\n{show(p)}")
    gone = lines_json(log)
    check(gone["source"] is None and gone["source_error"] == "No such file or directory" and
          lines_by_number(gone).get(5, {}).get("own") == row["own"],
          f"JSON without the source: {gone}")
    # the copy the person names, by the end of the recorded path, stands in for it
    p = memtrace("lines", "--format", "json", "--file", "small.py", log, cwd=it.TMP)
    back = json.loads(p.stdout) if p.returncode == 0 else {}
    check(back.get("source") == "small.py" and
          lines_by_number(back).get(5, {}).get("text", "").startswith("        KEEP.append"),
          f"--file small.py from the directory holding a copy\n{show(p)}")

    def fails(args, status, needle):
        q = memtrace("lines", *args)
        check(q.returncode == status and q.stdout == "" and q.stderr.count("\n") == 1 and
              q.stderr.startswith("memtrace: ") and needle in q.stderr,
              f"memtrace lines {' '.join(args)}: exit {status}, one line with {needle!r}\n"
              f"{show(q)}")

    fails(["--file", "nosuch.py", log], 1, "no Python code from 'nosuch.py'")
    fails(["--function", "nosuch", log], 1, "no function 'nosuch'")
    fails(["--bogus", log], 2, "--bogus")
    fails(["--format", "xml", log], 2, "xml")
    native = os.path.join(it.TMP, "native.mtr")
    p = memtrace("run", "-q", "-o", native, "--", "/bin/true")
    check(p.returncode == 0, f"memtrace run /bin/true\n{show(p)}")
    fails([native], 1, "no Python frames")


IMPORT_FILES = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>",
                "<frozen zipimport>")


def import_frames(stack):
    return [f for f in stack if f.get("file") in IMPORT_FILES]


@case(120, needs="python_frames")
def case_py_import_hidden():
    """What a module allocates while it is imported is charged to its own line and to the line
    that imported it, in every report that shows stacks; importlib's frozen frames appear only
    with --show-import-machinery (issue 17)."""
    log, p = py_record("py_import.py")
    kv = sample_kv(p.stdout, "pyimport")
    script = py_sample("py_import.py")
    module, mline, iline = kv["module"], int(kv["module_line"]), int(kv["import_line"])
    blob = int(kv["blob_bytes"])
    want = [("<module>", module, mline), ("<module>", script, iline)]

    def py_lines(stack):
        return [(f.get("function"), f.get("file"), f.get("line")) for f in py_frames(stack)]

    def blob_stack(stacks, what, show=False):
        """The one stack whose innermost Python frame is the module's line."""
        at = [st for st in stacks if py_lines(st)[:1] == want[:1]]
        check(len(at) == 1, f"{what}: {len(at)} stacks start at {module}:{mline}")
        st = at[0]
        if show:
            check(import_frames(st) and py_lines(st)[0] == want[0] and py_lines(st)[-1] == want[1],
                  f"{what} with --show-import-machinery: no importlib frames between the "
                  f"module's line and the import: {py_lines(st)}")
        else:
            check(py_lines(st) == want and not import_frames(st),
                  f"{what}: the blob's stack should be {want}, got {py_lines(st)}")
        return st

    rep = report_json(log, "--top", "1000000")
    sites = rep["top_sites"]
    blob_stack([x["stack"] for x in sites], "report")
    site = [x for x in sites if py_lines(x["stack"])[:1] == want[:1]][0]
    # the bytearray's object and its buffer, 3,000,000 bytes and a header of under 100, held
    # (the line's temporaries are freed)
    check(blob <= site["leaked_bytes"] < blob + 100 and
          site["leaked_bytes"] <= site["bytes"] < blob + 1000,
          f"the module's line allocated {site['bytes']} B, held {site['leaked_bytes']} B; "
          f"the module keeps {blob} B")
    # Nothing else names importlib but the interpreter's own imports at start-up, which have
    # no line of the script's to go to: a stack of that one frame.
    for x in sites:
        imp = import_frames(x["stack"])
        check(not imp or py_frames(x["stack"]) == imp == x["stack"][-1:],
              f"a site still shows importlib among other frames: {py_lines(x['stack'])}")
    pk = json_of("peak", "--format", "json", "--top", "100", log)
    blob_stack([x["stack"] for x in pk["sites"]], "peak")
    lk = leaks_json(log, "--kinds", "all")
    blob_stack([x["stack"] for x in lk["leaks"]], "leaks")
    old = os.path.join(it.TMP, "small.mtr")
    q = memtrace("run", "-q", "-o", old, "--", PYTHON, py_sample("py_held.py"), "10")
    check(q.returncode == 0, f"py_held.py\n{show(q)}")
    d = json_of("diff", "--format", "json", "--top", "0", old, log)
    blob_stack([x["stack"] for x in d["sites"]], "diff")
    # Flame graph and folded stacks: each Python frame is a line, the module's under the import.
    svg = os.path.join(it.TMP, "f.svg")
    f = memtrace("flamegraph", "--cost", "leaked", "-o", svg, log)
    check(f.returncode == 0, f"flamegraph\n{show(f)}")
    with open(svg) as fh:
        text = fh.read()
    base = os.path.basename
    for func, file, line in want:
        check(f"&lt;module&gt; ({base(file)}:{line})</text>" in text,
              f"the flame graph has no frame '<module> ({base(file)}:{line})'")
    # importlib's inner frames: only an import the interpreter makes at start-up (no line of
    # the script's to charge) keeps one frame of the machinery, its outermost.
    inner = "_call_with_frames_removed"
    check(inner not in text, f"the flame graph shows importlib's {inner}")
    fo = memtrace("export", "--to", "folded", "--cost", "leaked", log)
    pair = f"<module> ({base(script)}:{iline});<module> ({base(module)}:{mline}) "
    check(fo.returncode == 0 and any(l.endswith(pair + str(site["leaked_bytes"]))
                                     for l in fo.stdout.splitlines()),
          f"no folded line ending '{pair}{site['leaked_bytes']}'\n{fo.stdout[-1500:]}")
    check(inner not in fo.stdout, "folded stacks show importlib")
    h = memtrace("html", "-o", "-", log)
    check(h.returncode == 0 and inner not in h.stdout and
          f"{base(module)}:{mline}" in h.stdout, f"html\n{h.stdout[-500:]}{h.stderr}")

    # The switch brings the machinery back, in every command.
    rep = report_json(log, "--top", "1000000", "--show-import-machinery")
    blob_stack([x["stack"] for x in rep["top_sites"]], "report", show=True)
    lk = leaks_json(log, "--kinds", "all", "--show-import-machinery")
    blob_stack([x["stack"] for x in lk["leaks"]], "leaks", show=True)
    d = json_of("diff", "--format", "json", "--top", "0", "--show-import-machinery", old, log)
    blob_stack([x["stack"] for x in d["sites"]], "diff", show=True)
    for argv in (["flamegraph", "-o", "-"], ["export", "--to", "folded"], ["html", "-o", "-"],
                 ["peak"], ["fragmentation", "--top", "1000"]):
        q = memtrace(*argv, "--show-import-machinery", log)
        check(q.returncode == 0, f"{argv[0]} --show-import-machinery\n{show(q)}")
        if argv[0] != "fragmentation":  # its sites depend on the heap's layout
            check(inner in q.stdout, f"{argv[0]} --show-import-machinery: no importlib")


@case(900, needs="python_frames")
def case_py_pytest_recipe():
    """The README's recipe for CI: `memtrace run --error-exitcode` around `python3 -m pytest`
    fails the run on a test that leaves memory held at the end of the session (the end of the
    script, issue 17) or on a heap peak above a limit, naming the test's line in the last line
    of stderr; a clean suite passes with pytest's own output unchanged."""
    py_sample("py_leak.py")  # skips without /usr/bin/python3
    if run([PYTHON, "-c", "import pytest"]).returncode != 0:
        raise Skip(f"pytest is not installed for {PYTHON} (Debian: apt-get install python3-pytest)")
    suite = os.path.join(it.TMP, "suite")
    shutil.copytree(os.path.join(it.ARGS.source_root, "samples", "pytest_recipe"), suite)

    def marked(name, mark):
        with open(os.path.join(suite, name)) as f:
            return next(i for i, l in enumerate(f, 1) if l.rstrip().endswith(f"# {mark}"))

    pytest = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    recipe = ["run", "-q", "--error-exitcode", "3", "--fail-leaked-above", "64K",
              "--fail-peak-above", "32MiB"]

    def under(name, *files):
        log = os.path.join(it.TMP, name + ".mtr")
        p = memtrace(*recipe, "-o", log, "--", *pytest, *files, cwd=suite, env=env, timeout=600)
        check(os.path.isfile(log), f"no log for the {name} suite\n{show(p)}")
        return log, p

    def same_output(p, files):
        plain = run([*pytest, *files], cwd=suite, env=env, timeout=300)
        untimed = lambda out: re.sub(r" in \d+\.\d+s", " in Ts", out)
        check(untimed(p.stdout) == untimed(plain.stdout),
              f"pytest's output changed under memtrace:\n{p.stdout}\nplain:\n{plain.stdout}")

    # A clean suite: exit 0, nothing from memtrace, pytest's output as without it.
    clean = ["test_clean.py"]
    log, p = under("clean", *clean)
    check(p.returncode == 0 and p.stderr == "", f"the clean suite under the recipe\n{show(p)}")
    same_output(p, clean)
    check(memtrace("leaks", "--error-exitcode", "4", "--fail-leaked-above", "64K", log)
          .returncode == 0, "memtrace leaks on the clean suite's log")

    # One test leaves 1,000,000 bytes in a module-level list.
    line = marked("test_leak.py", "the leak")
    log, p = under("leak", *clean, "test_leak.py")
    same_output(p, [*clean, "test_leak.py"])
    last = (p.stderr.splitlines() or [""])[-1]
    m = re.fullmatch(r"memtrace: leak check: exit status 3 \(--error-exitcode\): ([\d,]+) bytes "
                     r"not freed at the end of the script \(above --fail-leaked-above 64K\), the "
                     rf"largest allocated at test_leak\.py:{line} in test_fills_cache; "
                     rf"{re.escape(PYTHON)} itself exited 0; see memtrace leaks "
                     rf"{re.escape(log)}", last)
    check(p.returncode == 3 and m, f"the leaking suite: exit 3 and the reason\n{show(p)}")
    held = int(m.group(1).replace(",", ""))
    check(1_000_000 <= held < 1_000_000 + 65536, f"{held} bytes held by the tests' code")
    rep = leaks_json(log)
    top = rep["leaks"][0]
    f = first_py(top["stack"])
    check(rep["python_script_end"] and top["kind"] == "unclassified" and
          f.get("function") == "test_fills_cache" and f.get("line") == line and
          1_000_000 <= top["bytes"] <= held, f"memtrace leaks: the top leak is {top}")
    q = memtrace("leaks", "--error-exitcode", "4", "--fail-leaked-above", "64K", log)
    check(q.returncode == 4, f"memtrace leaks --error-exitcode 4 on the leaking suite\n{show(q)}")
    # After finalization the list is freed: the scan (valgrind's view) has no such leak.
    fin = leaks_json(log, "--after-finalization", "--kinds", "all")
    check(fin["classified"] and not fin["python_script_end"] and
          not any(first_py(k["stack"]).get("line") == line for k in fin["leaks"]
                  if k["kind"] != "reachable"), "--after-finalization lists the test's leak")

    # One test makes the heap's peak go above 32 MiB.
    line = marked("test_peak.py", "the peak")
    log, p = under("peak", *clean, "test_peak.py")
    last = (p.stderr.splitlines() or [""])[-1]
    m = re.fullmatch(r"memtrace: peak check: exit status 3 \(--error-exitcode\): peak heap .* "
                     r"is above --fail-peak-above 32MiB; the most held then, ([\d,]+) bytes, "
                     rf"allocated at test_peak\.py:{line} in test_big_buffer; "
                     rf"{re.escape(PYTHON)} itself exited 0", last)
    check(p.returncode == 3 and m, f"the suite with a big test: exit 3 and the reason\n{show(p)}")
    check(48_000_000 <= int(m.group(1).replace(",", "")) < 48_001_024, f"held: {m.group(1)}")
    same_output(p, [*clean, "test_peak.py"])
    # The same limit on the log afterwards.
    r = memtrace("report", "--fail-peak-above", "32MiB", log)
    check(r.returncode == 1 and r.stderr.startswith("memtrace: report: peak heap ") and
          f"test_peak.py:{line} in test_big_buffer" in r.stderr, f"report --fail-peak-above\n{show(r)}")
    r = memtrace("report", "--fail-peak-above", "1G", log)
    check(r.returncode == 0 and r.stderr == "", f"report --fail-peak-above 1G\n{show(r)}")
