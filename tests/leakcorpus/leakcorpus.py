# SPDX-License-Identifier: MIT
# The leak corpus (issue 13): every program in this directory is built with one compiler, run
# under valgrind memcheck and under `memtrace run --leak-check`, and the two leak reports are
# compared block for block: kind, bytes, blocks and the innermost frame in the program's own code
# (function, file, line). Exit 0 when every program agrees or fails as its header says, 77 skip.
#
# Header markers (in the leading // comment of a program; a reason may wrap over lines):
#   corpus-lib: FILE.c link|dlopen        build FILE.c as a shared library; link the program to
#                                         it, or pass its path as argv[1] for dlopen
#   corpus-cflags: FLAGS...               more compiler flags for the program
#   memtrace-vs-valgrind: expected-fail: REASON     a memtrace bug (issue 13 item N, or one this
#                                                   corpus found, described)
#   memtrace-vs-valgrind: known-difference: REASON  valgrind is the one that is wrong
# Either marker may be limited to one compiler: `expected-fail[clang]: ...`. A marked program
# that agrees fails the run, so that the marker is removed when the bug is fixed; likewise
# NO_LINES_ITEM below once memtrace gives clang frames their file:line.
# Prints one line per program and compiler, then `corpus: N of M agree (COMPILER; ...)`.
import argparse
import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

SKIP = 77
HERE = os.path.dirname(os.path.realpath(__file__))
KINDS = {"Leak_DefinitelyLost": "definite", "Leak_IndirectlyLost": "indirect",
         "Leak_PossiblyLost": "possible", "Leak_StillReachable": "reachable"}
MARKER = re.compile(r"memtrace-vs-valgrind:\s*(expected-fail|known-difference)"
                    r"(?:\[(gcc|clang)\])?:\s*(.+?)\s*$", re.M)
LIB = re.compile(r"corpus-lib:\s*(\S+)\s+(link|dlopen)", re.M)
CFLAGS = re.compile(r"corpus-cflags:\s*(.+)$", re.M)
DIRECT = re.compile(r"^([\d,]+) \(([\d,]+) direct, ([\d,]+) indirect\) bytes in ([\d,]+) blocks")
# Compilers whose frames memtrace cannot give a file:line (clang's, before issue 13 item 6 was
# fixed: no .debug_aranges): their runs are compared without file and line, and counted as that
# item when only they differ. Empty now; kept so that a regression can be marked here.
NO_LINES_ITEM = {}
TIMEOUT = 120


class Case:
    def __init__(self, src):
        self.src = src
        self.name = os.path.splitext(os.path.basename(src))[0]
        self.cxx = src.endswith(".cpp")
        # The header: the leading // comment, a marker's reason going on over the comment lines
        # that follow it (clang-format wraps them at 100 columns).
        head = []
        with open(src, encoding="utf-8") as f:
            for line in f:
                if not line.startswith("//"):
                    break
                text = line[2:].strip()
                if head and head[-1].startswith("memtrace-vs-valgrind:") and text and \
                        not text.startswith(("memtrace-vs-valgrind:", "corpus-lib:")):
                    head[-1] += " " + text
                else:
                    head.append(text)
        head = "\n".join(head)
        self.libs = LIB.findall(head)
        self.cflags = " ".join(CFLAGS.findall(head)).split()
        self.markers = MARKER.findall(head)   # (what, compiler or "", reason)

    def marker(self, compiler):
        """(what, reason) of the markers for compiler; expected-fail wins over
        known-difference, since only a fix of memtrace can make such a case agree."""
        found = [(w, r) for w, only, r in self.markers if not only or only == compiler]
        if not found:
            return None
        what = "expected-fail" if any(w == "expected-fail" for w, _ in found) else found[0][0]
        return what, "; ".join(r for _, r in found)


def run(argv, cwd, timeout=TIMEOUT, env=None):
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


def tail(p):
    return f"exit {p.returncode}: {(p.stdout + p.stderr)[-1500:]}"


def build(case, tools, out):
    """Builds case (and its libraries) into out; returns (argv, own module paths)."""
    cc, cxx, extra = tools
    flags = ["-g", "-O0", *extra]
    own = []
    args = []
    link = []
    for lib_src, mode in case.libs:
        so = os.path.join(out, "lib" + os.path.splitext(lib_src)[0] + ".so")
        p = run([cc, *flags, "-fPIC", "-shared", "-o", so, os.path.join(HERE, lib_src)], out)
        if p.returncode != 0:
            raise RuntimeError(f"building {lib_src}: {tail(p)}")
        own.append(so)
        if mode == "link":
            link += [so, "-Wl,-rpath," + out]
        else:
            args.append(so)
    exe = os.path.join(out, case.name)
    p = run([cxx if case.cxx else cc, *flags, *case.cflags, "-pthread", "-o", exe, case.src,
             *link, "-ldl"], out)
    if p.returncode != 0:
        raise RuntimeError(f"building {case.name}: {tail(p)}")
    own.append(exe)
    return [exe, *args], own


def own_frame(frames, own):
    """(function, file base name, line) of the innermost frame in the program's own source:
    a frame of one of the corpus's modules whose file is a corpus source (not a libstdc++
    header instantiated in it). Without file:line (issue 13 item 6) a frame of an own module
    counts when its function is not the standard library's."""
    for fn, path, line, module in frames:
        if not module or os.path.realpath(module) not in own:
            continue
        if path:
            if os.path.dirname(os.path.realpath(path)) != HERE:
                continue
        elif not fn or fn.startswith(("std::", "__gnu_cxx::", "void std::", "operator")):
            continue
        # memcheck names a C++ function after its symbol, with its parameter types
        # (`fill(int)`); memtrace after its debug information, without them for a static one
        return (re.sub(r"\(.*\)( const)?$", "", fn) if fn else None,
                os.path.basename(path) if path else None, line)
    return (None, None, None)


def add(records, kind, nbytes, blocks, frame):
    key = (kind, *frame)
    b, n = records.get(key, (0, 0))
    records[key] = (b + nbytes, n + blocks)


def valgrind_process(path, own):
    root = ET.parse(path).getroot()
    pid = int(root.findtext("pid") or 0)
    records = {}
    for err in root.iter("error"):
        kind = KINDS.get(err.findtext("kind") or "")
        if not kind:
            continue
        xw = err.find("xwhat")
        nbytes = int(xw.findtext("leakedbytes"))
        blocks = int(xw.findtext("leakedblocks"))
        m = DIRECT.match(xw.findtext("text") or "")
        if m:   # leakedbytes counts the indirect bytes too; memtrace's bytes are direct
            nbytes = int(m.group(2).replace(",", ""))
        frames = []
        for fr in err.find("stack").iter("frame"):
            d, f = fr.findtext("dir"), fr.findtext("file")
            line = fr.findtext("line")
            frames.append((fr.findtext("fn"), os.path.join(d or "", f) if f else None,
                           int(line) if line else None, fr.findtext("obj")))
        add(records, kind, nbytes, blocks, own_frame(frames, own))
    return pid, records


def memtrace_process(memtrace, log, own):
    p = run([memtrace, "leaks", "--kinds", "all", "--format", "json", log], os.path.dirname(log))
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        raise RuntimeError(f"memtrace leaks {log}: {tail(p)}")
    if rep.get("truncated"):
        raise RuntimeError(f"{os.path.basename(log)}: {rep.get('truncation')}")
    if not rep.get("classified"):
        return None, collections.Counter()
    records = {}
    lines = collections.Counter()   # own frames without and with file:line
    for leak in rep["leaks"]:
        frames = [(f.get("function"), f.get("file"), f.get("line"), f.get("module"))
                  for f in leak["stack"]]
        fr = own_frame(frames, own)
        if fr[0] is not None:
            lines["with" if fr[2] is not None else "without"] += 1
        add(records, leak["kind"], leak["bytes"], leak["blocks"], fr)
    return records, lines


def pid_of(path):
    m = re.search(r"\.(\d+)\.(?:xml|mtr)", path)
    return int(m.group(1)) if m else 0


def strip_lines(procs):
    out = []
    for recs in procs:
        r = {}
        for (kind, fn, _f, _l), (b, n) in recs.items():
            add(r, kind, b, n, (fn, None, None))
        out.append(r)
    return out


def describe(vg, mt):
    """The records each side has and the other has not, per process."""
    lines = []
    if len(vg) != len(mt):
        lines.append(f"valgrind checked {len(vg)} processes, memtrace {len(mt)}")
    for i, (v, m) in enumerate(zip(vg, mt)):
        where = f"process {i}: " if len(vg) > 1 else ""
        for key in sorted(set(v) | set(m), key=str):
            if v.get(key) != m.get(key):
                kind, fn, f, line = key
                at = f"{fn} {f}:{line}" if fn else "(no own frame)"
                lines.append(f"{where}{kind} at {at}: valgrind {v.get(key, (0, 0))} "
                             f"memtrace {m.get(key, (0, 0))} (bytes, blocks)")
    return "; ".join(lines)


def check_case(case, compiler, tools, memtrace, tmp):
    """Returns (state, detail, lines): state in agree, agree-no-lines, differ, error; lines
    counts memtrace's own frames with and without file:line."""
    lines = collections.Counter()
    try:
        state, detail = compare(case, tools, memtrace, tmp, lines)
    except (OSError, subprocess.SubprocessError, ET.ParseError, ValueError) as e:
        state, detail = "error", f"{type(e).__name__}: {e}"
    return state, detail, lines


def run_valgrind(argv, own, out, attempt):
    """Runs argv under memcheck in OUT/vgN (N: attempt); its CompletedProcess and the leak
    records of each process, by pid."""
    vdir = os.path.join(out, f"vg{attempt}")
    os.mkdir(vdir)
    # 50 callers: glibc's dlopen allocates deeper than memcheck's default 12 frames
    pv = run(["valgrind", "--leak-check=full", "--num-callers=50", "--show-leak-kinds=all",
              "--xml=yes", "--xml-file=" + os.path.join(vdir, "vg.%p.xml"), *argv], vdir)
    vg = sorted((valgrind_process(x, own) for x in glob.glob(os.path.join(vdir, "vg.*.xml"))),
                key=lambda t: t[0])
    return pv, [r for _, r in vg]


def compare(case, tools, memtrace, tmp, lines):
    out = tempfile.mkdtemp(prefix=f"{case.name}.", dir=tmp)
    try:
        argv, own = build(case, tools, out)
    except RuntimeError as e:
        return "error", str(e)
    own = {os.path.realpath(o) for o in own}
    mdir = os.path.join(out, "mt")
    os.mkdir(mdir)
    pv, vg = run_valgrind(argv, own, out, 0)
    pm = run([memtrace, "run", "-q", "--leak-check", "-o", os.path.join(out, "mt.%p.mtr"),
              "--", *argv], mdir)
    notes = []
    if pv.returncode != pm.returncode:
        notes.append(f"exit status: valgrind {pv.returncode}, memtrace {pm.returncode}")
    mt = []
    for log in sorted(glob.glob(os.path.join(out, "mt.*.mtr")), key=pid_of):
        try:
            recs, n = memtrace_process(memtrace, log, own)
        except RuntimeError as e:
            return "differ", "; ".join(notes + [str(e)])
        if recs is None:
            notes.append(f"{os.path.basename(log)} has no leak scan")
            continue
        lines.update(n)
        mt.append(recs)
    if not vg:
        return "error", f"valgrind wrote no XML: {tail(pv)}"
    # valgrind's "possibly lost" can come from any word that happens to fall inside a block,
    # and at its fixed heap addresses which words do changes from run to run (the 1 MiB blocks
    # of guard_page and madvise_dontneed: about one run in ten, from values such as ELF
    # version hashes). Its run without such a word is the right one: a "possible" it reports
    # that memtrace does not is confirmed by two more runs before it counts as a difference.
    for retry in (1, 2):
        if vg == mt or not any(k[0] == "possible" for r in vg for k in r):
            break
        pv2, vg2 = run_valgrind(argv, own, out, retry)
        if vg2 == mt and pv2.returncode == pv.returncode:
            vg = vg2
    if vg == mt and not notes:
        return "agree", ""
    if lines["without"] and not notes and strip_lines(vg) == strip_lines(mt):
        return "agree-no-lines", describe(vg, mt)
    return "differ", "; ".join(notes + [describe(vg, mt)])


def judge(case, compiler, state, detail):
    """Returns (verdict, message): verdict agree, xfail, known or FAIL."""
    mark = case.marker(compiler)
    item6 = NO_LINES_ITEM.get(compiler)
    if state == "error":
        return "FAIL", detail
    if state == "agree-no-lines" and item6:
        if mark:
            return "FAIL", (f"agrees apart from file:line ({item6}), but is marked "
                            f"{mark[0]}: {mark[1]}: remove the marker")
        return "xfail", f"{item6}: agrees apart from file:line"
    if state == "agree":
        if mark:
            return "FAIL", f"now agrees but is marked {mark[0]}: {mark[1]}: remove the marker"
        return "agree", ""
    if mark:
        return ("xfail" if mark[0] == "expected-fail" else "known"), f"{mark[1]}: {detail}"
    return "FAIL", detail


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--memtrace", required=True)
    ap.add_argument("--compiler", action="append", choices=("gcc", "clang"),
                    help="gcc and/or clang (default both)")
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the build and logs")
    ap.add_argument("cases", nargs="*", help="program names (default all)")
    a = ap.parse_args()
    a.memtrace = os.path.abspath(a.memtrace)
    if not shutil.which("valgrind"):
        print("valgrind is not installed")
        return SKIP
    toolchains = {"gcc": ("gcc", "g++", []),
                  # valgrind 3.19 cannot read clang 14's DWARF 5 (DW_FORM_addrx): no file:line
                  "clang": ("clang", "clang++", ["-gdwarf-4"])}
    compilers = [c for c in (a.compiler or ["gcc", "clang"])
                 if shutil.which(toolchains[c][0]) and shutil.which(toolchains[c][1])]
    if not compilers:
        print("no compiler for", a.compiler)
        return SKIP
    cases = [Case(s) for s in sorted(glob.glob(os.path.join(HERE, "*.c")) +
                                     glob.glob(os.path.join(HERE, "*.cpp")))
             if not os.path.basename(s).endswith("_lib.c")]
    if a.cases:
        cases = [c for c in cases if c.name in a.cases]
    tmp = tempfile.mkdtemp(prefix="leakcorpus.")
    start = time.monotonic()
    jobs = [(c, comp) for comp in compilers for c in cases]
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        states = list(pool.map(lambda j: check_case(j[0], j[1], toolchains[j[1]], a.memtrace,
                                                    tmp), jobs))
    failed = 0
    by = collections.defaultdict(collections.Counter)
    lines = collections.defaultdict(collections.Counter)
    for (case, comp), (state, detail, n) in zip(jobs, states):
        verdict, msg = judge(case, comp, state, detail)
        by[comp][verdict] += 1
        by[comp]["no-lines"] += state == "agree-no-lines"
        lines[comp].update(n)
        failed += verdict == "FAIL"
        print(f"  {verdict:6} {comp:5} {case.name}" + (f": {msg}" if msg else ""))
    for comp in compilers:
        n = by[comp]
        print(f"corpus: {n['agree']} of {len(cases)} agree ({comp}; {n['xfail']} expected-fail, "
              f"of which {n['no-lines']} only for want of file:line, "
              f"{n['known']} known-difference, {n['FAIL']} failed)")
        if comp in NO_LINES_ITEM and lines[comp]["with"] and not lines[comp]["without"]:
            print(f"  FAIL   {comp}: memtrace gives file:line for every {comp} frame now: "
                  f"{NO_LINES_ITEM[comp]} looks fixed, remove it from NO_LINES_ITEM")
            failed += 1
    print(f"time: {time.monotonic() - start:.1f} s")
    if a.keep:
        print("kept", tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
