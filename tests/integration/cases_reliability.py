# SPDX-License-Identifier: MIT
# Integration tests of issue 7 (reliability): exact accounting under load, programs with their
# own allocator, crashes on a broken stack, the program's own signal handlers, threads and
# allocations at odd moments. Same conventions and helpers as mt_harness.py (exit 0 pass,
# 77 skip); one meson test per case.
import os
import shutil
import signal

import mt_harness as it
from mt_harness import Skip, check, leaks_json, memtrace, report_json, show, SAMPLE_LINE

case = it.suite("integration")


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

def stress_exact(name, env=None):
    """Records the stress sample and checks the report's counts against the program's own."""
    prog = it.sample_exe("stress")
    ops = os.environ.get("MT_STRESS_OPS", "1000000")
    log = os.path.join(it.TMP, f"{name}.mtr")
    p = memtrace("run", "-q", "-o", log, "--", prog, ops, timeout=1800, env=env)
    check(p.returncode == 0, f"memtrace run stress {ops}\n{show(p)}")
    want = truth_of(p, "stress")
    rep = report_json(log, "--top", "1000000")
    check(not rep["truncated"], f"the log is truncated: {rep['truncation']}")
    check(rep["unknown_frees"] == 0, f"{rep['unknown_frees']} frees of unknown blocks")
    got = own_totals(rep, prog)
    check(got == want, f"report: allocations={got[0]} frees={got[1]} leaked_bytes={got[2]} "
          f"leaked_blocks={got[3]}; the program counted allocations={want[0]} frees={want[1]} "
          f"leaked_bytes={want[2]} leaked_blocks={want[3]}")
    cross = cross_thread_of(p, "stress")
    print(f"  {name} {ops} ops/thread: allocations={got[0]} frees={got[1]} "
          f"leaked_bytes={got[2]} leaked_blocks={got[3]}: exact; {cross[0]} cross-thread frees, "
          f"{cross[1]} addresses reused across threads")


@case(300)
def case_stress():
    """16 threads of mixed malloc/calloc/realloc/free with cross-thread frees: the report's
    counts equal the program's own, exactly. Each thread records through its own event ring
    (preload/record/event_ring.c), merged by stamp. MT_STRESS_OPS sets the calls per thread
    (CI default 100000; the full run is 1000000, see README)."""
    stress_exact("stress")


@case(300)
def case_stress_locked():
    """The same with MEMTRACE_RINGS=0: every event through the writer lock, the path of
    threads without a slot and of machines without an invariant TSC."""
    stress_exact("stress-locked", env=dict(os.environ, MEMTRACE_RINGS="0"))


def cross_thread_of(p, name):
    """(cross_frees, reused) of the sample's `memtrace-stress:` line, both checked non-zero:
    the run must have freed blocks on other threads and handed their addresses to yet
    another thread, or it did not test what it is for."""
    kv = it.sample_kv(p.stdout, "stress")
    cross, reused = int(kv["cross_frees"]), int(kv["reused"])
    check(cross > 0 and reused > 0, f"{name}: {cross} cross-thread frees, {reused} addresses "
          f"reused across threads; the test needs both\n{show(p)}")
    return cross, reused


@case(300)
def case_stress_leak_check():
    """The stress program under --leak-check: the same exact counts, and the leak check finds
    exactly the blocks the program kept, all reachable (its workers' slots, a static array,
    still point to them), nothing lost at its sites."""
    prog = it.sample_exe("stress")
    ops = os.environ.get("MT_STRESS_OPS", "1000000")
    log = os.path.join(it.TMP, "stress-leak-check.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog, ops, timeout=1800)
    check(p.returncode == 0, f"memtrace run --leak-check stress {ops}\n{show(p)}")
    want = truth_of(p, "stress")
    cross_thread_of(p, "stress")
    rep = report_json(log, "--top", "1000000")
    check(not rep["truncated"], f"the log is truncated: {rep['truncation']}")
    check(rep["unknown_frees"] == 0, f"{rep['unknown_frees']} frees of unknown blocks")
    got = own_totals(rep, prog)
    check(got == want, f"report: {got}; the program counted {want}")
    lk = it.leaks_json(log, "--kinds", "all")
    check(lk.get("classified") is True, f"no leak scan in the log: {lk.get('classified')}")
    kinds = {}
    for r in lk.get("leaks") or []:
        stack = r.get("stack") or [{}]
        if os.path.realpath(stack[0].get("module") or "") != os.path.realpath(prog):
            continue
        b, n = kinds.get(r["kind"], (0, 0))
        kinds[r["kind"]] = (b + r["bytes"], n + r["blocks"])
    check(kinds == {"reachable": (want[2], want[3])},
          f"leak check at the program's sites: {kinds}; it kept {want[2]} bytes in {want[3]} "
          f"blocks, all reachable")
    print(f"  stress --leak-check {ops} ops/thread: {want[3]} blocks of {want[2]} bytes "
          f"reachable, exact")


def script_native_sites(rows):
    """(bytes, blocks, allocations) summed over the report rows (sites or leaks) whose innermost
    frame is libffi's call and whose stack holds a line of py_stress.py: the script's own
    native calls, through ctypes."""
    got = [0, 0, 0]
    for r in rows or []:
        stack = r.get("stack") or [{}]
        if "libffi" not in os.path.basename(stack[0].get("module") or ""):
            continue
        if not any(f.get("python") and (f.get("file") or "").endswith("py_stress.py")
                   for f in stack):
            continue
        got[0] += r.get("leaked_bytes", r.get("bytes", 0))
        got[1] += r.get("leaked_blocks", r.get("blocks", 0))
        got[2] += r.get("allocations", 0)
    return tuple(got)


def py_stress_exact(name, leak_check):
    """Records samples/py_stress.py and checks the report's counts at the script's native
    sites against the script's own, with zero unknown frees; returns (log, the script's
    counts)."""
    script = it.py_sample("py_stress.py")
    ops = os.environ.get("MT_PY_STRESS_OPS", "4000")
    log = os.path.join(it.TMP, f"{name}.mtr")
    extra = ["--leak-check"] if leak_check else []
    p = memtrace("run", "-q", *extra, "-o", log, "--", it.PYTHON, script, ops, timeout=600)
    check(p.returncode == 0, f"memtrace run {' '.join(extra)} python3 py_stress.py {ops}\n{show(p)}")
    want = truth_of(p, "py_stress")
    kv = it.sample_kv(p.stdout, "pystress")
    cross, reused = int(kv["cross_frees"]), int(kv["reused"])
    check(cross > 0 and reused > 0, f"{cross} cross-thread frees, {reused} addresses reused "
          f"across threads; the test needs both\n{show(p)}")
    rep = report_json(log, "--top", "1000000")
    check(not rep["truncated"], f"the log is truncated: {rep['truncation']}")
    check(rep["unknown_frees"] == 0, f"{rep['unknown_frees']} frees of unknown blocks")
    check(rep["allocations_by_kind"]["PyObject_Malloc"] > 0, "no Python object allocations")
    leaked, blocks, alloc = script_native_sites(rep.get("top_sites"))
    got = (alloc, alloc - blocks, leaked, blocks)
    check(got == want, f"report: allocations={got[0]} frees={got[1]} leaked_bytes={got[2]} "
          f"leaked_blocks={got[3]}; the script counted allocations={want[0]} frees={want[1]} "
          f"leaked_bytes={want[2]} leaked_blocks={want[3]}")
    print(f"  {name} {ops} ops/thread: allocations={got[0]} leaked_bytes={got[2]} "
          f"leaked_blocks={got[3]}: exact; {cross} cross-thread frees, {reused} reused")
    return log, want


@case(300, needs="python_frames")
def case_stress_python():
    """samples/py_stress.py: 16 Python threads call libc's malloc, realloc and free through
    ctypes (at once: ctypes releases the GIL), free each other's blocks through queue.Queue,
    reuse each other's addresses, and make Python objects in between. The native calls are
    the sites whose innermost frame is libffi's call and whose Python frame is the script's;
    their counts and kept bytes equal the script's own, with zero unknown frees."""
    py_stress_exact("py_stress", leak_check=False)


@case(300, needs="python_frames")
def case_stress_python_leak_check():
    """The same under --leak-check (the scan stops every thread, the rings close for it): the
    same exact counts; the script's kept blocks are its end-of-script leaks, exactly; and the
    scan after finalization classifies every one of them. Their kinds vary from run to run
    (the script keeps the addresses as Python ints, not pointers, so the scan finds only
    stale copies in reused memory), so only the sum over kinds is exact."""
    log, want = py_stress_exact("py_stress-leak-check", leak_check=True)
    at_end = it.leaks_json(log, "--kinds", "all")
    got = script_native_sites(at_end.get("leaks"))[:2]
    check(got == (want[2], want[3]), f"held at the script's end at its native sites: {got}; it "
          f"kept {want[2]} bytes in {want[3]} blocks")
    after = it.leaks_json(log, "--after-finalization", "--kinds", "all")
    check(after.get("classified") is True, f"no leak scan in the log: {after.get('classified')}")
    kinds = {r["kind"] for r in after.get("leaks") or []}
    check("unclassified" not in kinds, f"the scan left blocks unclassified: {sorted(kinds)}")
    got = script_native_sites(after.get("leaks"))[:2]
    check(got == (want[2], want[3]), f"the scan after finalization at the script's native "
          f"sites: {got} over all kinds; it kept {want[2]} bytes in {want[3]} blocks")
    print(f"  py_stress --leak-check: {want[3]} blocks of {want[2]} bytes, at the script's end "
          f"and in the scan after finalization, exact")


# ---- programs with their own allocator ----

OWN_ALLOC_C = r"""
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
    for (int i = 0; i < 100; i++)
        free(malloc(100));
    void *volatile keep = malloc(64);
    (void)keep;
    printf("memtrace-sample: allocations=101 frees=100 leaked_bytes=64 leaked_blocks=1\n");
    return 0;
}
"""

OWN_ALLOC_CXX = r"""
#include <cstdio>
int main()
{
    for (int i = 0; i < 100; i++)
        delete[] new int[25];
    std::printf("done\n");
}
"""

LIBDIR = "/usr/lib/x86_64-linux-gnu"


def build_prog(name, src_text, *link, cxx=False):
    src = it.write(name + (".cpp" if cxx else ".c"), src_text)
    exe = os.path.join(it.TMP, name)
    cc = ["c++"] if cxx else [it.ARGS.cc or "cc"]
    p = it.run([*cc, "-O0", "-o", exe, src, *link])
    check(p.returncode == 0, f"cannot build {name}\n{show(p)}")
    return exe


DEEPBIND_LIB = r"""
#include <stdlib.h>
#include <string.h>
char *make(int n) { char *p = malloc((size_t)n); memset(p, 1, (size_t)n); return p; }
void drop(char *p) { free(p); }
"""

DEEPBIND_MAIN = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND);
    if (!h)
        return 2;
    char *(*make)(int) = (char *(*)(int))dlsym(h, "make");
    void (*drop)(char *) = (void (*)(char *))dlsym(h, "drop");
    for (int i = 0; i < 10; i++)
        free(make(100 + i));
    for (int i = 0; i < 10; i++)
        drop(malloc(200 + (size_t)i));
    printf("done\n");
    return 0;
}
"""


@case(60)
def case_deepbind_notice():
    """A library dlopen'ed with RTLD_DEEPBIND calls glibc's malloc and free directly, past the
    preload: its blocks' counts cannot be right (frees of blocks never seen, blocks it frees
    left as not freed). memtrace must say so, once, on stderr and in the report and leaks,
    instead of giving those numbers silently."""
    lib = os.path.join(it.TMP, "libdeep.so")
    c = it.run([it.ARGS.cc or "cc", "-shared", "-fPIC", "-o", lib,
                it.write("deep.c", DEEPBIND_LIB)])
    check(c.returncode == 0, f"cannot build libdeep.so\n{show(c)}")
    prog = build_prog("deep_main", DEEPBIND_MAIN, "-ldl")
    log = os.path.join(it.TMP, "deep.mtr")
    p = memtrace("run", "-q", "-o", log, "--", prog, lib)
    want = (f"{lib} is loaded with RTLD_DEEPBIND: its malloc and free calls bypass memtrace "
            "(blocks it allocates are not seen; blocks it frees look not freed)")
    check(p.returncode == 0 and p.stdout == "done\n", f"the program under memtrace\n{show(p)}")
    check(p.stderr == f"memtrace: {want}\n", f"one line on stderr expected\n{show(p)}")
    rep = report_json(log)
    check(rep["allocator_notice"] == want, f"report: notice {rep.get('allocator_notice')!r}")
    check(rep["unknown_frees"] == 10, f"{rep['unknown_frees']} unknown frees, the library made 10")
    t = memtrace("leaks", log)
    check(f"warning: {want}" in t.stdout, f"memtrace leaks says nothing\n{show(t)}")


@case(120)
def case_own_allocator():
    """jemalloc linked statically: nothing reaches the hooks, so memtrace says so on stderr and
    in the report (a warning, not a refusal: mmap and the rest are still recorded). Linked
    dynamically, malloc is still seen (exact counts) and only the log notes the allocator.
    tcmalloc's operator new in a C++ program: one stderr line."""
    je_static = os.path.join(LIBDIR, "libjemalloc_pic.a")
    if not os.path.exists(je_static) or not os.path.exists(os.path.join(LIBDIR, "libjemalloc.so")):
        raise Skip("libjemalloc-dev is not installed")
    prog = build_prog("je_static", OWN_ALLOC_C, je_static, "-lpthread", "-lm", "-ldl")
    log = os.path.join(it.TMP, "je_static.mtr")
    p = memtrace("run", "-q", "-o", log, "--", prog)
    check(p.returncode == 0, f"memtrace run je_static\n{show(p)}")
    want = "memtrace: je_static uses its own malloc (a statically linked allocator such as " \
           "jemalloc); its allocations are not seen"
    check(want in p.stderr, f"no allocator warning on stderr\n{show(p)}")
    check(p.stderr.count("memtrace:") == 1, f"more than one line\n{show(p)}")
    rep = report_json(log)
    check(rep["allocator_notice"] and "are not seen" in rep["allocator_notice"],
          f"the report has no allocator notice: {rep.get('allocator_notice')}")
    t = memtrace("report", log)
    check("warning: je_static uses its own malloc" in t.stdout, f"text report\n{show(t)}")

    prog = build_prog("je_dynamic", OWN_ALLOC_C, "-ljemalloc")
    log = os.path.join(it.TMP, "je_dynamic.mtr")
    p = memtrace("run", "-q", "-o", log, "--", prog)
    check(p.returncode == 0 and "memtrace:" not in p.stderr,
          f"dynamic jemalloc: no warning expected (malloc is interposed)\n{show(p)}")
    rep = report_json(log, "--top", "1000")
    got = it.own_calls(rep, prog)
    check(got == truth_of(p, "je_dynamic"), f"dynamic jemalloc: report {got}\n{show(p)}")
    check("je_dynamic's malloc is jemalloc (libjemalloc.so.2)" in (rep["allocator_notice"] or ""),
          f"dynamic jemalloc: notice {rep['allocator_notice']}")

    if not os.path.exists(os.path.join(LIBDIR, "libtcmalloc.so")) or not shutil.which("c++"):
        raise Skip("libgoogle-perftools-dev or c++ missing (jemalloc part passed)")
    prog = build_prog("tc_cxx", OWN_ALLOC_CXX, "-ltcmalloc", cxx=True)
    log = os.path.join(it.TMP, "tc.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    notice = ("tc_cxx's operator new/delete come from tcmalloc (libtcmalloc.so.4); C++ new and "
              "delete are not seen")
    check(p.returncode == 0 and "memtrace: " + notice in p.stderr,
          f"tcmalloc C++: no warning\n{show(p)}")
    # The leaks report, which CI reads, says what it cannot see too, in text and JSON.
    t = memtrace("leaks", log)
    check("warning: " + notice in t.stdout, f"memtrace leaks: no allocator warning\n{show(t)}")
    j = leaks_json(log)
    check(notice in (j.get("allocator_notice") or ""),
          f"leaks JSON: allocator_notice {j.get('allocator_notice')!r}")


POOL_NEW_CXX = r"""
#include <cstddef>
#include <cstdio>
#include <new>
static unsigned char arena[1 << 20];
static std::size_t used;
void *operator new(std::size_t n)
{
    void *p = arena + used;
    used += (n + 15) & ~std::size_t(15);
    return p;
}
void operator delete(void *) noexcept {}
void operator delete(void *, std::size_t) noexcept {}
int main()
{
    for (int i = 0; i < 100; i++)
        delete[] new int[25];
    std::printf("done\n");
}
"""


@case(120)
def case_cxx_new_seen():
    """Issue 16 item 4: an operator new that calls malloc is seen, so no warning: the sample
    that replaces new/delete to count its own calls (counts exact), and a program linked with
    -static-libstdc++ (its operator new is in the executable, and calls malloc: 100 calls of
    100 bytes seen). An operator new of the program's own that never calls malloc (a pool) is
    not seen: the warning stays."""
    if not shutil.which("c++"):
        raise Skip("c++ missing")
    warn = "C++ new and delete are not seen"
    prog = it.sample_exe("cpp_containers")
    log = os.path.join(it.TMP, "cxx_seen.mtr")
    p = memtrace("run", "-o", log, "--", prog)
    check(p.returncode == 0 and warn not in p.stderr,
          f"cpp_containers: its new calls malloc, yet a warning\n{show(p)}")
    rep = report_json(log, "--top", "1000")
    got = it.own_calls(rep, prog, anywhere=True)
    check(got == truth_of(p, "cpp_containers"), f"cpp_containers: report {got}\n{show(p)}")

    prog = build_prog("static_cxx", OWN_ALLOC_CXX, "-static-libstdc++", cxx=True)
    log = os.path.join(it.TMP, "static_cxx.mtr")
    p = memtrace("run", "-o", log, "--", prog)
    check(p.returncode == 0 and warn not in p.stderr,
          f"-static-libstdc++: its new calls malloc, yet a warning\n{show(p)}")
    rep = report_json(log, "--top", "1000")
    sites = [s for s in rep["top_sites"]
             if any("main" == (f.get("function") or "") for f in s.get("stack") or [])
             and s["allocations"] == 100]
    check(len(sites) == 1 and sites[0]["bytes"] == 10000,
          f"-static-libstdc++: no site of 100 allocations of 100 bytes under main: "
          f"{[(s['allocations'], s['bytes']) for s in rep['top_sites']]}")

    prog = build_prog("pool_new", POOL_NEW_CXX, cxx=True)
    p = memtrace("run", "-q", "-o", os.path.join(it.TMP, "pool_new.mtr"), "--", prog)
    check(p.returncode == 0 and "memtrace: pool_new's operator new/delete come from its own "
          "allocator (linked into the executable); C++ new and delete are not seen, only malloc "
          "and free" in p.stderr, f"own pool: no warning\n{show(p)}")
    check(p.stderr.count("memtrace:") == 1, f"own pool: more than one line\n{show(p)}")


# ---- crashes and the program's own signal handlers ----

@case(60)
def case_stack_overflow():
    """Endless recursion: SIGSEGV on a full stack. The handler runs on its alternate stack,
    the log ends with EXIT(signal 11), memtrace run ends by signal 11 too, and what was live is
    there."""
    prog = it.sample_exe("stack_overflow")
    log = os.path.join(it.TMP, "so.mtr")
    p = memtrace("run", "-q", "-o", log, "--", prog)
    check(p.returncode == -signal.SIGSEGV, f"expected the end by SIGSEGV\n{show(p)}")
    want = truth_of(p, "stack_overflow")
    rep = report_json(log, "--top", "1000")
    check(rep["exit"] == {"reason": "signal", "status": signal.SIGSEGV},
          f"the log does not end with the signal: exit={rep['exit']} "
          f"truncation={rep['truncation']}")
    check(not rep["truncated"], f"the log lost its end: {rep['truncation']}")
    got = it.own_calls(rep, prog)
    check(got == want, f"report {got}, the program counted {want}")
    t = memtrace("report", log)
    check("killed by signal 11" in t.stdout, f"text report does not say so\n{show(t)}")


@case(60)
def case_own_signal_handler():
    """The program's own SIGSEGV handler (installed after checking the old action is SIG_DFL)
    catches a real fault and the program exits normally, with exact counts."""
    prog = it.sample_exe("own_handler")
    log = os.path.join(it.TMP, "oh.mtr")
    p = memtrace("run", "-q", "-o", log, "--", prog)
    check(p.returncode == 0, f"own_handler under memtrace\n{show(p)}")
    check("old SIGSEGV action: default" in p.stdout and "old SIGBUS action: default" in p.stdout,
          f"the program saw memtrace's handler\n{show(p)}")
    check("handler ran 1 time(s), page[10]=42" in p.stdout, f"its handler did not run\n{show(p)}")
    rep = report_json(log, "--top", "1000")
    check(rep["exit"] == {"reason": "normal", "status": 0}, f"exit {rep['exit']}")
    got = it.own_calls(rep, prog)
    check(got == truth_of(p, "own_handler"), f"report {got}\n{show(p)}")


# ---- threads and allocations at odd moments ----

def calls_in(rep, modules):
    """Like it.own_calls, for the sites whose innermost frame is in any of modules."""
    mods = {os.path.realpath(m) for m in modules}
    alloc = leaked = blocks = 0
    for site in rep.get("top_sites", []):
        stack = site.get("stack") or [{}]
        if os.path.realpath(stack[0].get("module") or "") in mods:
            alloc += site["allocations"]
            leaked += site["leaked_bytes"]
            blocks += site["leaked_blocks"]
    return (alloc, alloc - blocks, leaked, blocks)


@case(60)
def case_lifecycle():
    """400 threads that start and end, TLS destructors, a signal handler, an atexit handler and
    a shared library's destructor, all allocating: exact counts, and the report's frees agree
    once the C library's own blocks (per-thread bookkeeping) are set apart."""
    prog = it.sample_exe("lifecycle")
    dso = os.path.join(it.ARGS.build_root, "samples", "liblifecycle_dso.so")
    log = os.path.join(it.TMP, "lifecycle.mtr")
    p = memtrace("run", "-q", "-o", log, "--", prog)
    check(p.returncode == 0, f"lifecycle under memtrace\n{show(p)}")
    want = truth_of(p, "lifecycle")
    rep = report_json(log, "--top", "1000000")
    check(rep["exit"] == {"reason": "normal", "status": 0} and not rep["truncated"],
          f"exit {rep['exit']}, truncation {rep['truncation']}")
    got = calls_in(rep, [prog, dso])
    check(got == want, f"report {got}, the program counted {want}")
    lib_alloc = rep["allocations"] - got[0]
    lib_live = rep["leaked_blocks"] - got[3]
    check(rep["frees"] - (lib_alloc - lib_live) == want[1],
          f"frees: report {rep['frees']}, library blocks {lib_alloc} ({lib_live} live)")


MANY_THREADS_C = r"""
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define THREADS 600
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t started;
static void *held[THREADS];
static void *run(void *arg)
{
    held[(long)arg] = malloc(24); /* reachable: a global points to it */
    pthread_barrier_wait(&started);
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock); /* still running at exit */
    return NULL;
}
int main(void)
{
    pthread_barrier_init(&started, NULL, THREADS + 1);
    for (long i = 0; i < THREADS; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, run, (void *)i) != 0)
            return 2;
    }
    pthread_barrier_wait(&started);
    char *volatile lost = malloc(1000);
    memset(lost, 1, 1000);
    lost = NULL;
    printf("%d threads running\n", THREADS);
    exit(0);
}
"""


@case(120)
def case_leaks_many_threads():
    """600 threads alive at exit, each with its alternate signal stack between thread stacks:
    the leak check still tells the one lost block apart. (Altstacks mapped with mt_map once
    filled the scan's table of excluded ranges, so the recorder's own block table became a root
    and every block looked reachable.)"""
    prog = build_prog("many_threads", MANY_THREADS_C, "-pthread")
    log = os.path.join(it.TMP, "mt.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog, timeout=120)
    check(p.returncode == 0, f"memtrace run --leak-check many_threads\n{show(p)}")
    rep = report_json(log)
    leaks = rep["leaks"]
    check(leaks and leaks["classified"], f"no leak check in the log: {leaks}")
    check((leaks["definite"]["bytes"], leaks["definite"]["blocks"]) == (1000, 1),
          f"expected 1000 bytes in 1 block definitely lost: {leaks}")
