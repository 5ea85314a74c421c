# SPDX-License-Identifier: MIT
# memcheck's four leak heuristics (stdstring, length64, newarray, multipleinheritance), each
# matched and not matched, from C and C++ built with gcc and clang: the same binary runs under
# valgrind and under `memtrace run --leak-check`, and every block the test program allocates
# must get the same kind and bytes from both. Exit 0 pass, 77 skip, anything else fail.
import os
import re
import shutil

import mt_harness as it
from mt_harness import Skip, check, show

case = it.suite("integration")

# "41 bytes in 1 blocks are possibly lost in loss record 2 of 15"
# "80 (48 direct, 32 indirect) bytes in 1 blocks are definitely lost in loss record 10 of 15"
VG_RECORD = re.compile(r"^==\d+== ([\d,]+)(?: \(([\d,]+) direct, [\d,]+ indirect\))? bytes in "
                       r"([\d,]+) blocks are (definitely lost|indirectly lost|possibly lost|"
                       r"still reachable) in loss record")
VG_FRAME = re.compile(r"^==\d+==    (?:at|by) 0x[0-9A-Fa-f]+: .*\(([^():]+):(\d+)\)$")
VG_KIND = {"definitely lost": "definite", "indirectly lost": "indirect",
           "possibly lost": "possible", "still reachable": "reachable"}


def num(s):
    return int(s.replace(",", ""))


def valgrind_records(prog, source):
    """{(line, kind): [bytes, blocks]} over valgrind's loss records, keyed by the innermost
    frame in the test's own source file."""
    p = it.run(["valgrind", "--leak-check=full", "--show-leak-kinds=all", "--num-callers=30",
                prog], timeout=300)
    check(p.returncode == 0 and "LEAK SUMMARY" in p.stderr, f"valgrind {prog}\n{show(p)}")
    out, pending = {}, None
    for line in p.stderr.splitlines():
        m = VG_RECORD.match(line)
        if m:
            total, direct, blocks, what = m.groups()
            pending = (VG_KIND[what], num(direct or total), num(blocks))
            continue
        m = VG_FRAME.match(line)
        if m and pending and os.path.basename(m.group(1)) == source:
            kind, nbytes, nblocks = pending
            acc = out.setdefault((int(m.group(2)), kind), [0, 0])
            acc[0] += nbytes
            acc[1] += nblocks
            pending = None
        elif not line.rstrip("= 0123456789"):
            pending = None  # a blank line ends a record
    return out


def memtrace_records(prog, source):
    """The same from `memtrace leaks --format json --kinds all`."""
    log = os.path.join(it.TMP, os.path.basename(prog) + ".mtr")
    p = it.memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, f"memtrace run --leak-check {prog}\n{show(p)}")
    rep = it.leaks_json(log, "--kinds", "all")
    check(rep.get("classified") is True, f"{prog}: no leak scan in the log")
    out = {}
    for r in rep["leaks"]:
        own = [f for f in r["stack"] if os.path.basename(f.get("file") or "") == source]
        if not own:
            continue
        acc = out.setdefault((own[0]["line"], r["kind"]), [0, 0])
        acc[0] += r["bytes"]
        acc[1] += r["blocks"]
    return out


def expected_lines(src):
    """Lines marked with the kind memcheck gives ("memcheck: possibly lost")."""
    kinds = {"reachable": "reachable", "possibly lost": "possible", "definitely lost": "definite"}
    marks = {}
    with open(src) as f:
        for n, line in enumerate(f, 1):
            m = re.search(r"memcheck: (reachable|possibly lost|definitely lost)", line)
            if m:
                marks[n] = kinds[m.group(1)]
    return marks


def compilers(lang):
    cands = (["gcc", "clang"] if lang == "c" else ["g++", "clang++"])
    found = [c for c in cands if shutil.which(c)]
    if not found:
        raise Skip(f"no {lang} compiler")
    return found


def compare(src, flags=(), lang="c", variants=((),)):
    if not shutil.which("valgrind"):
        raise Skip("valgrind is not installed")
    source = os.path.basename(src)
    marks = expected_lines(src)
    ran = 0
    for cc in compilers(lang):
        for extra in variants:
            tag = "-".join([cc.replace("+", "x")] + [e.strip("-").replace("=", "") for e in extra])
            prog = os.path.join(it.TMP, f"{os.path.splitext(source)[0]}-{tag}")
            # valgrind 3.19 cannot read clang 14's default DWARF 5 (DW_FORM_addrx): DWARF 4.
            dwarf = ["-gdwarf-4"] if "clang" in cc else []
            p = it.run([cc, "-g", *dwarf, "-O1", *flags, *extra, "-o", prog, src])
            check(p.returncode == 0, f"{cc} {src}\n{show(p)}")
            vg = {k: tuple(v) for k, v in valgrind_records(prog, source).items()}
            mt = {k: tuple(v) for k, v in memtrace_records(prog, source).items()}
            check(vg, f"{tag}: valgrind reported no block of {source}")
            check(mt == vg, f"{tag}: memtrace and valgrind differ:\n"
                  f"  only memtrace: {sorted(set(mt.items()) - set(vg.items()))}\n"
                  f"  only valgrind: {sorted(set(vg.items()) - set(mt.items()))}")
            # The program says, per line, what memcheck decides: both tools must agree with it.
            for line, kind in marks.items():
                check(any(k == (line, kind) for k in mt),
                      f"{tag}: {source}:{line} should be {kind}; memtrace says "
                      f"{[k for k in mt if k[0] == line]}")
            ran += 1
    return ran


@case(300)
def case_leaks_heuristics_c():
    src = os.path.join(it.ARGS.source_root, "tests", "leaks", "heuristics.c")
    compare(src)


@case(300)
def case_leaks_heuristics_cpp():
    src = os.path.join(it.ARGS.source_root, "tests", "leaks", "heuristics.cpp")
    # The old string ABI is what the stdstring heuristic knows (a copy-on-write _Rep).
    compare(src, lang="c++",
            variants=(("-D_GLIBCXX_USE_CXX11_ABI=0",), ("-D_GLIBCXX_USE_CXX11_ABI=1",)))
