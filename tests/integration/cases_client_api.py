# SPDX-License-Identifier: MIT
# The client API (include/memtrace.h): a program's own allocator reports its blocks (kind
# "custom") and marks its phases. samples/custom_pool.c knows its answer: 40 objects of 48
# bytes carved from one slab of 3,136 bytes (a 64-byte header, 64 slots), 30 freed, 10 leaked.
import os
import re

import mt_harness as it
from mt_harness import (check, show, memtrace, record, report_json, leaks_json, sample_exe,
                        build_c, compile_c, write, run)

case = it.suite("integration", "client_api")

OBJ, LEAKED, SLAB = 48, 10, 64 + 64 * 48
MARKS = ["start", "allocated", "freed", "end"]


def include_dir():
    return os.path.join(it.ARGS.source_root, "include")


def stack_functions(leak):
    return [f["function"] for f in leak["stack"]]


@case(120)
def case_client_api_pool():
    prog = sample_exe("custom_pool")
    plain = run([prog])
    check(plain.returncode == 0, f"custom_pool without memtrace\n{show(plain)}")
    log = os.path.join(it.TMP, "pool.mtr")
    p = record(log, prog)
    check(p.stdout == plain.stdout,
          f"the program's output must not change under memtrace:\n{plain.stdout!r}\n{show(p)}")
    rep = report_json(log)
    want = {"allocations": 41, "frees": 31, "leaked_bytes": LEAKED * OBJ,
            "leaked_blocks": LEAKED, "unknown_frees": 0, "bytes_allocated": SLAB + 40 * OBJ}
    got = {k: rep[k] for k in want}
    check(got == want, f"report: {got}, expected {want}")
    check(rep["allocations_by_kind"]["malloc"] == 1, f"one malloc: {rep['allocations_by_kind']}")
    check(rep["custom"] == {"allocations": 40, "bytes_allocated": 40 * OBJ,
                            "leaked_bytes": LEAKED * OBJ, "leaked_blocks": LEAKED},
          f"custom: {rep.get('custom')}")
    names = [m["name"] for m in rep["marks"]]
    check(names == MARKS, f"marks {names}, expected {MARKS}")
    times = [m["t_s"] for m in rep["marks"]]
    check(times == sorted(times), f"marks out of time order: {rep['marks']}")
    # text: the custom row and one row per mark, in order
    txt = memtrace("report", log).stdout
    check("custom blocks      40 allocations, 1.88 KiB (1,920 B); 10 not freed, 480 B" in txt,
          f"no custom row in the text report\n{txt}")
    rows = [l.split()[-1] for l in txt.splitlines() if l.startswith("  mark ")]
    check(rows == MARKS, f"text mark rows {rows}\n{txt}")
    # leaks without the leak check: the pool's objects, with the stack of their allocation
    lk = leaks_json(log)
    check(len(lk["leaks"]) == 1 and lk["leaks"][0]["bytes"] == LEAKED * OBJ and
          lk["leaks"][0]["blocks"] == LEAKED, f"leaks: {lk['leaks']}")
    fns = stack_functions(lk["leaks"][0])
    check(fns[:3] == ["pool_alloc", "leak_objects", "main"], f"leak stack {fns}")
    p = memtrace("leaks", "--error-exitcode", "3", log)
    check(p.returncode == 3, f"leaks --error-exitcode 3 with leaked pool objects\n{show(p)}")
    # the timeline (SVG, and the HTML page that embeds it) draws a line per mark
    svg = os.path.join(it.TMP, "t.svg")
    p = memtrace("timeline", "-o", svg, log)
    check(p.returncode == 0, show(p))
    with open(svg) as f:
        body = f.read()
    lines = body.count('<g class="mark">')
    check(lines == 4 and ">allocated</text>" in body, f"timeline: {lines} mark lines, not 4")
    page = os.path.join(it.TMP, "p.html")
    p = memtrace("html", "-o", page, log)
    check(p.returncode == 0, show(p))
    with open(page) as f:
        body = f.read()
    check('data-key="custom_allocations" data-value="40"' in body and
          "10 not freed (480 B)" in body, "the page has no custom blocks row")
    marks = re.search(r'data-key="marks">([^<]*)<', body)
    check(marks and [m.split(" at ")[0] for m in marks.group(1).split(", ")] == MARKS,
          f"the page's marks: {marks and marks.group(1)}")


@case(60)
def case_window_marks():
    """--from/--to name the program's marks (memtrace_mark), bare or as mark:NAME: between
    "start" and "allocated" the pool's slab and its 40 objects are allocated and all held at
    the window's end; between "allocated" and "freed" nothing is allocated. A mark the log
    lacks, and a log without marks, are one-line errors that name what there is."""
    log = os.path.join(it.TMP, "pool_marks.mtr")
    p = record(log, sample_exe("custom_pool"))
    for frm, to in (("start", "allocated"), ("mark:start", "mark:allocated")):
        rep = report_json(log, "--from", frm, "--to", to)
        got = (rep["allocations"], rep["bytes_allocated"], rep["leaked_blocks"])
        check(got == (41, SLAB + 40 * OBJ, 41) and not rep["window"]["to_end_of_log"],
              f"--from {frm} --to {to}: (allocations, bytes, held blocks) {got}, window "
              f"{rep['window']}; want (41, {SLAB + 40 * OBJ}, 41)\n{show(p)}")
    rep = report_json(log, "--from", "allocated", "--to", "freed")
    check(rep["allocations"] == 0 and rep["leaked_blocks"] == 0,
          f"--from allocated --to freed: {rep['allocations']} allocations")
    for args, want in ((["--from", "nosuch"], "--from 'nosuch': no mark of that name in the log "
                        "(marks: start, allocated, freed, end)"),
                       (["--from", "freed", "--to", "allocated"], "--from freed (0.")):
        q = memtrace("report", *args, log)
        check(q.returncode == 2 and q.stderr.count("\n") == 1 and
              q.stderr.startswith("memtrace: report: " + want),
              f"report {' '.join(args)}: want one line with {want!r}\n{show(q)}")
    plain = os.path.join(it.TMP, "no_marks.mtr")
    record(plain, sample_exe("leak"))
    q = memtrace("report", "--to", "mark:x", plain)
    check(q.returncode == 2 and "--to 'mark:x': the log has no marks" in q.stderr,
          f"a log without marks\n{show(q)}")


@case(120)
def case_client_api_leak_check():
    prog = sample_exe("custom_pool")
    # "keep": the slab stays referenced by a global until exit. It holds the objects, so the
    # scan sets it aside (reachable); the 10 objects nobody points to are definitely lost.
    log = os.path.join(it.TMP, "keep.mtr")
    p = memtrace("run", "-q", "--error-exitcode=3", "-o", log, "--", prog, "keep")
    check(p.returncode == 3, f"--error-exitcode=3 with leaked pool objects\n{show(p)}")
    check("480 bytes of leaks of a failing kind" in p.stderr and "in pool_alloc" in p.stderr,
          f"the failing line names the pool\n{show(p)}")
    lk = leaks_json(log)
    t = lk["totals"]
    check(t["definite"] == {"bytes": LEAKED * OBJ, "blocks": LEAKED} and
          t["indirect"]["blocks"] == 0 and t["possible"]["blocks"] == 0 and
          t["reachable"] == {"bytes": SLAB, "blocks": 1}, f"totals {t}")
    check(lk["scan"]["inconsistencies"] == 0, f"scan {lk['scan']}")
    fns = stack_functions(lk["leaks"][0])
    check(lk["leaks"][0]["kind"] == "definite" and fns[:3] == ["pool_alloc", "leak_objects",
                                                                "main"], f"leak {lk['leaks'][0]}")
    p = memtrace("leaks", "--error-exitcode", "3", log)
    check(p.returncode == 3, f"memtrace leaks --error-exitcode 3\n{show(p)}")
    # fragmentation is glibc's: the slab is its chunk, the objects in it are none
    fr = it.json_of("fragmentation", "--format", "json", log)
    check(fr["overhead"]["requested_bytes"] == SLAB, f"fragmentation {fr['overhead']}")
    # "lose": nothing points to the slab any more. It is still no leak of its own (its bytes
    # are the pool's objects, checked one by one), so they are not counted twice.
    log = os.path.join(it.TMP, "lose.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog, "lose")
    check(p.returncode == 0, show(p))
    t = leaks_json(log)["totals"]
    check(t["definite"] == {"bytes": LEAKED * OBJ, "blocks": LEAKED} and
          t["possible"]["blocks"] == 0 and t["reachable"] == {"bytes": SLAB, "blocks": 1},
          f"lose: totals {t}")
    # default: the slab is freed at the end, the objects in it were never freed
    log = os.path.join(it.TMP, "destroy.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, show(p))
    t = leaks_json(log)["totals"]
    check(t["definite"] == {"bytes": LEAKED * OBJ, "blocks": LEAKED} and
          t["reachable"]["blocks"] == 0, f"totals {t}")


# A custom block is no glibc chunk: the word before it here looks like a huge chunk size, which
# glibc's malloc_usable_size would follow (a fault) if memtrace asked it about the block.
HEADER_C = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "memtrace.h"

int main(void)
{
    unsigned char *slab = malloc(4096);
    uint64_t fake = (uint64_t)1 << 44 | 1; /* size 16 TiB, previous chunk in use */
    memcpy(slab + 56, &fake, sizeof fake);
    void *obj = slab + 64;
    memtrace_alloc(obj, 100);
    memtrace_mark("one");
    memtrace_free(obj);
    memtrace_alloc(slab + 64, 200); /* leaked */
    free(slab);
    return write(1, "done\n", 5) == 5 ? 0 : 1; /* no stdio buffer: one malloc in all */
}
"""

# C++, and every call of the header: realloc moves a block, a mark longer than 255 bytes is cut.
POOL_CPP = r"""
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include "memtrace.h"

struct Node { long v[8]; };                     // 64 bytes

static unsigned char arena[1 << 16];
static std::size_t used;

static void *take(std::size_t n) { void *p = arena + used; used += n; return p; }

int main()
{
    memtrace_mark(std::string(300, 'm').c_str());
    Node *kept[5];
    for (int i = 0; i < 5; i++) {
        kept[i] = new (take(sizeof(Node))) Node();
        memtrace_alloc(kept[i], sizeof(Node));
    }
    void *grown = take(256);
    memtrace_realloc(kept[0], grown, 256);      // kept[0] moved and grew: 256 bytes live
    for (int i = 1; i < 5; i++)
        memtrace_free(kept[i]);
    memtrace_realloc(grown, nullptr, 512);      // failed: grown stays
    std::printf("used %zu\n", used);
    return 0;
}
"""


@case(180)
def case_client_api_header():
    inc = "-I" + include_dir()
    c = build_c("hdr", HEADER_C, inc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
                "-O2")
    plain = run([c])
    check(plain.returncode == 0 and plain.stdout == "done\n", f"without memtrace\n{show(plain)}")
    log = os.path.join(it.TMP, "hdr.mtr")
    p = record(log, c)
    check(p.stdout == "done\n", show(p))
    rep = report_json(log)
    check(rep["custom"] == {"allocations": 2, "bytes_allocated": 300, "leaked_bytes": 200,
                            "leaked_blocks": 1}, f"custom {rep.get('custom')}")
    check(rep["unknown_frees"] == 0 and rep["leaked_blocks"] == 1, f"report {rep}")
    check([m["name"] for m in rep["marks"]] == ["one"], f"marks {rep.get('marks')}")
    # code that is not position-independent (-fno-pie): the weak symbols are still bound
    nopie = build_c("hdr_nopie", HEADER_C, inc, "-O2", "-fno-pie", "-no-pie")
    check(run([nopie]).stdout == "done\n", "-fno-pie without memtrace")
    log = os.path.join(it.TMP, "nopie.mtr")
    record(log, nopie)
    rep = report_json(log)
    check(rep.get("custom", {}).get("allocations") == 2 and len(rep.get("marks", [])) == 1,
          f"-fno-pie -no-pie: custom {rep.get('custom')}, marks {rep.get('marks')}")
    # compiled away: MEMTRACE_DISABLE, nothing reported even under memtrace
    d = os.path.join(it.TMP, "hdr_off")
    p = compile_c(write("hdr_off.c", HEADER_C), d, inc, "-DMEMTRACE_DISABLE", "-Wall",
                  "-Werror")
    check(p.returncode == 0, show(p))
    log = os.path.join(it.TMP, "off.mtr")
    record(log, d)
    rep = report_json(log)
    check("custom" not in rep and "marks" not in rep, f"disabled header reported {rep}")
    # C++
    cxx = os.environ.get("CXX") or "c++"
    exe = os.path.join(it.TMP, "pool_cpp")
    p = run([*cxx.split(), inc, "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o",
             exe, write("pool.cpp", POOL_CPP)])
    check(p.returncode == 0, f"cannot build pool.cpp\n{show(p)}")
    plain = run([exe])
    check(plain.returncode == 0, show(plain))
    log = os.path.join(it.TMP, "cpp.mtr")
    p = record(log, exe)
    check(p.stdout == plain.stdout, show(p))
    rep = report_json(log)
    check(rep["custom"] == {"allocations": 6, "bytes_allocated": 5 * 64 + 256,
                            "leaked_bytes": 256, "leaked_blocks": 1}, f"custom {rep.get('custom')}")
    check(rep["unknown_frees"] == 0, f"report {rep}")
    check([m["name"] for m in rep["marks"]] == ["m" * 255], f"marks {rep.get('marks')}")
