# SPDX-License-Identifier: MIT
# `memtrace run --aggregate`: the recorder keeps per-site figures and writes only those at the
# end. The reports of an aggregated log must give what a full recording of the same program
# gives (top sites, peak and who held it, what was not freed, the leak check's kinds), the log
# must not grow with the run, and what needs the events must refuse with one line.
import os
import signal

import mt_harness as it
from mt_harness import check, show, memtrace, json_of, report_json, leaks_json, compile_c

case = it.suite("integration")

# Figures the program knows: site_peak holds 50 x 3000 B at the heap's peak and keeps 10 of
# them to the end; site_leak loses 5 x 77 B; the worker's site_small(40) blocks are all
# temporary. ROUNDS of churn (temporaries, a realloc that grows, one that fails and gives its
# block back) make the run as long as asked, from a second thread too.
AGG_C = r"""
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
void *volatile keep[64];
__attribute__((noinline)) static void *site_peak(void) { return malloc(3000); }
__attribute__((noinline)) static void *site_leak(void) { return malloc(77); }
__attribute__((noinline)) static void *site_small(size_t n) { return calloc(1, n); }
__attribute__((noinline)) static void *site_grow(void *p, size_t n) { return realloc(p, n); }
static void *worker(void *arg)
{
    for (long i = 0; i < (long)arg; i++) {
        void *volatile p = site_small(40);
        free(p);
    }
    return NULL;
}
int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 1000;
    pthread_t t;
    pthread_create(&t, NULL, worker, (void *)rounds);
    for (long r = 0; r < rounds; r++) {
        void *p = site_grow(site_small(24), 200);
        void *q = site_grow(p, (size_t)-1 / 4); /* fails: p stays valid */
        free(q ? q : p);
    }
    pthread_join(t, NULL);
    void *v[50];
    for (int i = 0; i < 50; i++)
        v[i] = site_peak();
    for (int i = 0; i < 50; i++)
        if (i < 10)
            keep[i] = v[i];
        else
            free(v[i]);
    for (int i = 0; i < 5; i++)
        (void)site_leak(); /* lost: no pointer to it anywhere */
    if (argc > 2 && strcmp(argv[2], "kill") == 0)
        raise(SIGKILL);
    if (argc > 2 && strcmp(argv[2], "abort") == 0)
        abort();
    return 0;
}
"""


def build():
    src = it.write("agg.c", AGG_C)
    exe = os.path.join(it.TMP, "agg")
    p = compile_c(src, exe, "-O1", "-g", "-fno-omit-frame-pointer", "-pthread")
    check(p.returncode == 0, f"cc agg.c\n{show(p)}")
    return exe


def record_both(exe, *args, extra=()):
    full = os.path.join(it.TMP, "full.mtr")
    agg = os.path.join(it.TMP, "agg.mtr")
    for log, opts in ((full, []), (agg, ["--aggregate"])):
        p = memtrace("run", "-q", *extra, *opts, "-o", log, "--", exe, *args)
        check(p.returncode == 0 and os.path.isfile(log), f"memtrace run {opts}\n{show(p)}")
    return full, agg


def frames(site):
    return [f["function"] for f in site["stack"]]


def site_of(sites, fn):
    found = [s for s in sites if frames(s) and frames(s)[0] == fn]
    check(len(found) >= 1, f"no site whose top frame is {fn}: {[frames(s)[:2] for s in sites]}")
    return found


SITE_KEYS = ("bytes", "blocks", "allocations", "leaked_bytes", "leaked_blocks", "peak_bytes",
             "peak_blocks")
TOTAL_KEYS = ("allocations", "frees", "bytes_allocated", "bytes_freed", "allocations_by_kind",
              "peak_heap_bytes", "peak_heap_blocks", "leaked_bytes", "leaked_blocks",
              "unknown_frees", "temporary_allocations")


def sites_view(sites):
    return sorted((tuple(s.get(k) for k in SITE_KEYS), tuple(frames(s))) for s in sites)


@case(120)
def case_aggregate_same_figures():
    exe = build()
    full, agg = record_both(exe, "3000")
    f = report_json(full, "--top", "0")
    a = report_json(agg, "--top", "0")
    check(a.get("aggregated") is True and "aggregated" not in f,
          f"only the aggregated log's report says so: {a.get('aggregated')}, {f.get('aggregated')}")
    for k in TOTAL_KEYS:
        check(f[k] == a[k], f"{k}: full recording {f[k]}, aggregated {a[k]}")
    for k in ("top_sites", "top_sites_by_count"):
        check(sites_view(f[k]) == sites_view(a[k]),
              f"{k} differ:\nfull {sites_view(f[k])[:6]}\naggregated {sites_view(a[k])[:6]}")
    tf = sorted((s["temporary"], s["allocations"], tuple(frames(s))) for s in f["top_temporary_sites"])
    ta = sorted((s["temporary"], s["allocations"], tuple(frames(s))) for s in a["top_temporary_sites"])
    check(tf == ta, f"temporary sites differ:\nfull {tf}\naggregated {ta}")
    check(f["sizes"] == a["sizes"], "allocation sizes differ")
    # What the program itself knows, read from the aggregated log.
    (peak,) = site_of(a["top_sites"], "site_peak")
    check((peak["allocations"], peak["bytes"], peak["peak_blocks"], peak["peak_bytes"],
           peak["leaked_blocks"], peak["leaked_bytes"]) == (50, 150000, 50, 150000, 10, 30000),
          f"site_peak: {peak}")
    (leak,) = site_of(a["top_sites"], "site_leak")
    check((leak["allocations"], leak["bytes"], leak["leaked_blocks"], leak["leaked_bytes"]) ==
          (5, 385, 5, 385), f"site_leak: {leak}")
    worker = [s for s in a["top_temporary_sites"] if "worker" in frames(s)]
    check(len(worker) == 1 and worker[0]["temporary"] == 3000 and worker[0]["allocations"] == 3000,
          f"the worker's 3000 temporaries: {worker}")
    check(a["peak_heap_bytes"] >= 150000 and a["lifetimes"] is None and a["threads"] == [],
          f"peak {a['peak_heap_bytes']}, lifetimes {a['lifetimes']}, threads {a['threads']}")
    # Who held the peak, from the peak report.
    pf, pa = json_of("peak", "--format", "json", "--top", "0", full), \
        json_of("peak", "--format", "json", "--top", "0", agg)
    vf = sorted((s["bytes"], s["blocks"], tuple(frames(s))) for s in pf["sites"])
    va = sorted((s["bytes"], s["blocks"], tuple(frames(s))) for s in pa["sites"])
    check(vf == va and pf["peak_heap_bytes"] == pa["peak_heap_bytes"],
          f"peak sites differ:\nfull {vf}\naggregated {va}")
    # The header says it in text too; the diff of the two logs finds nothing.
    r = memtrace("peak", agg)
    check(r.returncode == 0 and "aggregated (memtrace run --aggregate)" in r.stdout,
          f"memtrace peak of an aggregated log\n{show(r)}")
    d = json_of("diff", "--format", "json", full, agg)
    check(d["sites_changed"] == 0 and set(d["delta"].values()) == {0},
          f"diff of the same run, full and aggregated: {str(d)[:800]}")


@case(120)
def case_aggregate_leak_check():
    exe = build()
    full, agg = record_both(exe, "200", extra=("--leak-check",))
    lf, la = leaks_json(full), leaks_json(agg)
    check(la.get("aggregated") is True and la["classified"] and lf["classified"],
          f"classified: full {lf['classified']}, aggregated {la['classified']}")
    check(lf["totals"] == la["totals"], f"totals: full {lf['totals']}, aggregated {la['totals']}")
    definite = [r for r in la["leaks"] if r["kind"] == "definite" and "site_leak" in frames(r)]
    check(len(definite) == 1 and definite[0]["bytes"] == 385 and definite[0]["blocks"] == 5,
          f"the 5 lost blocks of site_leak: {definite}")
    kf = sorted((r["kind"], r["bytes"], r["blocks"], tuple(frames(r))) for r in lf["leaks"])
    ka = sorted((r["kind"], r["bytes"], r["blocks"], tuple(frames(r))) for r in la["leaks"])
    check(kf == ka, f"leak records differ:\nfull {kf}\naggregated {ka}")


@case(120)
def case_aggregate_log_size():
    exe = build()
    sizes = []
    for n in ("100", "100000"):
        log = os.path.join(it.TMP, f"size{n}.mtr")
        p = memtrace("run", "-q", "--aggregate", "-o", log, "--", exe, n)
        check(p.returncode == 0, f"memtrace run --aggregate {n}\n{show(p)}")
        sizes.append(os.path.getsize(log))
        check(report_json(log)["allocations"] >= 3 * int(n), f"{n} rounds")
    # 1000 times the events, the same sites: a few bytes more for bigger counts
    check(sizes[1] <= sizes[0] + 512, f"aggregated log sizes for 100 and 100000 rounds: {sizes}")


@case(120)
def case_aggregate_refusals():
    exe = build()
    agg = os.path.join(it.TMP, "agg.mtr")
    p = memtrace("run", "-q", "--aggregate", "-o", agg, "--", exe, "10")
    check(p.returncode == 0, f"memtrace run --aggregate\n{show(p)}")
    for args in (("timeline",), ("fragmentation",), ("export", "--to", "massif"),
                 ("report", "--from", "0"), ("leaks", "--to", "1")):
        r = memtrace(*args, agg)
        check(r.returncode == 1 and r.stdout == "" and r.stderr.count("\n") == 1 and
              "aggregated log" in r.stderr, f"memtrace {' '.join(args)} should refuse\n{show(r)}")
    for args in (("report",), ("leaks",), ("flamegraph", "-o", "f.svg"), ("html", "-o", "r.html"),
                 ("export", "--to", "pprof", "-o", "p.pb"), ("export", "--to", "folded")):
        r = memtrace(*args, agg)
        check(r.returncode == 0, f"memtrace {' '.join(args)} of an aggregated log\n{show(r)}")
    with open(os.path.join(it.TMP, "f.svg")) as svg:
        check("aggregated log" in svg.read(), "the flame graph's header")
    r = memtrace("run", "--aggregate", "--live", exe)
    check(r.returncode == 2 and "choose one" in r.stderr, f"--aggregate --live\n{show(r)}")


@case(120)
def case_aggregate_ends():
    exe = build()
    # Killed: the figures are never written, and every report says so instead of zeros.
    killed = os.path.join(it.TMP, "killed.mtr")
    p = memtrace("run", "--aggregate", "-o", killed, "--", exe, "10", "kill")
    check(p.returncode == -signal.SIGKILL and "allocations" not in p.stderr and
          "the aggregated log has no figures" in p.stderr, f"a program that kills itself\n{show(p)}")
    for args in (("report",), ("peak",), ("leaks",)):
        r = memtrace(*args, killed)
        check(r.returncode == 1 and r.stderr.count("\n") == 1 and "without its figures" in r.stderr,
              f"memtrace {args[0]} of a killed aggregated run\n{show(r)}")
    # A fatal signal the recorder catches: the figures are written before the end.
    aborted = os.path.join(it.TMP, "aborted.mtr")
    p = memtrace("run", "-q", "--aggregate", "-o", aborted, "--", exe, "10", "abort")
    check(p.returncode == -signal.SIGABRT, f"a program that aborts\n{show(p)}")
    a = report_json(aborted, "--top", "0")
    (peak,) = site_of(a["top_sites"], "site_peak")
    check(a["exit"]["reason"] == "signal" and peak["peak_blocks"] == 50 and
          peak["leaked_bytes"] == 30000, f"aborted run: exit {a['exit']}, site_peak {peak}")


# A failed exec, then a successful one; a fork whose child allocates and frees a block it
# inherited. Each log's figures are its own process's (image's) at its end.
PROCS_C = r"""
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
void *volatile keep[64];
__attribute__((noinline)) static void *site_a(void) { return malloc(1000); }
__attribute__((noinline)) static void *site_b(void) { return malloc(2000); }
__attribute__((noinline)) static void *site_c(void) { return malloc(500); }
int main(int argc, char **argv)
{
    for (int i = 0; i < 10; i++)
        keep[i] = site_a();
    char *none[] = {"x", NULL};
    execv("/nonexistent/prog", none); /* fails: the figures it wrote are cut off */
    for (int i = 10; i < 30; i++)
        keep[i] = site_b();
    if (argc > 1 && strcmp(argv[1], "fork") == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            free(keep[0]); /* inherited: unknown to the child's log */
            for (int i = 30; i < 37; i++)
                keep[i] = site_c();
            _exit(0);
        }
        waitpid(pid, NULL, 0);
    }
    if (argc > 1 && strcmp(argv[1], "exec") == 0) {
        char *t[] = {"/bin/true", NULL};
        execv("/bin/true", t);
    }
    return 0;
}
"""


@case(120)
def case_aggregate_exec_fork():
    src = it.write("procs.c", PROCS_C)
    exe = os.path.join(it.TMP, "procs")
    p = compile_c(src, exe, "-O1", "-g", "-fno-omit-frame-pointer")
    check(p.returncode == 0, f"cc procs.c\n{show(p)}")
    for how in ("none", "exec", "fork"):
        log = os.path.join(it.TMP, f"{how}.mtr")
        p = memtrace("run", "-q", "--aggregate", "-o", log, "--", exe, how)
        check(p.returncode == 0, f"memtrace run --aggregate procs {how}\n{show(p)}")
        a = report_json(log, "--top", "0")
        got = {frames(s)[0]: (s["allocations"], s["leaked_blocks"], s["leaked_bytes"])
               for s in a["top_sites"] if frames(s)[0].startswith("site_")}
        check(got == {"site_a": (10, 10, 10000), "site_b": (20, 20, 40000)} and
              a["exit"]["reason"] == ("exec" if how == "exec" else "normal"),
              f"procs {how}: the parent's image's sites {got}, exit {a['exit']}")
    child = [f for f in os.listdir(it.TMP) if f.startswith("fork.mtr.")]
    check(len(child) == 1, f"one child log: {os.listdir(it.TMP)}")
    c = report_json(os.path.join(it.TMP, child[0]), "--top", "0")
    got = {frames(s)[0]: (s["allocations"], s["leaked_blocks"], s["leaked_bytes"])
           for s in c["top_sites"] if frames(s)[0].startswith("site_")}
    check(c.get("aggregated") is True and got == {"site_c": (7, 7, 3500)} and
          c["unknown_frees"] == 1, f"the child's own figures: {got}, {c['unknown_frees']} unknown")


# A script whose own lines' figures do not depend on the environment (the full and the
# aggregated runs differ by MEMTRACE_AGGREGATE in os.environ): 20 x 100,000 B held at once by
# one line, 2000 temporaries of 5000 B by another.
AGG_PY = """
def peak():
    held = [bytearray(100000) for _ in range(20)]
    return len(held)
def churn():
    for i in range(2000):
        b = bytearray(5000)
peak()
churn()
"""


@case(120, needs="python_frames")
def case_aggregate_python():
    script = it.write("agg.py", AGG_PY)
    logs = []
    for opts in ([], ["--aggregate"]):
        log = os.path.join(it.TMP, f"py{len(opts)}.mtr")
        p = memtrace("run", "-q", *opts, "-o", log, "--", it.PYTHON, script)
        check(p.returncode == 0, f"memtrace run {opts} python3 agg.py\n{show(p)}")
        logs.append(log)

    def own(log):
        r = report_json(log, "--top", "0")
        sites = {(s["stack"][0]["function"], s["stack"][0]["line"]):
                 (s["allocations"], s["bytes"], s["peak_bytes"], s["peak_blocks"])
                 for s in r["top_sites"]
                 if s["stack"] and (s["stack"][0]["file"] or "").endswith("agg.py")}
        return r, sites

    (f, fs), (a, as_) = own(logs[0]), own(logs[1])
    check(fs == as_, f"the script's own sites:\nfull {fs}\naggregated {as_}")
    held = as_.get(("peak.<locals>.<listcomp>", 3))
    check(held and held[2] >= 20 * 100000, f"line 3 holds 20 x 100,000 B at the peak: {held}")
    churn = as_.get(("churn", 7))
    check(churn and churn[0] >= 2000 and churn[1] >= 2000 * 5000 and churn[2] <= 2 * 5100,
          f"line 7: 2000 temporaries of 5000 B, at most one held at the peak: {churn}")
    # Held at exit, after finalization, in both: the aggregated log has no script end.
    check(a["leaked_at"] == "exit" and a["leaked_bytes"] == a["leaked_bytes_after_finalization"]
          and abs(a["leaked_bytes"] - f["leaked_bytes_after_finalization"]) < 4096,
          f"held at exit: full {f['leaked_bytes_after_finalization']}, aggregated "
          f"{a['leaked_bytes']} ({a['leaked_at']})")
