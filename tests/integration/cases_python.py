# SPDX-License-Identifier: MIT
# Python: frames, allocator domains, native caches, leaks and fragmentation at the end of the
# script. Every case needs the Python frames build (CPython 3.11's headers).
import collections
import os
import platform
import re

import mt_harness as it
from mt_harness import (Skip, check, show, run, memtrace, json_of, report_json, leaks_json,
                        sample_kv, py_sample, py_record, py_run, py_frames, first_py, PYTHON)

case = it.suite("integration")


# ---- Python: frames, allocator domains, leaks at the end of the script ----

@case(60, needs="python_frames")
def case_py_leak():
    log, p = py_record("py_leak.py")
    kv = sample_kv(p.stdout, "pyleak")
    line, nbytes, blocks = int(kv["line"]), int(kv["bytes"]), int(kv["blocks"])
    rep = leaks_json(log)
    check(rep.get("python_script_end"), f"no end-of-script marker in the leak report: {rep}")
    leaks = rep.get("leaks") or []
    check(leaks, "no leaks listed")
    top = leaks[0]
    f = (top.get("stack") or [{}])[0]
    check(f.get("python") is True and f.get("function") == "handle" and f.get("line") == line
          and (f.get("file") or "").endswith("py_leak.py"),
          f"top leak should be handle at py_leak.py:{line}: {f}")
    check(top.get("bytes") == nbytes and top.get("blocks") == blocks,
          f"top leak holds {top.get('bytes')} B in {top.get('blocks')} blocks, "
          f"the script says {nbytes} in {blocks}")
    check(f.get("module") is None, f"Python frames have no module: {f}")
    # No double counting: pymalloc hands big requests to malloc, which must not be a second
    # event. Exactly `blocks` blocks of 100,033 bytes are live at the end of the script.
    same = sum(k.get("blocks", 0) for k in leaks
               if k.get("blocks") and k.get("bytes") == k["blocks"] * (nbytes // blocks))
    check(same == blocks, f"{same} blocks of {nbytes // blocks} B live, expected {blocks}")
    # The text report marks Python frames.
    t = memtrace("leaks", log)
    check(re.search(rf"handle\s+\S*py_leak.py:{line}\s+\[python\]", t.stdout),
          f"text leak report has no 'handle  py_leak.py:{line}  [python]'\n{show(t)}")


@case(120, needs="python_frames")
def case_py_peak():
    log, p = py_record("py_peak.py")
    kv = sample_kv(p.stdout, "pypeak")
    peak_line, churn_line = int(kv["peak_line"]), int(kv["churn_line"])
    held = int(kv["peak_bytes"])
    rep = json_of("peak", "--format", "json", "--top", "1000", log)
    sites = rep.get("sites") or []
    check(sites, f"no sites at the peak: {rep}")
    f = first_py(sites[0].get("stack") or [])
    check(f.get("line") == peak_line and (f.get("file") or "").endswith("py_peak.py"),
          f"top site at the peak should be py_peak.py:{peak_line}: {sites[0]}")
    # + the list object itself, unless CPython took it from its free list
    check(sites[0].get("bytes") in (held, held + 56),
          f"the peak line holds {sites[0].get('bytes')} B, the script says {held} (+56)")
    for s in sites:
        for fr in py_frames(s.get("stack") or []):
            check(fr.get("line") != churn_line or fr.get("function") != "churn",
                  f"the churn line {churn_line} holds nothing at the peak: {s}")
    # tracemalloc's own figure for the same script (its peak of traced memory).
    t = run([PYTHON, "-X", "tracemalloc", py_sample("py_peak.py")])
    check(t.returncode == 0, f"python3 -X tracemalloc py_peak.py\n{show(t)}")
    tm = int(sample_kv(t.stdout, "pypeak")["tracemalloc_peak"])
    ours = rep.get("peak_heap_bytes", 0)
    check(abs(ours - tm) <= tm / 10, f"peak {ours} B, tracemalloc says {tm} B (10% allowed)")


@case(300, needs="python_frames")
def case_py_pyalloc():
    script = py_sample("pyalloc.py")
    with open(script) as fh:
        line = 1 + next(i for i, l in enumerate(fh, 1) if l.startswith("def make_record"))
    log, _ = py_record("pyalloc.py", "30000")
    rep = json_of("peak", "--format", "json", log)
    top = (rep.get("sites") or [{}])[0]
    f = (top.get("stack") or [{}])[0]
    check(f.get("python") and f.get("function") == "make_record" and f.get("line") == line,
          f"top site at the peak should be make_record pyalloc.py:{line}: {f}")
    code = ("import runpy, sys, tracemalloc; tracemalloc.start(); "
            f"sys.argv = [{script!r}, '30000']; runpy.run_path({script!r}, run_name='__main__'); "
            "print('tracemalloc_peak', tracemalloc.get_traced_memory()[1])")
    t = run([PYTHON, "-c", code], timeout=300)
    m = re.search(r"^tracemalloc_peak (\d+)$", t.stdout, re.M)
    check(t.returncode == 0 and m, f"tracemalloc run failed\n{show(t)}")
    tm, ours = int(m.group(1)), rep.get("peak_heap_bytes", 0)
    check(abs(ours - tm) <= tm / 10, f"peak {ours} B, tracemalloc says {tm} B (10% allowed)")


@case(60, needs="python_frames")
def case_py_off():
    log, p = py_record("py_leak.py", opts=("--python=off",))
    kv = sample_kv(p.stdout, "pyleak")
    rep = report_json(log, "--top", "1000")
    sites = rep.get("top_sites") or []
    check(sites, f"no sites: {rep}")
    for s in sites:
        check(not py_frames(s.get("stack") or []), f"--python=off recorded a Python frame: {s}")
    # Native-only stacks still count each big block once (through malloc/calloc).
    big = int(kv["bytes"]) // int(kv["blocks"])
    sizes = rep.get("allocations_by_kind") or {}
    check(sizes.get("PyObject_Malloc") == 0 and sizes.get("PyMem_Malloc") == 0,
          f"--python=off must not hook the allocator domains: {sizes}")
    check(any(s.get("bytes") == big * int(kv["blocks"]) for s in sites) or
          any(s.get("bytes", 0) >= big * int(kv["blocks"]) for s in sites),
          f"no native site allocated the {kv['blocks']} blocks of {big} B: {sites[:3]}")


@case(60, needs="python_frames")
def case_py_numpy():
    log, p = py_record("py_numpy.py")
    if "memtrace-pynumpy: skip" in p.stdout:
        raise Skip("numpy is not installed (apt-get install python3-numpy)")
    kv = sample_kv(p.stdout, "pynumpy")
    line, nbytes = int(kv["line"]), int(kv["bytes"])
    rep = report_json(log, "--top", "1000")
    hits = [s for s in rep.get("top_sites") or [] if s.get("bytes") == nbytes]
    check(hits, f"no site allocated the {nbytes} B array: {rep.get('top_sites', [])[:3]}")
    stack = hits[0].get("stack") or []
    pi = next((i for i, f in enumerate(stack) if f.get("python")), None)
    mi = next((i for i, f in enumerate(stack) if f.get("python") and f.get("function") == "make"
               and f.get("line") == line), None)
    check(pi is not None and mi is not None,
          f"the array's stack should hold make at py_numpy.py:{line}: {stack}")
    check(any("numpy" in (f.get("module") or "") and not f.get("python") for f in stack[:pi]),
          f"numpy's C frames should be above the Python frames: {stack}")


@case(60, needs="python_frames")
def case_py_threads():
    log, p = py_record("py_threads.py")
    kv = sample_kv(p.stdout, "pythreads")
    line, blocks, nbytes = int(kv["line"]), int(kv["blocks"]), int(kv["bytes"])
    rep = leaks_json(log)
    at = [k for k in rep.get("leaks") or []
          if first_py(k.get("stack") or []).get("line") == line
          and "work" in first_py(k.get("stack") or []).get("function", "")]
    got_blocks = sum(k.get("blocks", 0) for k in at)
    got_bytes = sum(k.get("bytes", 0) for k in at)
    # Each thread's list (object and array) is allocated on the same line: 4 x 2 blocks more,
    # and the first KEEP[tid] = ... makes KEEP's key table.
    check(blocks <= got_blocks <= blocks + 9 and nbytes <= got_bytes <= nbytes + 4 * 1024,
          f"threads' line {line}: {got_bytes} B in {got_blocks} blocks, the script holds "
          f"{nbytes} B in {blocks} blocks (+ 4 lists)")


@case(60, needs="python_frames")
def case_py_callback():
    """C code between two Python frames stays in the stack: a callback that libc's qsort calls
    (through ctypes) shows compare, then qsort, then the line that called qsort."""
    log, p = py_record("py_callback.py")
    kv = sample_kv(p.stdout, "pycallback")
    cb_line, caller_line = int(kv["callback_line"]), int(kv["caller_line"])
    calls, nbytes = int(kv["calls"]), int(kv["bytes"])
    rep = leaks_json(log)
    at = [k for k in rep.get("leaks") or []
          if first_py(k.get("stack") or []).get("function") == "compare"
          and first_py(k.get("stack") or []).get("line") == cb_line]
    got_blocks = sum(k.get("blocks", 0) for k in at)
    got_bytes = sum(k.get("bytes", 0) for k in at)
    # the kept bytes objects, and the list's item array grown on the same line
    check(calls <= got_blocks <= calls + 1 and nbytes <= got_bytes <= nbytes + 16 * calls + 64,
          f"compare:{cb_line} holds {got_bytes} B in {got_blocks} blocks, the script kept "
          f"{nbytes} B in {calls} objects")
    for k in at:
        names = [f.get("function") or "" for f in k.get("stack") or []]
        i = names.index("compare")
        j = names.index("sort_them") if "sort_them" in names else -1
        between = names[i + 1:j] if j > i else []
        check(any("qsort" in n for n in between),
              f"no qsort between compare and sort_them: {names}")
        line = (k.get("stack") or [])[j].get("line")
        check(line == caller_line, f"sort_them is at line {line}, the call to qsort at "
              f"{caller_line}")


@case(60, needs="python_frames")
def case_py_generator():
    log, p = py_record("py_gen.py")
    kv = sample_kv(p.stdout, "pygen")
    gen_line, cons_line = int(kv["gen_line"]), int(kv["consumer_line"])
    rep = json_of("peak", "--format", "json", log)
    top = (rep.get("sites") or [{}])[0]
    fr = py_frames(top.get("stack") or [])
    check(len(fr) >= 2 and fr[0].get("function") == "produce" and fr[0].get("line") == gen_line
          and fr[1].get("function") == "consume" and fr[1].get("line") == cons_line,
          f"top site should be produce:{gen_line} called from consume:{cons_line}: {fr}")
    # At the peak, the bytes object being made has its argument tuple (bytes(30_000)) live too.
    extra_b, extra_n = top.get("bytes", 0) - int(kv["bytes"]), top.get("blocks", 0) - int(kv["blocks"])
    check((extra_b, extra_n) == (int(kv["argtuple"]), 1),
          f"the generator's line holds {top.get('bytes')} B in {top.get('blocks')} blocks, "
          f"the script says {kv['bytes']} in {kv['blocks']} (+ a {kv['argtuple']} B tuple)")


@case(60, needs="python_frames")
def case_py_arenas():
    plain = run([PYTHON, py_sample("py_arenas.py")])
    check(plain.returncode == 0, f"python3 py_arenas.py\n{show(plain)}")
    kv = sample_kv(plain.stdout, "pyarenas")
    if kv["highwater"] == "unknown":
        raise Skip("this python3 has no pymalloc statistics")
    hw, cur = int(kv["highwater"]), int(kv["current"])
    log, _ = py_record("py_arenas.py")
    rep = json_of("fragmentation", "--format", "json", log)
    pa = rep.get("python_arenas") or {}
    # The same script under memtrace: the interpreter's own objects may differ by a few (the
    # end-of-script hook), hence one arena either way.
    check(abs(pa.get("peak_arenas", -99) - hw) <= 1,
          f"peak arenas {pa.get('peak_arenas')}, pymalloc's high-water mark is {hw}: {pa}")
    check(pa.get("moment") == "script_end" and abs(pa.get("arenas", -99) - cur) <= 1,
          f"arenas at the end of the script {pa.get('arenas')}, pymalloc says {cur}: {pa}")
    check(pa.get("arena_bytes") == pa.get("arenas") * (1 << 20),
          f"3.11's arenas are 1 MiB each: {pa}")
    full = pa.get("fullness") or {}
    check(full.get("under_25", 0) * 10 >= pa.get("arenas", 0) * 8,
          f"most arenas hold only the 1 in 200 survivors (under 25% full): {pa}")


@case(240, needs="python_frames")
def case_py_native_cache():
    """The native part of Python allocations' stacks is reused per call path (the recorder's
    cache): every site, its stack and its figures must be what a full unwind gives."""
    code = ("import json\n"
            "DOC = json.dumps([{'a': [1, {'b': 'x' * (i % 9), 'c': [i, None]}]} for i in range(50)])\n"
            "def work(fns):\n"
            "    keep = []\n"
            "    for i in range(300):\n"
            "        keep.append(json.loads(DOC))  # C recursion: the scanner at many depths\n"
            "        for f in fns:\n"
            "            keep.append(f(i % 7 + 1))  # one line, many C call paths\n"
            "        # a callback from C (sorted calls the key): C frames between Python frames\n"
            "        keep.append(sorted(range(i % 5 + 2), key=lambda v: [v] * (v + 1)))\n"
            "    return keep\n"
            "fns = (lambda n: [0] * n, str, bytearray, lambda n: {i: i for i in range(n)})\n"
            "try:\n"
            "    import numpy as np\n"
            "    fns += (np.ones, np.zeros, np.arange)\n"
            "except ImportError:\n"
            "    pass\n"
            "k = work(fns)\n"
            "print(len(k))\n")
    # The script alone in its directory: the import system lists it (sys.path[0]), and the
    # first run's log there would change what the second run allocates.
    os.mkdir(os.path.join(it.TMP, "script"))
    script = os.path.join(it.TMP, "script", "cache.py")
    with open(script, "w") as fh:
        fh.write(code)
    runs = {}
    for cache in ("1", "0"):
        env = dict(os.environ, MEMTRACE_PYTHON_CACHE=cache)
        log, p = py_run(f"cache{cache}.mtr", script, env=env)
        rep = report_json(log, "--top", "1000000")
        # The sites under work(): the rest of the run (imports, library start-up that seeds
        # from the system) is not the same from one run to the next.
        sites = {}
        for s in rep.get("top_sites") or []:
            st = s.get("stack") or []
            if not any(f.get("function") == "work" and (f.get("file") or "").endswith("cache.py")
                       for f in st):
                continue
            key = tuple((f.get("function"), f.get("file"), f.get("line"), f.get("module"),
                         None if f.get("python") else f.get("address"))
                        for f in st)
            sites[key] = (s.get("allocations"), s.get("bytes"))
        runs[cache] = sites
    check(any(any((f[1] or "").endswith("cache.py") for f in k) for k in runs["1"]),
          "no site in cache.py was recorded")
    check(any(any(f[0] == "work.<locals>.<lambda>" for f in k) for k in runs["1"]),
          "the key function's allocations (a callback from sorted) were not recorded")
    check(any(any(f[0] == "JSONDecoder.raw_decode" for f in k) for k in runs["1"]),
          "json.loads's allocations were not recorded")
    diff = set(runs["1"].items()) ^ set(runs["0"].items())
    check(not diff, f"{len(diff)} sites differ with and without the native-stack cache: "
          f"{sorted(diff, key=str)[:4]}")


@case(240, needs="python_frames")
def case_py_nested_cache():
    """Stacks nested through C (an import runs a module body; class bodies, exec and sorted's
    key inside it) are found from cached prefixes and native tails (recorder.c): every site,
    its whole stack with native frames, and its figures must be what the full walk gives
    (MEMTRACE_PYTHON_CACHE=0), and the module's known allocations must all be there."""
    pkg = os.path.join(it.TMP, "nested", "nestpkg")
    os.makedirs(pkg)
    files = {
        "__init__.py": "from . import outer\n",
        # the import below runs inner's body from inside outer's: two module bodies deep
        "outer.py": ("from .inner import make\n"
                     "OUTER = [make(600 + i) for i in range(20)]\n"
                     "import importlib\n"
                     "MODS = [importlib.import_module(f'nestpkg.leaf{i}') for i in range(4)]\n"),
        "inner.py": ("def make(n):\n"
                     "    return bytes(n)  # MAKE: the only allocation of this line\n"
                     "BLOCKS = [make(5000 + i) for i in range(40)]\n"
                     "class K:  # a class body: called from C by __build_class__\n"
                     "    ITEMS = [make(7000) for _ in range(25)]\n"
                     "ROWS = sorted(range(30), key=lambda v: make(300 + v))  # a callback from C\n"
                     "exec('E = [make(900) for _ in range(35)]', {'make': make})\n"),
    }
    for i in range(4):
        files[f"leaf{i}.py"] = ("from .inner import make\n"
                                f"LEAF = [make({1000 * (i + 1)}) for _ in range({10 + i})]\n")
    for name, text in files.items():
        with open(os.path.join(pkg, name), "w") as fh:
            fh.write(text)
    # inner.make's line per call: the bytes object (a 33-byte header and n bytes) and the
    # call's 1-tuple of arguments (48 B: the free lists are kept empty, python_freelists.c)
    sizes = ([5000 + i for i in range(40)] + [7000] * 25 + [300 + v for v in range(30)] +
             [900] * 35 + [600 + i for i in range(20)] +
             [1000 * (i + 1) for i in range(4) for _ in range(10 + i)])
    want = (2 * len(sizes), sum(33 + n + 48 for n in sizes))
    make_file = os.path.join(pkg, "inner.py")
    dump = os.path.join(it.ARGS.build_root, "tests", "integration", "mt_stackdump")
    runs, stacks = {}, {}
    for cache in ("1", "0"):
        log = os.path.join(it.TMP, f"nested{cache}.mtr")
        # The sites are compared byte for byte, so both runs get one memory layout and one
        # hash seed: python3 is not PIE and its heap starts up to 1 GiB after it, so about
        # one run in eight has the compiler's ints of arena addresses (PySymtable_Lookup)
        # above 2**30, four bytes bigger each.
        env = dict(os.environ, MEMTRACE_PYTHON_CACHE=cache, PYTHONDONTWRITEBYTECODE="1",
                   PYTHONHASHSEED="0")
        p = run(["setarch", platform.machine(), "--addr-no-randomize", it.ARGS.memtrace,
                 "run", "-q", "-o", log, "--", PYTHON, "-c", "import nestpkg"],
                cwd=os.path.dirname(pkg), env=env)
        check(p.returncode == 0, f"memtrace run (cache {cache})\n{show(p)}")
        # every allocation's whole stack as recorded, the interpreter's frames included
        d = run([dump, log])
        check(d.returncode == 0, f"mt_stackdump {log}\n{show(d)}")
        stacks[cache] = collections.Counter(ln for ln in d.stdout.splitlines() if pkg in ln)
        rep = report_json(log, "--top", "1000000", "--show-import-machinery")
        sites, made = {}, [0, 0]
        for s in rep.get("top_sites") or []:
            st = s.get("stack") or []
            if not any((f.get("file") or "").startswith(pkg) for f in st):
                continue
            key = tuple((f.get("function"), f.get("file"), f.get("line"), f.get("module"),
                         None if f.get("python") else f.get("address"))
                        for f in st)
            sites[key] = (s.get("allocations"), s.get("bytes"))
            first_py = next((f for f in st if f.get("python")), {})
            if first_py.get("file") == make_file and first_py.get("line") == 2:
                made[0] += s.get("allocations") or 0
                made[1] += s.get("bytes") or 0
        check(tuple(made) == want,
              f"cache {cache}: make()'s line: {made[0]} allocations, {made[1]} B; the modules "
              f"made {want[0]} blocks, {want[1]} B")
        runs[cache] = sites
    check(any(any(f[0] == "K" for f in k) for k in runs["1"]), "no site in the class body")
    check(any(any(f[0] == "<lambda>" for f in k) for k in runs["1"]),
          "no site in sorted's key function")
    check(any(any(f[1] is not None and not f[1].endswith(".py") and f[4] is not None
                  for f in k[1:]) for k in runs["1"]),
          "no native frame between the Python frames of a nested stack")
    diff = set(runs["1"].items()) ^ set(runs["0"].items())
    check(not diff, f"{len(diff)} sites differ with and without the caches: "
          f"{sorted(diff, key=str)[:4]}")
    check(sum(stacks["1"].values()) >= want[0], "mt_stackdump: too few stacks in the package")
    # the interpreter's own frames are hidden in every report of a Python stack: the recorder
    # leaves them out (python_merge.c), so that an import's million stacks make 9 times fewer
    # trace nodes
    interp = [ln for ln in stacks["1"]
              if any(fr.startswith("python3") for fr in ln.split("|", 1)[1].split(";"))]
    check(not interp, f"mt_stackdump: {len(interp)} recorded stacks with a frame of the "
          f"interpreter's code, e.g. {interp[:1]}")
    extra, missing = stacks["1"] - stacks["0"], stacks["0"] - stacks["1"]
    check(not extra and not missing,
          f"recorded stacks differ with and without the caches: {sum(extra.values())} only "
          f"with, {sum(missing.values())} only without, e.g. "
          f"{(list(extra) + list(missing))[0][:1500]}" if extra or missing else "")


def recorded_stacks(log):
    """Every allocation of LOG as (size, frames), its whole recorded stack innermost first
    (mt_stackdump: file:function:line for a Python frame, "[gap N]" for N left out)."""
    dump = os.path.join(it.ARGS.build_root, "tests", "integration", "mt_stackdump")
    d = run([dump, log])
    check(d.returncode == 0, f"mt_stackdump {log}\n{show(d)}")
    out = []
    for ln in d.stdout.splitlines():
        size, _, stack = ln.partition("|")
        if size.isdigit():
            out.append((int(size), stack.split(";")))
    return out


@case(60, needs="python_frames")
def case_py_line_cursor():
    """A code object's line lookups go on from where its last one ended (python_frames.c:
    mt_py_line_of): code made again and again from texts that differ only in their lines
    (exec of generated source: the same name, file and first line, often at the dead one's
    address) must each be read in their own line table. Each exec allocates one bytearray of
    a size that says which line it is on: odd, unlike KEEP's growth (8-byte pointers)."""
    script = os.path.join(it.TMP, "cursor.py")
    with open(script, "w") as fh:
        fh.write("KEEP = []\n"
                 "for i in range(3000):\n"
                 "    src = '\\n' * (i % 5) + f'KEEP.append(bytearray({2000 + 2 * i}))\\n'\n"
                 "    exec(compile(src, 'cur.py', 'exec'), {'KEEP': KEEP})\n")
    log, _ = py_run("cursor.mtr", script)
    got = {}
    for size, frames in recorded_stacks(log):
        if not 2001 <= size <= 8000 or size % 2 == 0:
            continue
        py = next((f for f in frames if f.startswith("cur.py:")), None)
        if py:
            got[(size - 2001) // 2] = py
    want = {i: f"cur.py:<module>:{i % 5 + 1}" for i in range(3000)}
    wrong = {i: got.get(i) for i in want if got.get(i) != want[i]}
    check(not wrong, f"{len(wrong)} of 3000 bytearrays at the wrong line, e.g. "
          f"{sorted(wrong.items())[:4]}")


@case(120, needs="python_frames")
def case_py_deep_import():
    """A chain of 18 imports, each run through C (importlib, exec): the stacks of the deepest
    module bodies are over 300 frames, native and Python merged. Every module's allocation
    must keep the script's own line as its outermost Python frame: a stack cut at 256 frames
    (what the recorder kept before) lost its outer frames, and with them the line a Python
    user looks for (`memtrace lines`)."""
    depth = 18
    top = os.path.join(it.TMP, "deep")
    pkg = os.path.join(top, "deepchain")
    os.makedirs(pkg)
    with open(os.path.join(pkg, "__init__.py"), "w") as fh:
        fh.write("")
    for i in range(depth):
        with open(os.path.join(pkg, f"m{i}.py"), "w") as fh:
            if i + 1 < depth:
                fh.write(f"import deepchain.m{i + 1}\n")
            # bytearray(n) allocates n + 1 bytes: odd sizes, one per module
            fh.write(f"KEEP = bytearray({3000 + 2 * i})\n")
    script = os.path.join(top, "main.py")
    with open(script, "w") as fh:
        fh.write("import deepchain.m0\n")
    log, _ = py_run("deep.mtr", script, cwd=top)
    found, deepest = {}, 0
    for size, frames in recorded_stacks(log):
        deepest = max(deepest, len(frames))
        i = (size - 3001) // 2
        if size % 2 == 1 and 0 <= i < depth:
            mod = next((f for f in frames if f.startswith(os.path.join(pkg, f"m{i}.py:"))), None)
            if mod:
                found[i] = any(f == f"{script}:<module>:1" for f in frames)
    check(sorted(found) == list(range(depth)),
          f"modules whose allocation was not found: {sorted(set(range(depth)) - set(found))}")
    lost = [i for i in range(depth) if not found[i]]
    check(not lost, f"{len(lost)} of {depth} modules' allocations without the script's line "
          f"(the deepest is {deepest} frames): modules {lost}")
    # The interpreter's own native frames (some 16 per level: over 256 in all, what the
    # recorder kept before) are not recorded: its Python frames say how deep the stack went.
    deepest_py = max(sum(1 for f in frames if ".py:" in f or "<frozen" in f)
                     for _, frames in recorded_stacks(log))
    check(deepest_py >= 100, f"the deepest stack has {deepest_py} Python frames ({deepest} in "
          f"all): the case tests nothing")


@case(60, needs="python_frames")
def case_py_deep_recursion():
    """A recursion 600 deep: a stack keeps its innermost 95 Python frames, a gap frame that
    counts the ones left out, and its outermost 32, so the script's own line stays at its root
    (python_frames.c: mt_py_capture_whole); with 128 frames or fewer, every frame. Each level
    allocates one bytearray whose odd size says its depth."""
    script = os.path.join(it.TMP, "recurse.py")
    with open(script, "w") as fh:
        fh.write("import sys\n"
                 "sys.setrecursionlimit(10000)\n"
                 "def down(n):\n"
                 "    KEEP.append(bytearray(5000 + 2 * n))\n"
                 "    if n:\n"
                 "        down(n - 1)\n"
                 "KEEP = []\n"
                 "down(600)\n")
    log, _ = py_run("recurse.mtr", script)
    seen, wrong = set(), []
    for size, frames in recorded_stacks(log):
        if size % 2 == 0 or not 5001 <= size <= 6201:
            continue
        py = [f for f in frames if f.startswith(script + ":") or f.startswith("[gap")]
        if not py or py[0] != f"{script}:down:4":
            continue
        n = (size - 5001) // 2
        seen.add(n)
        total = 1 + (601 - n)  # <module> and the down frames
        gaps = [int(f[5:-1]) for f in py if f.startswith("[gap")]
        downs = sum(f == f"{script}:down:6" for f in py) + 1
        want = (([], 601 - n) if total <= 128 else ([total - 127], 126))
        if py[-1] != f"{script}:<module>:8" or (gaps, downs) != want:
            wrong.append((n, py[-1], gaps, downs, want))
    check(seen == set(range(601)), f"{601 - len(seen)} levels' allocations not found")
    check(not wrong, f"{len(wrong)} of 601 levels with the wrong frames, e.g. {wrong[:3]}")


@case(60, needs="python_frames")
def case_py_deep_callback():
    """Recursions 600 deep through C (`map(f, [x])`, a `sorted(key=...)` callback): a frame
    the 128-frame cut leaves out was entered from C, so the stack used to keep its innermost
    128 Python frames only and lost the script's lines at its root. The stack must keep both
    ends (python_frames.c: mt_py_deep_capture): the allocation's line innermost, the line of
    main that started the recursion and the module's line outermost, a gap frame that counts
    exactly the Python frames left out, the exact bytes and blocks, and at most 384 frames."""
    deep_callback_check("py_deep_callback.mtr", None)


@case(120, needs="python_frames")
def case_py_deep_callback_libunwind():
    """py-deep-callback with libunwind for every native frame (MEMTRACE_FAST_UNWIND=0): such
    a stack used to keep its innermost 128 Python frames only, the script's lines lost."""
    deep_callback_check("py_deep_callback_unw.mtr", dict(os.environ, MEMTRACE_FAST_UNWIND="0"))


def deep_callback_check(log_name, env):
    """py-deep-callback's checks on a run of samples/py_deep_callback.py with env."""
    log, p = py_run(log_name, py_sample("py_deep_callback.py"), env=env)
    kv = sample_kv(p.stdout, "pydeep")
    depth, main_line = int(kv["depth"]), int(kv["main_line"])
    gap_re = re.compile(r"^\[(\d+) Python frames not shown\]$")

    def check_stack(where, stack, fn, line, start):
        py = py_frames(stack)
        names = [(f.get("function"), f.get("line")) for f in py]
        check(py and py[0].get("function") == fn and py[0].get("line") == line
              and (py[0].get("file") or "").endswith("py_deep_callback.py"),
              f"{where}: innermost frame should be {fn} at line {line}: {names[:3]}")
        check(names[-2:] == [("main", start), ("<module>", main_line)],
              f"{where}: outermost frames should be main:{start}, <module>:{main_line}: "
              f"{names[-4:]} ({len(stack)} frames)")
        gaps = [int(m.group(1)) for m in (gap_re.match(f.get("function") or "") for f in py) if m]
        kept = sum(1 for f in py if f.get("function") == fn)
        check(len(gaps) == 1 and kept + gaps[0] == depth + 1,
              f"{where}: {kept} {fn} frames and gaps {gaps}: want one gap, {depth + 1} in all")
        check(len(py) <= 128, f"{where}: {len(py)} Python frames, at most 128")

    rep = leaks_json(log)
    leaks = rep.get("leaks") or []
    sites = json_of("report", "--format", "json", "--top", "0", log).get("top_sites") or []
    for what, fn in (("map", "via_map"), ("sorted", "by_key")):
        line, nbytes = int(kv[f"{what}_line"]), int(kv[f"{what}_bytes"])
        blocks, start = int(kv[f"{what}_blocks"]), int(kv[f"{what}_start"])
        mine = [k for k in leaks if first_py(k.get("stack") or []).get("line") == line]
        check(len(mine) == 1, f"{what}: {len(mine)} leaks at line {line}, want 1")
        check(mine[0].get("bytes") == nbytes and mine[0].get("blocks") == blocks,
              f"{what}: {mine[0].get('bytes')} B in {mine[0].get('blocks')} blocks, "
              f"the script says {nbytes} in {blocks}")
        check_stack(f"leaks, {what}", mine[0]["stack"], fn, line, start)
        # the line's other sites: the bytes objects' allocations through other C paths
        at = [s for s in sites if first_py(s.get("stack") or []).get("line") == line]
        mine = [s for s in at if s.get("leaked_bytes") == nbytes]
        check(len(mine) == 1, f"report, {what}: sites at line {line}: "
              f"{[(s.get('bytes'), s.get('leaked_bytes')) for s in at]}, want one of {nbytes} B")
        check_stack(f"report, {what}", mine[0]["stack"], fn, line, start)
    # The recorded stacks themselves: at most 384 frames (unwinder.h: MT_STACK_MAX).
    deepest = max(len(frames) for _, frames in recorded_stacks(log))
    check(deepest <= 384, f"a recorded stack of {deepest} frames, at most 384")
    # The text shows 12 frames of a stack, then the outermost two Python frames after the
    # count of those between: the script's lines stay in view (render_stack.c).
    text = memtrace("leaks", log).stdout
    for what in ("map", "sorted"):
        line, start = int(kv[f"{what}_line"]), int(kv[f"{what}_start"])
        pat = (rf"py_deep_callback\.py:{line}  \[python\]\n(?:    .*\n){{11}}"
               rf"    \.\.\. \d+ more frames\n"
               rf"    main  \S*py_deep_callback\.py:{start}  \[python\]\n"
               rf"    <module>  \S*py_deep_callback\.py:{main_line}  \[python\]\n")
        check(re.search(pat, text), f"leaks text, {what}: 12 frames, the count, then main:{start} "
              f"and <module>:{main_line}\n{text[:3000]}")


@case(60, needs="python_frames")
def case_py_deep_callback_levels():
    """A recursion 600 deep through `map` that allocates at every level on its way down and
    again on its way up: stacks of 129 frames and more are cut with their native frames
    (mt_py_deep_capture), shallower ones come through the stack caches (stack_tail.h,
    python_node_cache.h), and each shares its outer frames with the others. Each level's two
    bytearrays (odd sizes that say the level) must have exactly their own frames: the right
    line innermost, the module's line outermost, every frame counted once (kept or in the
    gap), a gap only when deeper than 128."""
    deep_levels_check("maprec", None)


@case(300, needs="python_frames")
def case_py_deep_callback_levels_libunwind():
    """py-deep-callback-levels with libunwind for every native frame (MEMTRACE_FAST_UNWIND=0):
    the deep stacks are walked by libunwind (python_frames.c: mt_py_deep_walk_unw)."""
    deep_levels_check("maprec-unw", dict(os.environ, MEMTRACE_FAST_UNWIND="0"))


def deep_levels_check(name, env):
    """py-deep-callback-levels' script and checks, recorded with env."""
    script = os.path.join(it.TMP, name + ".py")
    with open(script, "w") as fh:
        fh.write("import sys\n"
                 "sys.setrecursionlimit(10000)\n"
                 "KEEP = []\n"
                 "def f(n):\n"
                 "    KEEP.append(bytearray(5000 + 2 * n))\n"
                 "    if n:\n"
                 "        list(map(f, [n - 1]))\n"
                 "    KEEP.append(bytearray(7000 + 2 * n))\n"
                 "    return 0\n"
                 "f(600)\n")
    log, _ = py_run(name + ".mtr", script, env=env)
    seen, wrong = collections.Counter(), []
    for size, frames in recorded_stacks(log):
        if size % 2 == 0 or not (5001 <= size <= 6201 or 7001 <= size <= 8201):
            continue
        line, n = (5, (size - 5001) // 2) if size < 7000 else (8, (size - 7001) // 2)
        py = [f for f in frames if f.startswith(script + ":") or f.startswith("[gap")]
        if not py or py[0] != f"{script}:f:{line}":
            continue
        seen[line] += 1
        gaps = [int(f[5:-1]) for f in py if f.startswith("[gap")]
        mid = py[1:-1]
        total = 1 + sum(f == f"{script}:f:7" for f in mid) + sum(gaps)
        shape_ok = all(f == f"{script}:f:7" or f.startswith("[gap") for f in mid)
        want_gaps = 1 if 601 - n + 1 > 128 else 0
        if (py[-1] != f"{script}:<module>:10" or not shape_ok or total != 601 - n
                or len(gaps) != want_gaps or len(py) > 128 or len(frames) > 384):
            wrong.append((line, n, py[-1], gaps, total, len(py), len(frames)))
    check(seen == {5: 601, 8: 601}, f"allocations found per line: {dict(seen)}, want 601 each")
    check(not wrong, f"{len(wrong)} of 1202 allocations with the wrong frames, e.g. {wrong[:3]}")


MMAP_DEEP = """import mmap, sys
sys.setrecursionlimit(10000)
KEEP = []
def f(n):
    if n == 0:
        m = mmap.mmap(-1, 3 * 1024 * 1024 + 7 * 4096)
        m.resize(5 * 1024 * 1024 + 3 * 4096)
        KEEP.append(m)
        return 0
    return list(map(f, [n - 1]))[0]
def g(n):
    if n == 0:
        KEEP.append(mmap.mmap(-1, 2 * 1024 * 1024 + 5 * 4096))
        return 0
    sorted([n - 1], key=g)
    return 0
f(600)
g(600)
"""


def recorded_mmaps(log):
    """Every anonymous mapping of LOG as (size, frames), as recorded_stacks gives them."""
    dump = os.path.join(it.ARGS.build_root, "tests", "integration", "mt_stackdump")
    d = run([dump, "--mmaps", log])
    check(d.returncode == 0, f"mt_stackdump --mmaps {log}\n{show(d)}")
    out = []
    for ln in d.stdout.splitlines():
        if ln.startswith("MMAP|"):
            size, _, stack = ln[5:].partition("|")
            out.append((int(size), stack.split(";")))
    return out


def deep_mmaps_check(name, env):
    """The mappings of MMAP_DEEP, recorded with env: each made 600 deep through C (`map`, a
    `sorted` key), each of a size the script says, must keep both ends of its stack: its own
    line innermost, the module's line outermost, one gap frame, and every frame of the
    recursion counted once (kept or in the gap). The mmap hook used to keep the innermost 128
    Python frames only. The interpreter's own mappings made on the way down (its frame stack's
    chunks) must all end with the module's line too."""
    script = os.path.join(it.TMP, name + ".py")
    with open(script, "w") as fh:
        fh.write(MMAP_DEEP)
    log, _ = py_run(name + ".mtr", script, env=env)
    want = {3 * 1024 * 1024 + 7 * 4096: ("f", 6, 10, 17),   # mmap.mmap
            5 * 1024 * 1024 + 3 * 4096: ("f", 7, 10, 17),   # its resize: mremap
            2 * 1024 * 1024 + 5 * 4096: ("g", 13, 15, 18)}  # through sorted's key
    seen, wrong, roots = collections.Counter(), [], []
    for size, frames in recorded_mmaps(log):
        py = [f for f in frames if f.startswith(script + ":") or f.startswith("[gap")]
        if not py:
            continue
        if not py[-1].startswith(f"{script}:<module>:"):
            roots.append((size, py[-1], len(py), len(frames)))
        if size not in want:
            continue
        fn, line, via, root = want[size]
        seen[size] += 1
        gaps = [int(f[5:-1]) for f in py if f.startswith("[gap")]
        kept = sum(f == f"{script}:{fn}:{via}" for f in py)
        shape = (py[0], py[-1], len(gaps), kept + sum(gaps))
        if shape != (f"{script}:{fn}:{line}", f"{script}:<module>:{root}", 1, 600) or \
                len(py) > 128 or len(frames) > 384:
            wrong.append((size, shape, len(py), len(frames)))
    check(seen == {k: 1 for k in want}, f"mappings found: {dict(seen)}, want one of each of "
          f"{sorted(want)}")
    check(not wrong, f"mappings with the wrong frames: {wrong}")
    check(not roots, f"mappings of the script without its module's line at the root: {roots}")


@case(60, needs="python_frames")
def case_py_deep_mmap():
    """Anonymous mappings made 600 deep through C keep both ends of their stacks
    (recorder.c: mt_rec_mmap_py_deep, python_frames.c: mt_py_deep_capture)."""
    deep_mmaps_check("mmapdeep", None)


@case(120, needs="python_frames")
def case_py_deep_mmap_libunwind():
    """py-deep-mmap with libunwind for every native frame (MEMTRACE_FAST_UNWIND=0)."""
    deep_mmaps_check("mmapdeep-unw", dict(os.environ, MEMTRACE_FAST_UNWIND="0"))


NOSLOT_DEEP = """import mmap, resource, sys, threading
sys.setrecursionlimit(10000)
IDLE, DEPTH, BLOCKS = 251, 600, 9
KEEP, READY = [], []
go = threading.Event()
def idle():
    READY.append(bytearray(100))  # a recorded event: the thread takes a slot, if one is left
    go.wait()
def via_map(n):
    if n == 0:
        for _ in range(BLOCKS):
            KEEP.append(bytearray(40000))
        KEEP.append(mmap.mmap(-1, 5 * 4096 + 11))
        return 0
    return list(map(via_map, [n - 1]))[0]
def deep_main():
    via_map(DEPTH)
threading.stack_size(128 * 1024)
idle_threads = [threading.Thread(target=idle) for _ in range(IDLE)]
for t in idle_threads:
    t.start()
while len(READY) < IDLE:
    pass
vm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize:"))
limit = vm * 1024 + (16 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
threading.stack_size(4 << 20)
t = threading.Thread(target=deep_main)
t.start()
t.join()
go.set()
for t in idle_threads:
    t.join()
print("kept", len(KEEP))
"""


@case(120, needs="python_frames")
def case_py_deep_no_slot():
    """A thread without a slot (thread_slots.h: the recorder runs on the program's stack, with
    no saved context and no rule cache for the fast unwinder) allocates 600 deep through
    `map`: its stacks keep both ends too (python_frames.c: mt_py_deep_capture from NULL,
    walked by libunwind). The script fills every slot of the first six chunks (4 + 8 + 16 +
    32 + 64 + 128: the main thread and 251 idle ones), then sets an address-space limit that
    leaves room for the deep thread's stack but not for a seventh chunk (some 48 MiB), then
    starts the deep thread: 9 bytearrays of 40,000 bytes and a mapping of 5 pages + 11 bytes,
    each with the allocation's line innermost, deep_main's line outermost among the script's
    frames, one gap, and every level counted once. (With a slot, the deep path was right
    before too: that this case failed before says the thread had none.)"""
    script = os.path.join(it.TMP, "noslot.py")
    with open(script, "w") as fh:
        fh.write(NOSLOT_DEEP)
    env = dict(os.environ, MALLOC_ARENA_MAX="1")  # no 128 MiB arena reservations per thread
    log, p = py_run("noslot.mtr", script, env=env)
    check(p.stdout.split() == ["kept", "10"], f"the script did not run to its end\n{show(p)}")
    want = {40001: ("via_map:12", 9), 5 * 4096 + 11: ("via_map:13", 1)}
    got, wrong = collections.Counter(), []
    stacks = [(size, frames) for size, frames in recorded_stacks(log) if size == 40001]
    stacks += [(size, frames) for size, frames in recorded_mmaps(log) if size == 5 * 4096 + 11]
    for size, frames in stacks:
        py = [f for f in frames if f.startswith(script + ":") or f.startswith("[gap")]
        gaps = [int(f[5:-1]) for f in py if f.startswith("[gap")]
        kept = sum(f == f"{script}:via_map:15" for f in py)
        shape = (py[0], py[-1], len(gaps), kept + sum(gaps)) if py else None
        if shape != (f"{script}:{want[size][0]}", f"{script}:deep_main:17", 1, 600) or \
                len(py) > 128 or len(frames) > 384:
            wrong.append((size, shape, len(py), len(frames)))
        got[size] += 1
    check(got == {k: n for k, (_, n) in want.items()}, f"found {dict(got)}, want "
          f"{ {k: n for k, (_, n) in want.items()} }")
    check(not wrong, f"stacks with the wrong frames: {wrong}")


@case(60, needs="python_frames")
def case_py_location_ids():
    """Python locations are one per line, and never a dead code object's: a line's several
    allocating instructions share one PY_LOCATION (python_frames.c); a function made where
    another one's code object died (same file, same first line, its name string at the dead
    name's address) is named as itself, not from the tables' and caches' entries for the dead
    one; and a live function keeps its one location while code objects die all around it
    (python.h: mt_py_code_gen)."""
    script = os.path.join(it.TMP, "locids.py")
    with open(script, "w") as fh:
        fh.write("def build(i):\n"
                 "    return ([float(i)] * 3, {'k': (i, i + 1)}, str(i) * 40)  # one line\n"
                 "KEEP = [build(i) for i in range(2000)]\n"
                 "SEEN = []\n"
                 "for i in range(40):\n"
                 "    ns = {}\n"
                 "    exec(compile(f'def fn{i}(n):\\n    return bytearray(n)\\n', 'gen.py',"
                 " 'exec'), ns)\n"
                 "    fn = ns.pop(f'fn{i}')\n"
                 "    ns.clear()\n"
                 "    KEEP.append(fn(1000 + i))\n"
                 "    SEEN.append(id(fn.__code__))\n"
                 "    del fn  # the code object dies here; the next one is made where it was\n"
                 "for i in range(8000):  # deaths in nearly every slot of the count table\n"
                 "    exec(compile(f'v = {i}', 'churn.py', 'exec'), {})\n"
                 "    if i % 4 == 0:\n"
                 "        KEEP.append(build(i))\n"
                 "print(len(SEEN) - len(set(SEEN)))\n")
    log, p = py_run("locids.mtr", script)
    reused = int(p.stdout.strip() or 0)
    check(reused > 0, "no code object was made at a dead one's address: the case tests nothing")
    dump = os.path.join(it.ARGS.build_root, "tests", "integration", "mt_stackdump")
    d = run([dump, "--locations", log])
    check(d.returncode == 0, f"mt_stackdump {log}\n{show(d)}")
    lines = d.stdout.splitlines()
    locs = collections.Counter(ln[4:] for ln in lines if ln.startswith("LOC|"))
    build2 = f"{script}:build:2"
    check(locs[build2] == 1, f"{build2}: {locs[build2]} PY_LOCATION records, want one per line")
    mine = {k: n for k, n in locs.items() if k.startswith(script + ":")}
    check(all(n == 1 for n in mine.values()),
          f"a line of the script with several locations: {sorted(mine.items())}")
    # build's allocations: all at line 2, at least one per call (the 3-float list and the
    # string of 40 copies are new objects in every call)
    inner = [ln for ln in lines if "|" in ln and not ln.startswith("LOC|")
             and next((f for f in ln.split("|", 1)[1].split(";")
                       if f.startswith(script + ":")), "").startswith(script + ":build:")]
    wrong = [ln for ln in inner if f"{script}:build:2" not in ln]
    check(len(inner) >= 2 * (2000 + 2000) and not wrong,
          f"{len(inner)} allocations in build, {len(wrong)} not at line 2: {wrong[:2]}")
    # bytearray(1000 + i) allocates 1001 + i bytes: its innermost Python frame is fn{i}'s line
    got = {}
    for ln in lines:
        size, _, stack = ln.partition("|")
        if not size.isdigit() or not 1001 <= int(size) <= 1040:
            continue
        py = next((f for f in stack.split(";") if f.startswith("gen.py:")), None)
        if py:
            got[int(size) - 1001] = py
    want = {i: f"gen.py:fn{i}:2" for i in range(40)}
    wrong = {i: got.get(i) for i in want if got.get(i) != want[i]}
    check(not wrong, f"{len(wrong)} of 40 generated functions named wrong ({reused} code objects "
          f"made at a dead one's address), e.g. {sorted(wrong.items())[:4]}")


@case(120, needs="python_frames")
def case_py_held_at_end():
    """A Python script's "not freed" is what it held when it ended, before finalization, in
    report, the run summary and diff --by leaked; the after-finalization figure has keys of
    its own (issue 17, item 2)."""
    log, p = py_record("py_held.py", "10000")
    kv = sample_kv(p.stdout, "pyheld")
    n, obj_bytes, line = int(kv["n"]), int(kv["objects_bytes"]), int(kv["line"])
    rep = report_json(log, "--top", "1000000")
    check(rep["leaked_at"] == "script_end", f"leaked_at {rep['leaked_at']}")
    # The n objects, and the list's item array (at most 8 bytes a slot, twice over-allocated).
    check(obj_bytes <= rep["leaked_bytes"] and rep["leaked_blocks"] >= n,
          f"report: {rep['leaked_bytes']} B in {rep['leaked_blocks']} blocks held at the end; "
          f"the script holds {obj_bytes} B in {n} objects")
    check(rep["leaked_bytes_after_finalization"] < obj_bytes // 10,
          f"after finalization {rep['leaked_bytes_after_finalization']} B")
    at = [s for s in rep["top_sites"]
          if (first_py(s.get("stack") or []).get("line") == line)]
    held = sum(s["leaked_bytes"] for s in at)
    blocks = sum(s["leaked_blocks"] for s in at)
    # besides the n objects: the list, its item array and a few of the line's own objects
    check(obj_bytes <= held <= obj_bytes + 16 * n and n <= blocks <= n + 8,
          f"line {line} holds {held} B in {blocks} blocks; the script: {obj_bytes} B in {n}")
    check("held at the end of the script" in p.stderr, f"run summary\n{show(p)}")
    # diff --by leaked sees a script that holds twice as much: CI can catch the regression.
    log2 = os.path.join(it.TMP, "py_held_2.mtr")
    q = memtrace("run", "-q", "-o", log2, "--", PYTHON, py_sample("py_held.py"), "20000")
    check(q.returncode == 0, f"second run\n{show(q)}")
    d = memtrace("diff", "--by", "leaked", "--fail-above", "0", log, log2)
    check(d.returncode == 1 and "grew" in d.stderr, f"diff --by leaked --fail-above 0\n{show(d)}")


@case(120, needs="python_frames")
def case_py_own_objects():
    """memtrace's own objects in the interpreter (the atexit callback, the profile function
    that names threads, the audit hook's entry) are neither the program's allocations nor,
    when finalization frees them, unknown frees: every free in a Python run is of a block
    the log has (before: about 20 unknown frees in every run)."""
    script = it.write("py_own_threads.py", "import threading\n"
                      "def work(n):\n"
                      "    return [str(i) for i in range(n)]\n"
                      "ts = [threading.Thread(target=work, args=(1000,)) for _ in range(3)]\n"
                      "for t in ts: t.start()\n"
                      "for t in ts: t.join()\n")
    runs = {"pass": ["-c", "pass"], "no-site": ["-S", "-c", "pass"],
            "isolated": ["-I", "-S", "-c", "pass"], "threads": [script]}
    for name, args in runs.items():
        log, _ = py_run(f"py_own_{name}.mtr", *args)
        rep = report_json(log, "--top", "1000000")
        check(rep["unknown_frees"] == 0, f"{name}: {rep['unknown_frees']} unknown frees")
        check(rep["frees"] <= rep["allocations"], f"{name}: {rep['frees']} frees of "
              f"{rep['allocations']} allocations")
        ours = [fr.get("function") for s in rep["top_sites"] for fr in (s.get("stack") or [])
                if (fr.get("function") or "").startswith(("mt_py_", "_memtrace"))]
        check(not ours, f"{name}: memtrace's own functions in the program's stacks: {ours[:5]}")


def py_held_by_line(log, script):
    """{line: [bytes, blocks]} held at the end of the script, by innermost Python line."""
    rep = report_json(log, "--top", "1000000")
    held = {}
    for s in rep["top_sites"]:
        f = first_py(s.get("stack") or [])
        if (f.get("file") or "").endswith(script):
            h = held.setdefault(f["line"], [0, 0])
            h[0] += s["leaked_bytes"]
            h[1] += s["leaked_blocks"]
    return held


def tracemalloc_by_line(script, *args, env=None, opts=()):
    """{line: [bytes, blocks]} tracemalloc holds at the end of the same script, 1 frame
    (python3 run with opts and env)."""
    code = ("import runpy, sys, tracemalloc; tracemalloc.start(1); "
            f"sys.argv = [{script!r}] + {list(args)!r}; g = runpy.run_path({script!r}); "
            "s = tracemalloc.take_snapshot()\n"
            "for st in s.statistics('lineno'):\n"
            f"    if st.traceback[0].filename == {script!r}:\n"
            "        print('tm', st.traceback[0].lineno, st.size, st.count)")
    t = run([PYTHON, *opts, "-c", code], env=env)
    check(t.returncode == 0, f"tracemalloc run failed\n{show(t)}")
    return {int(m[0]): [int(m[1]), int(m[2])]
            for m in re.findall(r"^tm (\d+) (\d+) (\d+)$", t.stdout, re.M)}


@case(120, needs="python_frames")
def case_py_free_lists():
    """An object CPython would take from a free list (float, tuple, list, dict, dict keys) is
    charged to the line that creates it, not to the line whose temporary it replaces; the
    oracle is tracemalloc, which re-stamps reused objects (issue 17, item 1)."""
    script = py_sample("py_freelist.py")
    log, p = py_record("py_freelist.py")
    kv = sample_kv(p.stdout, "pyfreelist")
    n = int(kv["n"])
    held = py_held_by_line(log, "py_freelist.py")
    tm = tracemalloc_by_line(script)
    # Blocks each kept object is made of: a float, a tuple; a list and its item array.
    for kind, per in (("float", 1), ("tuple", 1), ("list", 2)):
        ln = int(kv[kind])
        ours, theirs = held.get(ln, [0, 0]), tm.get(ln, [0, 0])
        check(ours[1] == per * n, f"{kind} line {ln} holds {ours[1]} blocks, the script keeps "
              f"{per * n}; all held by line: {held}")
        check(abs(ours[0] - theirs[0]) <= theirs[0] / 20,
              f"{kind} line {ln}: {ours[0]} B, tracemalloc says {theirs[0]} B (5% allowed)")
    # A dict and its key table: tracemalloc re-stamps the dict but not a key table reused from
    # the keys free list (not an object), which it leaves on the line that first made it.
    ln = int(kv["dict"])
    ours, theirs = held.get(ln, [0, 0]), tm.get(ln, [0, 0])
    check(ours[1] == 2 * n and ours[0] >= theirs[0] > 0,
          f"dict line {ln}: {ours} (bytes, blocks), tracemalloc {theirs}; expected {2 * n} blocks")
    scratch = held.get(int(kv["scratch"]), [0, 0])
    check(scratch[1] < n // 100, f"the temporaries' line holds {scratch[1]} blocks at the end")
    # The switch that keeps the free lists shows what the test guards against.
    keep = os.path.join(it.TMP, "keep.mtr")
    q = memtrace("run", "-q", "--keep-free-lists", "-o", keep, "--", PYTHON, script)
    check(q.returncode == 0 and q.stdout == p.stdout, f"--keep-free-lists run\n{show(q)}")
    held_keep = py_held_by_line(keep, "py_freelist.py")
    stolen = held_keep.get(int(kv["scratch"]), [0, 0])[1]
    check(stolen > n, f"with free lists kept the temporaries' line holds {stolen} blocks")


@case(120, needs="python_frames")
def case_py_free_lists_hostile():
    """With the free lists emptied by memtrace, what CPython's trashcan protects must stay
    protected: freeing lists, dicts and tuples nested a million deep (and a list subclass)
    must not overflow the C stack, and the program's output and status are unchanged."""
    script = it.write("deep.py", "import gc\n"
                      "l = []\nfor i in range(1_000_000): l = [l]\ndel l\n"
                      "d = {}\nfor i in range(1_000_000): d = {'a': d}\ndel d\n"
                      "class L(list): pass\n"
                      "x = L()\nfor i in range(300_000): x = L([x, [x]])\ndel x\n"
                      "t = ()\nfor i in range(1_000_000): t = (t, [i])\ndel t\n"
                      "gc.collect()\n"
                      "keep = [[float(i), (i, i), {'i': i}] for i in range(1000)]\n"
                      "print('done', len(keep), sum(k[0] for k in keep))\n")
    plain = run([PYTHON, script])
    check(plain.returncode == 0, f"plain run\n{show(plain)}")
    log = os.path.join(it.TMP, "deep.mtr")
    p = memtrace("run", "-q", "-o", log, "--", PYTHON, script)
    check(p.returncode == 0 and p.stdout == plain.stdout,
          f"under memtrace: status {p.returncode}, stdout {p.stdout!r} (plain {plain.stdout!r})"
          f"\n{show(p)}")


@case(120, needs="python_frames")
def case_py_fragmentation_script_end():
    """For a script, fragmentation is told at the end of the script (before finalization frees
    everything): glibc's free space and holes there, pymalloc's arenas in text, JSON and HTML,
    an arena line and the script's end on the timeline, and churn sites that are the script's
    own lines rather than the interpreter's start-up or imports (issue 17, item 4)."""
    log, p = py_record("py_frag.py")
    kv = sample_kv(p.stdout, "pyfrag")
    freed, freed_bytes = int(kv["freed"]), int(kv["freed_bytes"])
    kept_bytes, churn_line, churn = int(kv["kept_bytes"]), int(kv["churn_line"]), int(kv["churn"])
    rep = json_of("fragmentation", "--format", "json", log)
    end = rep.get("at_script_end") or {}
    check(end.get("live_bytes", 0) >= kept_bytes and end.get("footprint_bytes"),
          f"at_script_end {end}; the script keeps {kept_bytes} B")
    # Each freed object leaves a hole its own size (its neighbours are kept): glibc holds them.
    check(end.get("free_held_bytes", 0) >= freed_bytes * 0.95,
          f"free held at the end of the script {end.get('free_held_bytes')} B, the script "
          f"freed {freed_bytes} B between kept objects")
    holes = sum(h["count"] for h in rep["holes"] if h["min"] <= freed_bytes // freed <= h["max"])
    check(holes >= freed * 0.95, f"{holes} holes of the freed objects' size, expected {freed}")
    exit_ = rep.get("at_exit") or {}
    check(exit_.get("live_bytes", 1) < kept_bytes // 100,
          f"after finalization {exit_.get('live_bytes')} B are live (the script's are freed)")
    check((rep.get("python_arenas") or {}).get("moment") == "script_end",
          f"python_arenas {rep.get('python_arenas')}")
    top = (rep.get("churn_sites") or [{}])[0]
    f = first_py(top.get("stack") or [])
    check(f.get("line") == churn_line and (f.get("file") or "").endswith("py_frag.py")
          and top.get("temporary", 0) >= churn,
          f"first churn site should be py_frag.py:{churn_line} with {churn} temporaries: {top}")
    t = memtrace("fragmentation", log)
    check(t.returncode == 0 and re.search(r"^  at script end +live", t.stdout, re.M)
          and "holes between live blocks at the end of the script" in t.stdout
          and re.search(r"^  after finalization live", t.stdout, re.M),
          f"text report lacks the end of the script\n{show(t)}")
    svg = os.path.join(it.TMP, "tl.svg")
    t = memtrace("timeline", log, "-o", svg)
    check(t.returncode == 0, f"timeline\n{show(t)}")
    with open(svg) as fh:
        body = fh.read()
    check(">pymalloc arenas<" in body and ">script end<" in body and body.count("<polyline") == 4,
          "the timeline lacks the pymalloc arenas line or the end of the script")
    page = os.path.join(it.TMP, "page.html")
    t = memtrace("html", log, "-o", page)
    check(t.returncode == 0, f"html\n{show(t)}")
    with open(page) as fh:
        body = fh.read()
    check("<th>at the end of the script</th>" in body
          and "pymalloc arenas at the end of the script" in body,
          "the HTML fragmentation section lacks the end of the script or pymalloc's arenas")
# ---- memtrace lines: the script line by line (issue 17) ----

@case(60, needs="python_frames")
def case_py_function_named_main():
    """valgrind's --show-below-main=no cut is for C's main: a Python function called main
    keeps its callers, so leaks from two call lines stay two records."""
    script = it.write("pm.py", "KEEP = []\ndef main(n):\n    KEEP.append(bytes(n))\n"
                      "main(100_000)\nmain(200_000)\n")
    log, _ = py_run("pm.mtr", script)
    rep = leaks_json(log)
    calls = sorted(py_frames(k.get("stack") or [])[1].get("line")
                   for k in rep.get("leaks") or []
                   if len(py_frames(k.get("stack") or [])) > 1
                   and py_frames(k["stack"])[0].get("function") == "main")
    check(calls == [4, 5], f"main's leaks by calling line: {calls}, expected [4, 5]")


@case(120, needs="python_frames")
def case_py_debug_allocators():
    """PYTHONMALLOC and -X dev make Python's pre-initialization replace the allocators memtrace
    wrapped: the program behaves exactly as without memtrace (this once aborted at
    finalization), and memtrace wraps what Python chose, so that the objects, the end of the
    script and what the script's line holds there are what they are with the default
    allocators; tracemalloc, under the same setting, is the oracle."""
    script = py_sample("py_held.py")
    n = 5000
    for env_add, opts in (({}, ()), ({"PYTHONMALLOC": "debug"}, ()),
                          ({"PYTHONMALLOC": "malloc"}, ()), ({"PYTHONMALLOC": "pymalloc_debug"}, ()),
                          ({"PYTHONMALLOC": "malloc_debug"}, ()), ({"PYTHONDEVMODE": "1"}, ()),
                          ({}, ("-X", "dev"))):
        what = f"python3 {' '.join(opts)} with {env_add}"
        log = os.path.join(it.TMP, f"dbg{len(os.listdir(it.TMP))}.mtr")
        env = dict(os.environ, **env_add)
        plain = run([PYTHON, *opts, script, str(n)], env=env)
        p = memtrace("run", "-q", "-o", log, "--", PYTHON, *opts, script, str(n), env=env)
        check(p.returncode == 0 and p.stdout == plain.stdout and not p.stderr.strip(),
              f"{what} under memtrace (plain: {plain.stdout!r})\n{show(p)}")
        kv = sample_kv(p.stdout, "pyheld")
        obj_bytes, line = int(kv["objects_bytes"]), int(kv["line"])
        rep = report_json(log, "--top", "1000000")
        check(rep["leaked_at"] == "script_end" and rep["unknown_frees"] == 0,
              f"{what}: leaked_at {rep['leaked_at']}, {rep['unknown_frees']} unknown frees")
        held = py_held_by_line(log, "py_held.py").get(line, [0, 0])
        check(obj_bytes <= held[0] <= obj_bytes + 16 * n and n <= held[1] <= n + 8,
              f"{what}: line {line} holds {held} (bytes, blocks); the script: {obj_bytes} B "
              f"in {n}")
        tm = tracemalloc_by_line(script, str(n), env=env, opts=opts).get(line, [0, 0])
        check(abs(held[0] - tm[0]) <= tm[0] / 20,
              f"{what}: line {line} holds {held[0]} B, tracemalloc says {tm[0]} B (5% allowed)")


SELF_SIGNAL = {
    # an unhandled KeyboardInterrupt: CPython restores SIG_DFL for SIGINT as it finalizes,
    # then kills itself with SIGINT so that its parent sees the signal
    "sigint": ("import os, signal, time\n"
               "KEEP = bytearray(40001)\n"
               "os.kill(os.getpid(), signal.SIGINT)\n"
               "time.sleep(30)\n", 2),
    # faulthandler puts back the action it found (SIG_DFL, as memtrace reports it) and
    # raises the fault again
    "faulthandler": ("import ctypes, faulthandler\n"
                     "faulthandler.enable()\n"
                     "KEEP = bytearray(40001)\n"
                     "ctypes.string_at(0)\n", 11),
    # the script sets the default action itself, then is terminated
    "sig-dfl": ("import os, signal, time\n"
                "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
                "KEEP = bytearray(40001)\n"
                "os.kill(os.getpid(), signal.SIGTERM)\n"
                "time.sleep(30)\n", 15),
}


@case(120, needs="python_frames")
def case_py_self_signal():
    """A script that ends by a signal after setting (or having Python set) SIG_DFL for it:
    the log keeps its end, the signal and the script's 40,002-byte block at its line. Before,
    the program's SIG_DFL replaced memtrace's handler and the log of such a short run had
    not one event ("truncated after 0 events")."""
    for name, (text, sig) in SELF_SIGNAL.items():
        script = it.write(f"self_{name}.py", text)
        line = text.splitlines().index("KEEP = bytearray(40001)") + 1
        plain = run([PYTHON, script])
        check(plain.returncode == -sig, f"{name}: plain run ended {plain.returncode}\n"
              f"{show(plain)}")
        log = os.path.join(it.TMP, f"self_{name}.mtr")
        p = memtrace("run", "-q", "-o", log, "--", PYTHON, script)
        check(p.returncode == -sig and p.stdout == plain.stdout,
              f"{name}: under memtrace (plain: {plain.returncode})\n{show(p)}")
        rep = report_json(log)
        check(not rep["truncated"] and rep["exit"] == {"reason": "signal", "status": sig},
              f"{name}: exit {rep['exit']}, truncation {rep['truncation']}")
        keep = [fr for size, fr in recorded_stacks(log) if size == 40002]
        check(keep == [[f"{script}:<module>:{line}"]], f"{name}: the 40,002-byte block: {keep}")


EMBED_SUBINTERP = r"""#include <Python.h>
#include <pthread.h>
#include <stdio.h>

static void *from_c(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        PyGILState_STATE g = PyGILState_Ensure();
        PyRun_SimpleString("KEEP.append(bytearray(40011))\n");
        PyGILState_Release(g);
    }
    return NULL;
}

int main(void)
{
    Py_Initialize();
    PyRun_SimpleString("KEEP = [bytearray(40001)]\n");
    PyThreadState *main_ts = PyThreadState_Get();
    for (int i = 0; i < 2; i++) {
        PyThreadState *sub = Py_NewInterpreter();
        PyRun_SimpleString("import json\nS = [bytearray(40021)]\n");
        Py_EndInterpreter(sub);
        PyThreadState_Swap(main_ts);
    }
    PyThreadState *saved = PyEval_SaveThread();
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, from_c, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    PyEval_RestoreThread(saved);
    PyRun_SimpleString("print('held', len(KEEP))\n");
    return Py_FinalizeEx() < 0 ? 120 : 0;
}
"""


@case(120, needs="python_frames")
def case_py_subinterpreter():
    """A subinterpreter's allocations carry its own Python frames: made in C (Py_NewInterpreter,
    as mod_wsgi runs an application) and from Python (_xxsubinterpreters). Before, the frames
    were read from the thread's main-interpreter state (PyGILState knows no other): none for
    the embedding program, the line that started the subinterpreter for the script. Also C
    threads that call into Python with PyGILState_Ensure keep their lines."""
    cfg = run([PYTHON + "-config", "--cflags", "--embed", "--ldflags"])
    if cfg.returncode != 0:
        raise Skip(f"{PYTHON}-config --embed: {cfg.stderr.strip()}")
    exe = os.path.join(it.TMP, "py_embed_sub")
    cc = os.environ.get("CC") or it.ARGS.cc or "cc"
    b = run([*cc.split(), "-o", exe, it.write("py_embed_sub.c", EMBED_SUBINTERP),
             *cfg.stdout.split(), "-pthread"])  # the libraries after the source
    check(b.returncode == 0, f"cannot build py_embed_sub.c\n{show(b)}")
    log = os.path.join(it.TMP, "py_embed_sub.mtr")
    p = memtrace("run", "-q", "-o", log, "--", exe)
    check(p.returncode == 0 and p.stdout == "held 7\n", f"embedding program\n{show(p)}")
    want = {40002: [["<string>:<module>:1"]], 40012: [["<string>:<module>:1"]] * 6,
            40022: [["<string>:<module>:2"]] * 2}
    got = {}
    for size, frames in recorded_stacks(log):
        if size in want:
            got.setdefault(size, []).append(frames)
    check(got == want, f"embedding program: the bytearrays' stacks {got}, want {want}")
    script = it.write("py_xxsub.py", "import _xxsubinterpreters as interpreters\n"
                      "def run_sub():\n"
                      "    i = interpreters.create()\n"
                      "    interpreters.run_string(i, 'b = 1\\nKEEP = bytearray(40021)\\n')\n"
                      "    interpreters.destroy(i)\n"
                      "run_sub()\n")
    log, _ = py_run("py_xxsub.mtr", script)
    got = [frames for size, frames in recorded_stacks(log) if size == 40022]
    check(got == [["<string>:<module>:2"]], f"_xxsubinterpreters: the bytearray's stack {got}")


THREAD_CALLBACK_C = r"""#include <pthread.h>
#include <stdlib.h>
typedef int (*cb_t)(int);
struct job { cb_t cb; int n, sum; };
static void *work(void *p)
{
    struct job *j = p;
    for (int i = 0; i < j->n; i++)
        j->sum += j->cb(i);
    return NULL;
}
void *own_block(void) { return malloc(40013); }
int run_threads(cb_t cb, int nthreads, int n)
{
    pthread_t t[8];
    struct job j[8];
    int sum = 0;
    for (int i = 0; i < nthreads; i++) {
        j[i] = (struct job){cb, n, 0};
        pthread_create(&t[i], NULL, work, &j[i]);
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(t[i], NULL);
        sum += j[i].sum;
    }
    return sum;
}
"""


@case(120, needs="python_frames")
def case_py_ctypes_relative():
    """A library a script loads by a relative name (ctypes.CDLL("./lib.so")) is named so by
    the loader: its functions are found in the reports, not left as lib.so+offset with the
    warning "not an absolute path". Its threads call back into Python (ctypes callbacks on
    threads made by C): each bytearray the callback makes has the callback's line."""
    lib = os.path.join(it.TMP, "libthreadcb.so")
    cc = os.environ.get("CC") or it.ARGS.cc or "cc"
    b = run([*cc.split(), "-shared", "-fPIC", "-g", "-O0", "-o", lib,
             it.write("threadcb.c", THREAD_CALLBACK_C), "-pthread"])
    check(b.returncode == 0, f"cannot build libthreadcb.so\n{show(b)}")
    script = it.write("py_threadcb.py", "import ctypes, threading\n"
                      "lib = ctypes.CDLL('./libthreadcb.so')\n"
                      "lib.own_block.restype = ctypes.c_void_p\n"
                      "CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)\n"
                      "KEEP, lock = [], threading.Lock()\n"
                      "def cb(i):\n"
                      "    b = bytearray(40001 + i)\n"
                      "    with lock: KEEP.append(b)\n"
                      "    return 1\n"
                      "f = CB(cb)\n"
                      "print(lib.run_threads(f, 3, 5), len(KEEP), lib.own_block() != 0)\n")
    log, p = py_run("py_threadcb.mtr", script)
    check(p.stdout == "15 15 True\n", f"the script's output\n{show(p)}")
    rep = report_json(log, "--top", "1000000")
    check(not rep["warnings"], f"warnings: {rep['warnings']}")
    own = [s["stack"][0] for s in rep["top_sites"] if s["leaked_bytes"] == 40013]
    check(len(own) == 1 and own[0].get("function") == "own_block"
          and (own[0].get("file") or "").endswith("threadcb.c"),
          f"the library's malloc(40013): innermost frame {own}")
    got = collections.Counter((size, tuple(fr)) for size, fr in recorded_stacks(log)
                              if 40002 <= size <= 40006)
    want = collections.Counter({(40002 + i, (f"{script}:cb:7",)): 3 for i in range(5)})
    check(got == want, f"the callbacks' bytearrays {dict(got)}")
