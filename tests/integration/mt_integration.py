# SPDX-License-Identifier: MIT
# Integration tests: run programs under the real `memtrace` binary and check its behaviour and
# the JSON reports against ground truth the programs know themselves. One case per meson test;
# plain python3 (no pytest), exit 0 pass, 77 skip (meson's convention), anything else fail.
# Must never depend on the machine beyond what bootstrap.sh installs; optional tools skip.
import argparse
import collections
import glob
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

SKIP = 77
ARGS = None
TMP = None


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def run(argv, input=None, cwd=None, env=None, timeout=120):
    """Runs argv and returns the CompletedProcess (text mode)."""
    return subprocess.run(argv, input=input, cwd=cwd or TMP, env=env, capture_output=True,
                          text=True, timeout=timeout)


def show(p):
    return (f"exit {p.returncode}\n--- stdout ---\n{p.stdout[-3000:]}"
            f"\n--- stderr ---\n{p.stderr[-3000:]}")


def memtrace(*args, **kw):
    return run([ARGS.memtrace, *args], **kw)


def record(log, *prog, expect_status=0, **kw):
    """memtrace run -o LOG -- PROG...; checks the exit status and that the log exists."""
    p = memtrace("run", "-o", log, "--", *prog, **kw)
    check(p.returncode == expect_status,
          f"memtrace run {' '.join(prog)}: expected exit {expect_status}\n{show(p)}")
    check(os.path.isfile(log), f"memtrace run {' '.join(prog)} wrote no {log}\n{show(p)}")
    return p


def report_json(log, *extra):
    p = memtrace("report", "--format", "json", *extra, log)
    check(p.returncode == 0, f"memtrace report --format json {log} failed\n{show(p)}")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise Fail(f"memtrace report --format json {log}: not JSON ({e})\n{show(p)}")


def compile_c(src, out, *flags):
    cc = os.environ.get("CC") or ARGS.cc or "cc"
    p = run([*cc.split(), *flags, "-o", out, src])
    return p


# ---- the samples: each prints its own ground truth ----

SAMPLE_LINE = re.compile(r"^memtrace-sample: allocations=(\d+) frees=(\d+) leaked_bytes=(\d+) "
                         r"leaked_blocks=(\d+)\s*$", re.M)


def sample_programs():
    d = os.path.join(ARGS.build_root, "samples")
    progs = []
    for path in sorted(glob.glob(os.path.join(d, "*"))):
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111 and not path.endswith((".so", ".p")):
            progs.append(path)
    return progs


def own_calls(rep, prog, anywhere=False):
    """Totals over the sites whose innermost frame is in the sample's own binary: the calls
    the sample makes itself, without what the C library allocates on its behalf. anywhere:
    the sites with a frame of the sample's anywhere, i.e. without what the runtimes allocate
    for themselves before main (libstdc++'s emergency pool)."""
    alloc = leaked = leaked_blocks = 0
    for site in rep.get("top_sites", []):
        stack = site.get("stack") or [{}]
        frames = stack if anywhere else stack[:1]
        if not any(os.path.realpath(f.get("module") or "") == os.path.realpath(prog)
                   for f in frames):
            continue
        alloc += site["allocations"]
        leaked += site["leaked_bytes"]
        leaked_blocks += site["leaked_blocks"]
    # A block either leaked or was freed once (a realloc's old block counts as freed).
    frees = alloc - leaked_blocks
    return (alloc, frees, leaked, leaked_blocks)


def case_samples():
    progs = [ARGS.sample] if ARGS.sample else sample_programs()
    if not progs:
        raise Skip(f"no sample programs built in {ARGS.build_root}/samples")
    checked = 0
    failures = []
    for prog in progs:
        name = os.path.basename(prog)
        log = os.path.join(TMP, f"{name}.mtr")
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
    check(checked > 0 or (ARGS.sample and not failures),
          "no sample printed a memtrace-sample line")


# ---- run: passthrough and exit status ----

def case_exit_status():
    p = memtrace("run", "-q", "--", "/bin/sh", "-c", "exit 3")
    check(p.returncode == 3, f"exit 3 should give 3\n{show(p)}")
    p = memtrace("run", "-q", "--", "/bin/sh", "-c", "exit 0")
    check(p.returncode == 0, f"exit 0 should give 0\n{show(p)}")
    p = memtrace("run", "-q", "--", "/bin/sh", "-c", "kill -TERM $$")
    check(p.returncode == 128 + signal.SIGTERM, f"SIGTERM should give 143\n{show(p)}")
    p = memtrace("run", "--", "/bin/sh", "-c", "kill -KILL $$")
    check(p.returncode == 128 + signal.SIGKILL, f"SIGKILL should give 137\n{show(p)}")
    check("signal 9" in p.stderr, f"memtrace should say the program was killed\n{show(p)}")


def case_passthrough():
    env = dict(os.environ, MT_TEST_VAR="value with spaces")
    os.mkdir(os.path.join(TMP, "cwd"))
    script = 'read x; echo "in:$x"; echo "args:$#:$1:$2"; echo "env:$MT_TEST_VAR"; pwd; echo err >&2'
    p = memtrace("run", "-q", "-o", os.path.join(TMP, "p.mtr"), "--", "/bin/sh", "-c", script,
                 "sh", "a b", "-l", input="hello world\n", env=env,
                 cwd=os.path.join(TMP, "cwd"))
    check(p.returncode == 0, f"passthrough run failed\n{show(p)}")
    want = f"in:hello world\nargs:2:a b:-l\nenv:value with spaces\n{os.path.join(TMP, 'cwd')}\n"
    check(p.stdout == want, f"stdout should be exactly {want!r}\n{show(p)}")
    check(p.stderr == "err\n", f"with -q, stderr should be the program's only\n{show(p)}")
    # PROG's own options are not memtrace's: options stop at the first non-option.
    p = memtrace("run", "-q", "ls", "-l", "-d", "/")
    check(p.returncode == 0 and p.stdout.startswith("d"), f"memtrace run ls -l -d /\n{show(p)}")
    # The summary goes to stderr and names the log; stdout stays the program's.
    p = memtrace("run", "-o", "sum.mtr", "/bin/echo", "out")
    check(p.returncode == 0 and p.stdout == "out\n", f"echo under memtrace\n{show(p)}")
    log = os.path.join(TMP, "sum.mtr")
    check(f"log written to {log}" in p.stderr,
          f"summary should name the absolute log path {log}\n{show(p)}")
    check(re.search(r"memtrace: [\d,]+ allocations, [\d,]+ frees, peak heap", p.stderr),
          f"summary line missing\n{show(p)}")
    # Its figures read as the report's do (one formatter: three significant digits).
    demo = os.path.join(TMP, "sum_demo.mtr")
    p = memtrace("run", "-o", demo, "--", os.path.join(ARGS.build_root, "samples", "demo"))
    m = re.search(r"peak heap (\S+ \S+) at .*, (\S+ \S+) in [\d,]+ blocks? not freed", p.stderr)
    check(p.returncode == 0 and m, f"summary of demo\n{show(p)}")
    r = memtrace("report", demo).stdout
    check(re.search(rf"peak heap\s+{re.escape(m.group(1))} \(", r) and
          re.search(rf"not freed at exit\s+{re.escape(m.group(2))} \(", r),
          f"the summary says {m.groups()}, the report\n{r[:600]}")


SLOW_ALLOCATOR_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* 40 rounds 5 ms apart of 2000 malloc/free pairs, 3 blocks kept per round: a run long enough
 * that memtrace reads the log while it is written. */
int main(void)
{
    static void *kept[120];
    for (int r = 0; r < 40; r++) {
        for (int i = 0; i < 2000; i++)
            free(malloc(16 + i % 512));
        for (int k = 0; k < 3; k++)
            kept[r * 3 + k] = malloc(100);
        usleep(5000);
    }
    printf("kept %p\n", kept[0]);
    return 0;
}
"""


def summary_counts(stderr):
    m = re.search(r"memtrace: ([\d,]+) allocations, ([\d,]+) frees, peak heap .*?, "
                  r"(?:no heap blocks left|.* in ([\d,]+) blocks? not freed)", stderr)
    check(m, f"no summary line in\n{stderr}")
    return tuple(int((g or "0").replace(",", "")) for g in m.groups())


def case_summary_while_running():
    """The summary `memtrace run` prints is read while the program runs (also across an
    exec): it must equal the report of the finished log exactly."""
    src = os.path.join(TMP, "slow_alloc.c")
    prog = os.path.join(TMP, "slow_alloc")
    with open(src, "w") as f:
        f.write(SLOW_ALLOCATOR_C)
    p = compile_c(src, prog, "-O0")
    check(p.returncode == 0, f"cannot compile the slow allocator\n{show(p)}")
    for argv in ([prog], ["/bin/sh", "-c", f"exec {prog}"]):
        p = memtrace("run", "-o", os.path.join(TMP, "follow.mtr"), "--", *argv)
        check(p.returncode == 0, f"memtrace run {argv}\n{show(p)}")
        m = re.search(r"log written to (\S+) ", p.stderr)
        check(m, f"the summary names no log\n{show(p)}")
        rep = report_json(m.group(1))
        want = (rep["allocations"], rep["frees"], rep["leaked_blocks"])
        got = summary_counts(p.stderr)
        check(got == want, f"{argv}: summary says allocations, frees, leaked blocks = {got}, "
              f"the report of {m.group(1)} {want}\n{show(p)}")
        check(rep["allocations"] >= 80120 and rep["leaked_blocks"] >= 120,
              f"{argv}: the program's own 80,120 allocations and 120 kept blocks are missing: "
              f"{want}")
        for log in glob.glob(os.path.join(TMP, "follow.mtr*")):
            os.unlink(log)


def case_fork_exec_logs():
    p = memtrace("run", "-o", os.path.join(TMP, "f.%p.mtr"), "--", "/bin/sh", "-c",
                 "/bin/true; /bin/echo child")
    check(p.returncode == 0 and p.stdout == "child\n", f"sh -c under memtrace\n{show(p)}")
    logs = sorted(glob.glob(os.path.join(TMP, "f.*.mtr*")))
    check(len(logs) >= 3, f"expected logs for sh, true and echo, found {logs}\n{show(p)}")
    check("more log" in p.stderr, f"summary should list the other logs\n{show(p)}")
    for log in logs:
        rep = report_json(log)
        check(rep.get("allocations", 0) >= 0, f"{log}: no allocations field")


# ---- run: errors ----

def case_missing_program():
    p = memtrace("run", "memtrace-no-such-program")
    check(p.returncode == 127, f"missing program should exit 127\n{show(p)}")
    check(p.stderr.strip() == "memtrace: memtrace-no-such-program: command not found",
          f"unexpected message\n{show(p)}")
    p = memtrace("run", "./no/such/path")
    check(p.returncode == 127, f"missing path should exit 127\n{show(p)}")
    noexec = os.path.join(TMP, "noexec")
    with open(noexec, "w") as f:
        f.write("#!/bin/sh\n")
    p = memtrace("run", noexec)
    check(p.returncode == 126 and p.stderr.count("\n") == 1,
          f"non-executable file should exit 126 with one line\n{show(p)}")
    garbage = os.path.join(TMP, "garbage")
    with open(garbage, "wb") as f:
        f.write(b"\x00\x01not a program\n")
    os.chmod(garbage, 0o755)
    p = memtrace("run", garbage)
    check(p.returncode == 126 and "Exec format error" in p.stderr,
          f"a non-ELF without #! should fail like execve\n{show(p)}")


def case_usage_errors():
    p = memtrace("run", "--bogus", "true")
    check(p.returncode == 2, f"unknown option should exit 2\n{show(p)}")
    check(p.stderr.startswith("memtrace: run: unknown option '--bogus'"),
          f"unexpected message\n{show(p)}")
    p = memtrace("run")
    check(p.returncode == 2, f"no program should exit 2\n{show(p)}")
    p = memtrace("frobnicate")
    check(p.returncode == 2 and
          p.stderr.strip() == "memtrace: unknown command 'frobnicate' (try 'memtrace --help')",
          f"unknown command\n{show(p)}")
    p = memtrace()
    check(p.returncode == 2 and "usage" in p.stderr, f"no arguments\n{show(p)}")
    p = memtrace("--version")
    check(p.returncode == 0 and p.stdout.startswith("memtrace "), f"--version\n{show(p)}")
    p = memtrace("--help")
    check(p.returncode == 0 and "run" in p.stdout and "report" in p.stdout, f"--help\n{show(p)}")
    p = memtrace("run", "--help")
    check(p.returncode == 0 and "--output" in p.stdout, f"run --help\n{show(p)}")


def case_static_refused():
    src = os.path.join(TMP, "st.c")
    with open(src, "w") as f:
        f.write("int main(void) { return 0; }\n")
    exe = os.path.join(TMP, "st")
    c = compile_c(src, exe, "-static")
    if c.returncode != 0:
        raise Skip(f"the compiler cannot link statically here: {c.stderr.strip()[:200]}")
    p = memtrace("run", exe)
    check(p.returncode == 1, f"static binary should be refused with exit 1\n{show(p)}")
    check(f"memtrace: {exe} is statically linked" in p.stderr and p.stderr.count("\n") == 1,
          f"unexpected message\n{show(p)}")
    script = os.path.join(TMP, "st.sh")
    with open(script, "w") as f:
        f.write(f"#!{exe}\n")
    os.chmod(script, 0o755)
    p = memtrace("run", script)
    check(p.returncode == 1 and "statically linked" in p.stderr,
          f"a script whose interpreter is static should be refused\n{show(p)}")


def case_setuid_refused():
    if os.geteuid() != 0:
        raise Skip("needs root to make a file setuid to another user")
    exe = os.path.join(TMP, "suid-true")
    shutil.copy("/bin/true", exe)
    os.chown(exe, 65534, -1)
    os.chmod(exe, 0o4755)
    st = os.statvfs(TMP)
    if st.f_flag & os.ST_NOSUID:
        raise Skip(f"{TMP} is mounted nosuid")
    p = memtrace("run", exe)
    check(p.returncode == 1 and "setuid" in p.stderr, f"setuid should be refused\n{show(p)}")


def case_install_layout():
    """memtrace finds the recorder relative to itself after `meson install`, wherever the
    prefix is, and says clearly when it cannot."""
    if os.path.isabs(ARGS.libdir):
        raise Skip(f"libdir {ARGS.libdir} is absolute, not relative to the prefix")
    preload = os.path.join(ARGS.build_root, "preload", "libmemtrace_preload.so")
    check(os.path.isfile(preload), f"{preload} was not built")
    prefix = os.path.join(TMP, "prefix")
    os.makedirs(os.path.join(prefix, "bin"))
    exe = os.path.join(prefix, "bin", "memtrace")
    shutil.copy(ARGS.memtrace, exe)
    env = {k: v for k, v in os.environ.items() if k != "MEMTRACE_PRELOAD"}
    p = run([exe, "run", "/bin/true"], env=env)
    check(p.returncode == 1 and "cannot find the recorder library" in p.stderr
          and p.stderr.count("\n") == 1, f"missing recorder should be one clear line\n{show(p)}")
    p = run([exe, "run", "-q", "-o", "o.mtr", "/bin/echo", "x"],
            env=dict(env, MEMTRACE_PRELOAD=preload))
    check(p.returncode == 0 and os.path.isfile(os.path.join(TMP, "o.mtr")),
          f"MEMTRACE_PRELOAD should override the search\n{show(p)}")
    libdir = os.path.join(prefix, ARGS.libdir, "memtrace")
    os.makedirs(libdir)
    shutil.copy(preload, libdir)
    p = run([exe, "run", "-q", "-o", "i.mtr", "/bin/echo", "x"], env=env)
    check(p.returncode == 0 and p.stdout == "x\n" and os.path.isfile(os.path.join(TMP, "i.mtr")),
          f"installed layout bin/ + {ARGS.libdir}/memtrace/ should work\n{show(p)}")


# ---- report: bad input ----

def case_report_not_a_log():
    bad = os.path.join(TMP, "notalog.mtr")
    with open(bad, "w") as f:
        f.write("this is not a memtrace log\n" * 10)
    p = memtrace("report", bad)
    check(p.returncode != 0, f"report of a non-log should fail\n{show(p)}")
    lines = p.stderr.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("memtrace: "),
          f"expected one 'memtrace: ...' line on stderr\n{show(p)}")
    p = memtrace("report", os.path.join(TMP, "does-not-exist.mtr"))
    check(p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1,
          f"report of a missing file\n{show(p)}")
    empty = os.path.join(TMP, "empty.mtr")
    open(empty, "w").close()
    p = memtrace("report", empty)
    check(p.returncode != 0 and len(p.stderr.strip().splitlines()) == 1,
          f"report of an empty file\n{show(p)}")


def chunk_offsets(path):
    """File offsets of the chunks of a log (docs/log-format.md: 32-byte header, then chunks of
    a 16-byte header "MTCK", compressed length, raw length, crc32, and the zlib bytes)."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:8] == b"MEMTRACE", f"{path} is not a memtrace log")
    offs, pos = [], int.from_bytes(data[10:12], "little")
    while pos + 16 <= len(data) and data[pos:pos + 4] == b"MTCK":
        offs.append(pos)
        pos += 16 + int.from_bytes(data[pos + 4:pos + 8], "little")
    return offs, len(data)


def case_report_truncated():
    log = os.path.join(TMP, "big.mtr")
    # PYTHONMALLOC=malloc sends every object through malloc: plenty of events, several chunks.
    env = dict(os.environ, PYTHONMALLOC="malloc")
    record(log, "/usr/bin/python3", "-c",
           "x = [str(i) * 3 for i in range(300000)]\nfor i in range(300000): x[i % 1000] = [i]",
           env=env)
    full = report_json(log)
    offs, size = chunk_offsets(log)
    check(len(offs) >= 3, f"expected several chunks in {log} ({size} bytes), found {len(offs)}")
    # Cut in the middle of a chunk past the first: what precedes it must still be reported.
    mid = offs[len(offs) // 2]
    cut_at = mid + 16 + (offs[len(offs) // 2 + 1] - mid - 16) // 2
    cut = os.path.join(TMP, "cut.mtr")
    with open(log, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(cut_at))
    p = memtrace("report", cut)
    check(p.stdout.strip() != "", f"a truncated log should still give a report\n{show(p)}")
    check("truncat" in p.stderr.lower() or "truncat" in p.stdout.lower(),
          f"the report should say the log is truncated\n{show(p)}")
    check(len(p.stderr.strip().splitlines()) <= 2, f"expected a short warning\n{show(p)}")
    pj = memtrace("report", "--format", "json", cut)
    check(pj.stdout.strip() != "", f"json report of a truncated log\n{show(pj)}")
    part = json.loads(pj.stdout)
    check(part.get("truncated") is True, f"JSON should say truncated: {part.get('truncated')}")
    check(0 < part.get("allocations", 0) < full["allocations"],
          f"truncated report should cover part of the run: {part.get('allocations')} of "
          f"{full['allocations']}")


# ---- the analysis on two cores gives what it gives on one ----

def case_analysis_threads_same():
    """Every report is byte for byte the same whether the log is decoded on a second thread
    (the default) or on the replay's own (MEMTRACE_ANALYSIS_THREADS=1): logs of several chunks,
    threads, the leak check, mmap, and a log cut in the middle of a chunk."""
    logs = []
    big = os.path.join(TMP, "big.mtr")
    record(big, "/usr/bin/python3", "-c",
           "x = [str(i) * 3 for i in range(200000)]\nfor i in range(200000): x[i % 1000] = [i]",
           env=dict(os.environ, PYTHONMALLOC="malloc"))
    offs, size = chunk_offsets(big)
    check(len(offs) >= 3, f"expected several chunks in {big} ({size} bytes), found {len(offs)}")
    cut = os.path.join(TMP, "cut.mtr")
    mid = offs[len(offs) // 2]
    with open(big, "rb") as src, open(cut, "wb") as dst:
        dst.write(src.read(mid + 16 + (offs[len(offs) // 2 + 1] - mid - 16) // 2))
    logs += [big, cut]
    for name, opts in (("leak_kinds", ["--leak-check"]), ("threads", []), ("fragment", []),
                       ("mmap_user", [])):
        exe = os.path.join(ARGS.build_root, "samples", name)
        if not os.path.isfile(exe):
            continue
        log = os.path.join(TMP, name + ".mtr")
        p = memtrace("run", *opts, "-o", log, "--", exe)
        check(os.path.isfile(log), f"memtrace run {name} wrote no log\n{show(p)}")
        logs.append(log)
    one = dict(os.environ, MEMTRACE_ANALYSIS_THREADS="1")
    for log in logs:
        for cmd in ("report", "peak", "leaks", "fragmentation"):
            args = [ARGS.memtrace, cmd, "--format", "json", log]
            a, b = run(args), run(args, env=one)
            check(a.stdout.strip() != "", f"memtrace {cmd} {log} printed nothing\n{show(a)}")
            check((a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr),
                  f"memtrace {cmd} --format json {os.path.basename(log)} differs with "
                  f"MEMTRACE_ANALYSIS_THREADS=1\n--- two threads ---\n{show(a)}\n"
                  f"--- one thread ---\n{show(b)}")


# ---- churn (shared/bench): exact counts and the right source line ----

def case_churn():
    src = os.path.normpath(os.path.join(ARGS.source_root, "..", "shared", "bench", "churn.c"))
    if not os.path.isfile(src):
        raise Skip(f"{src} not found (shared/ is a sibling of the checkout in CI)")
    with open(src) as f:
        lines = f.read().splitlines()
    want_line = next((i + 1 for i, l in enumerate(lines) if "live[slot] = malloc(" in l), None)
    check(want_line is not None, f"{src} has no 'live[slot] = malloc(' line")
    exe = os.path.join(TMP, "churn")
    c = compile_c(src, exe, "-O2", "-g")
    check(c.returncode == 0, f"cannot build churn.c\n{show(c)}")
    n = 20000
    log = os.path.join(TMP, "churn.mtr")
    p = record(log, exe, str(n))
    check(p.stdout == f"done {n}\n", f"churn output changed under memtrace\n{show(p)}")
    rep = report_json(log)
    # churn makes 2 mallocs per iteration, and its final printf makes one more: glibc allocates
    # stdout's buffer with malloc on first use. Both are checked exactly, the loop's through the
    # sites whose stack goes through leaf().
    check(rep.get("allocations") == 2 * n + 1,
          f"churn {n} makes exactly {2 * n} + 1 (stdout's buffer) malloc calls, report says "
          f"{rep.get('allocations')}")
    p = memtrace("report", "--format", "json", "--top", "1000000", log)
    check(p.returncode == 0, f"report --top 1000000\n{show(p)}")
    every = json.loads(p.stdout).get("top_sites") or []
    in_leaf = sum(s.get("allocations", 0) for s in every
                  if any(f.get("function") == "leaf" for f in s.get("stack") or []))
    check(in_leaf == 2 * n, f"sites through leaf() should hold exactly {2 * n} allocations, "
          f"they hold {in_leaf}")
    sites = rep.get("top_sites") or []
    check(sites, "report has no top_sites")
    stack = sites[0].get("stack") or []
    check(stack, f"top site has no stack: {sites[0]}")
    top = stack[0]
    check(top.get("function") == "leaf", f"top site's innermost frame should be leaf: {top}")
    check(os.path.basename(top.get("file") or "") == "churn.c" and top.get("line") == want_line,
          f"top site should be churn.c:{want_line} (live[slot] = malloc), got "
          f"{top.get('file')}:{top.get('line')}")
    # memtrace's own frames never show, neither the hooks on top nor its main() wrapper below.
    own = [f for s in every for f in s.get("stack") or []
           if "libmemtrace_preload" in os.path.basename(f.get("module") or "")]
    check(not own, f"memtrace's own frames in report stacks: {own[:3]}")


def case_fast_unwind_same_stacks():
    """The cached-CFI unwinder (default) and libunwind (MEMTRACE_FAST_UNWIND=0) record the same
    stacks: C (churn.c -O2 without frame pointers), C++ (cpp_containers) and CPython."""
    progs = []
    src = os.path.normpath(os.path.join(ARGS.source_root, "..", "shared", "bench", "churn.c"))
    if os.path.isfile(src):
        exe = os.path.join(TMP, "churn_nofp")
        c = compile_c(src, exe, "-O2", "-g", "-fomit-frame-pointer")
        check(c.returncode == 0, f"cannot build churn.c\n{show(c)}")
        progs.append(("churn", [exe, "3000"]))
    cpp = os.path.join(ARGS.build_root, "samples", "cpp_containers")
    if os.path.isfile(cpp):
        progs.append(("cpp", [cpp]))
    # No import of an extension module: whether a dlopen() is seen before the first allocation
    # from the new module is a matter of timing, and would change the symbolized frames.
    progs.append(("python", ["/usr/bin/python3", "-c", "x = [str(i) * 3 for i in range(999)]"]))
    for name, argv in progs:
        reps = []
        for fast in ("1", "0"):
            env = dict(os.environ, MEMTRACE_FAST_UNWIND=fast, PYTHONHASHSEED="0")
            log = os.path.join(TMP, f"fu-{name}-{fast}.mtr")
            record(log, *argv, env=env)
            p = memtrace("report", "--format", "json", "--top", "1000000", "--frames", "64", log)
            check(p.returncode == 0, f"report {log}\n{show(p)}")
            rep = json.loads(p.stdout)
            # Not the bytes: python3 copies the environment, where memtrace's variables hold
            # a pid, whose digits (and so a string's length) may differ between two runs.
            sites = sorted((s["allocations"],
                            [(f.get("module") or "", f.get("address") or "")
                             for f in s.get("stack") or []])
                           for s in rep.get("top_sites") or [])
            reps.append((rep.get("allocations"), sites))
        check(reps[0][0] == reps[1][0], f"{name}: {reps[0][0]} allocations with the fast "
              f"unwinder, {reps[1][0]} with libunwind")
        fast_only = [x for x in reps[0][1] if x not in reps[1][1]]
        slow_only = [x for x in reps[1][1] if x not in reps[0][1]]
        check(not fast_only and not slow_only, f"{name}: stacks differ between the fast "
              f"unwinder and libunwind: {len(fast_only)} sites only with the fast one, e.g. "
              f"{fast_only[:1]}, {len(slow_only)} only with libunwind, e.g. {slow_only[:1]}")


# ---- peak, temporaries, fragmentation: samples that print their own ground truth ----

def sample_exe(name):
    exe = os.path.join(ARGS.build_root, "samples", name)
    if not os.path.isfile(exe):
        raise Skip(f"{exe} not built")
    return exe


def json_of(*args):
    p = memtrace(*args)
    check(p.returncode == 0, f"memtrace {' '.join(args)} failed\n{show(p)}")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise Fail(f"memtrace {' '.join(args)}: not JSON ({e})\n{show(p)}")


def case_peak():
    log = os.path.join(TMP, "peak.mtr")
    p = record(log, sample_exe("peak"))
    m = re.search(r"^memtrace-peak: peak_bytes=(\d+) site=(\w+) churn_bytes=(\d+)$", p.stdout,
                  re.M)
    check(m, f"peak prints no memtrace-peak line\n{show(p)}")
    want, site, churn = int(m.group(1)), m.group(2), int(m.group(3))
    rep = json_of("peak", "--format", "json", log)
    check(rep.get("peak_heap_bytes") == want,
          f"peak_heap_bytes {rep.get('peak_heap_bytes')}, the sample says {want}")
    sites = rep.get("sites") or []
    check(sites, f"peak report lists no sites: {rep}")
    top = sites[0]
    check(top.get("bytes") == want and top.get("blocks") == 64,
          f"the top site should hold all {want} bytes in 64 blocks: {top}")
    fn = (top.get("stack") or [{}])[0].get("function")
    check(fn == site, f"the top site's innermost function should be {site}, got {fn}")
    check(len(sites) == 1, f"only {site} holds memory at the peak, got {len(sites)} sites")
    # churn allocates the most in total (two call sites in main, so two sites): first in
    # `report`, absent from `peak`.
    summ = json_of("report", "--format", "json", "--top", "1000000", log)
    tops = summ.get("top_sites") or [{}]
    inner = [((s.get("stack") or [{}])[0].get("function"), s) for s in tops]
    check(inner[0][0] == "churn", f"report's top site by bytes should be churn: {tops[0]}")
    in_churn = sum(s.get("bytes", 0) for f, s in inner if f == "churn")
    check(in_churn == churn, f"churn sites allocate {in_churn} bytes, the sample says {churn}")
    # --fail-peak-above: a limit of exactly the peak passes, one byte less fails, naming the
    # function that held it all (report after the fact, run at the end of the program)
    check(memtrace("report", "--fail-peak-above", str(want), log).returncode == 0,
          f"report --fail-peak-above {want} (the peak itself)")
    r = memtrace("report", "--fail-peak-above", str(want - 1), log)
    line = (r.stderr.splitlines() or [""])[-1]
    check(r.returncode == 1 and re.fullmatch(
        rf"memtrace: report: peak heap .* is above --fail-peak-above {want - 1}; the most held "
        rf"then, {want:,} bytes, allocated at peak\.c:\d+ in {site}", line),
        f"report --fail-peak-above {want - 1}\n{show(r)}")
    for opts, status in ((["--fail-peak-above", str(want - 1)], 1),
                         (["--error-exitcode", "5", "--fail-peak-above", "64K"], 5),
                         (["--fail-peak-above", "1MiB"], 0)):
        q = memtrace("run", "-q", *opts, "-o", os.path.join(TMP, f"p{status}.mtr"), "--",
                     sample_exe("peak"))
        last = (q.stderr.splitlines() or [""])[-1]
        check(q.returncode == status and (status == 0 and q.stderr == "" or re.fullmatch(
            rf"memtrace: peak check: exit status {status}( \(--error-exitcode\))?: peak heap .* "
            rf"is above --fail-peak-above \S+; the most held then, {want:,} bytes, allocated at "
            rf"peak\.c:\d+ in {site}; \S+ itself exited 0", last)),
            f"run {' '.join(opts)}: expected exit {status}\n{show(q)}")
    check(all(s.get("peak_bytes") == 0 for f, s in inner if f == "churn"),
          "churn holds nothing at the peak")

def case_churny():
    log = os.path.join(TMP, "churny.mtr")
    p = record(log, sample_exe("churny"))
    m = re.search(r"^memtrace-churny: temporary=(\d+) allocations=(\d+) site=(\w+)$", p.stdout,
                  re.M)
    check(m, f"churny prints no memtrace-churny line\n{show(p)}")
    temp, allocs, site = int(m.group(1)), int(m.group(2)), m.group(3)
    rep = report_json(log)
    check(rep.get("allocations") == allocs,
          f"allocations {rep.get('allocations')}, the sample says {allocs}")
    check(rep.get("temporary_allocations") == temp,
          f"temporary_allocations {rep.get('temporary_allocations')}, the sample says {temp}")
    sites = rep.get("top_temporary_sites") or []
    check(len(sites) == 1, f"only {site} makes temporaries: {sites}")
    fn = (sites[0].get("stack") or [{}])[0].get("function")
    check(fn == site and sites[0].get("temporary") == temp,
          f"top temporary site should be {site} with {temp}: {fn}, {sites[0].get('temporary')}")
    sizes = {(b["min"], b["max"]): b["count"] for b in rep.get("sizes") or []}
    want = {(32, 63): 1000, (16, 31): 500, (128, 255): 500}
    check(sizes == want, f"size histogram {sizes}, expected {want}")
    life = rep.get("lifetimes") or {}
    check(sum(life.values()) == allocs and life.get("never_freed") == 0,
          f"every block is freed once: {life}")


def case_fragment():
    log = os.path.join(TMP, "fragment.mtr")
    p = record(log, sample_exe("fragment"))
    m = re.search(r"^memtrace-frag: free_held=(\d+)$", p.stdout, re.M)
    check(m, f"fragment prints no memtrace-frag line\n{show(p)}")
    want = int(m.group(1))
    rep = json_of("fragmentation", "--format", "json", log)
    got = (rep.get("at_exit") or {}).get("free_held_bytes")
    check(isinstance(got, int) and abs(got - want) <= want / 10,
          f"at_exit free_held_bytes {got}, the program's mallinfo2 says {want} (10% allowed)")
    holes = rep.get("holes") or []
    check(sum(h.get("count", 0) for h in holes) >= 1900,
          f"about 2000 holes of ~1 KiB between live blocks expected: {holes}")
    # The 2000 freed 1000-byte blocks are the holes: a request of their size fits in each of
    # them, one byte more needs a bigger chunk than any of them.
    for request, fits in ((1000, 2000), (1001, 0)):
        r = json_of("fragmentation", "--format", "json", "--request", str(request), log)
        got = (r.get("request") or {}).get("fitting_holes")
        check(got == fits, f"a {request}-byte request fits in {got} holes, expected {fits}")
    series = rep.get("over_time") or []
    check(series and series[-1].get("free_held_bytes") == got_exit_free(rep),
          f"over_time should end with the exit sample: {series[-1:]}")
    check(all(a["time_s"] <= b["time_s"] for a, b in zip(series, series[1:])),
          "over_time is in time order")


def case_fragment_peak():
    """A heap peak that comes and goes between two timer samples: with one tick a second,
    only the recorder's own sample at the new high can give the allocator's view at it."""
    log = os.path.join(TMP, "burst.mtr")
    p = memtrace("run", "-o", log, "--sample-interval", "1000", "--", sample_exe("burst"))
    check(p.returncode == 0 and os.path.isfile(log), f"memtrace run burst\n{show(p)}")
    m = re.search(r"^memtrace-burst: peak_free_held=(\d+) peak_footprint=(\d+) "
                  r"peak_bytes=(\d+)$", p.stdout, re.M)
    check(m, f"burst prints no memtrace-burst line\n{show(p)}")
    free_held, footprint, peak = (int(x) for x in m.groups())
    rep = json_of("fragmentation", "--format", "json", log)
    at = rep.get("at_peak") or {}
    check(at.get("live_bytes") == peak, f"at_peak live_bytes {at.get('live_bytes')}, the "
          f"program held {peak}")
    for key, want in (("free_held_bytes", free_held), ("footprint_bytes", footprint)):
        got = at.get(key)
        check(isinstance(got, int) and abs(got - want) <= want / 10,
              f"at_peak {key} {got}, the program's mallinfo2 at its peak says {want} "
              f"(10% allowed): {at}")
    # Taken at the first free after the peak, before the exit sample (which sees 0 bytes live).
    t, st = at.get("time_s"), at.get("sample_time_s")
    exit_t = (rep.get("at_exit") or {}).get("sample_time_s")
    check(st is not None and exit_t is not None and t <= st < exit_t,
          f"the at-peak sample should follow the peak ({t} s) and precede exit ({exit_t} s): "
          f"{st}")
    text = memtrace("fragmentation", log)
    check(text.returncode == 0 and "not sampled" not in text.stdout,
          f"the text report says the peak was not sampled\n{show(text)}")


def got_exit_free(rep):
    return (rep.get("at_exit") or {}).get("free_held_bytes")


def case_pinning():
    log = os.path.join(TMP, "pinning.mtr")
    p = record(log, sample_exe("pinning"))
    m = re.search(r"^memtrace-pin: free_held=(\d+) site=(\w+)$", p.stdout, re.M)
    check(m, f"pinning prints no memtrace-pin line\n{show(p)}")
    want, site = int(m.group(1)), m.group(2)
    # 3000 freed rows of 700 B sit below the pin unless something else took a hole first: the
    # recorder's own start-up (a failed dlsym allocates) must not change where blocks land.
    check(want >= 3000 * 700, f"under memtrace the program's heap holds only {want} B free: "
          "the recorder changed where its blocks landed")
    rep = json_of("fragmentation", "--format", "json", log)
    pins = rep.get("pinning_sites") or []
    check(len(pins) == 1, f"exactly one site pins the heap ({site}): {pins}")
    fn = (pins[0].get("stack") or [{}])[0].get("function")
    check(fn == site, f"the pinning site should be {site}, got {fn}")
    check(pins[0].get("live_bytes") == 64 and pins[0].get("blocks") == 1,
          f"{site} holds one 64-byte block: {pins[0]}")
    got = pins[0].get("pinned_free_bytes")
    check(isinstance(got, int) and abs(got - want) <= want / 10,
          f"pinned_free_bytes {got}, the program's mallinfo2 says {want} free (10% allowed)")
    check(got_exit_free(rep) is not None,
          "a run shorter than one sampling tick still has the allocator's view at exit")


def case_timeline():
    log = os.path.join(TMP, "timeline.mtr")
    p = record(log, sample_exe("peak"))
    m = re.search(r"^memtrace-peak: peak_bytes=(\d+)", p.stdout, re.M)
    check(m, f"peak prints no memtrace-peak line\n{show(p)}")
    want = int(m.group(1))
    svg = os.path.join(TMP, "timeline.svg")
    t = memtrace("timeline", "-o", svg, log)
    check(t.returncode == 0, f"timeline -o failed\n{show(t)}")
    import xml.etree.ElementTree as ET
    try:
        root = ET.parse(svg).getroot()
    except ET.ParseError as e:
        raise Fail(f"timeline SVG is not well-formed XML: {e}")
    ns = "{http://www.w3.org/2000/svg}"
    titles = [e.text or "" for e in root.iter(ns + "title")]
    check(any(f"({want:,} B)" in x for x in titles),
          f"the peak marker should say {want:,} B: {titles}")
    lines = [e.get("points", "") for e in root.iter(ns + "polyline")]
    check(len(lines) == 3, f"heap, RSS and footprint lines expected, got {len(lines)}")
    heap = [tuple(map(float, pt.split(","))) for pt in lines[0].split()]
    bottom = max(y for _, y in heap)
    check(heap[-1][1] == bottom, f"every block is freed: the heap line must end at 0: {heap[-3:]}")
    txt = memtrace("timeline", log)
    check(txt.returncode == 0 and "heap in use" in txt.stdout and "peak" in txt.stdout,
          f"text timeline\n{show(txt)}")
    bad = memtrace("timeline", "-o", os.path.join(TMP, "no-such-dir", "x.svg"), log)
    check(bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1,
          f"an unwritable -o gives one line and exit 1\n{show(bad)}")


# ---- real programs ----

def real_program(name, *argv):
    exe = shutil.which(argv[0]) if not argv[0].startswith("/") else argv[0]
    if not exe or not os.access(exe, os.X_OK):
        raise Skip(f"{argv[0]} is not installed")
    log = os.path.join(TMP, f"{name}.mtr")
    record(log, exe, *argv[1:])
    rep = report_json(log)
    check(rep.get("allocations", 0) > 0, f"{name}: report shows no allocations: {rep}")
    check(rep.get("frees", 0) > 0, f"{name}: report shows no frees")
    p = memtrace("report", log)
    check(p.returncode == 0 and p.stdout.strip(), f"{name}: text report failed\n{show(p)}")


def case_real_sqlite3():
    real_program("sqlite3", "sqlite3", ":memory:", "select 1")


def case_real_python3():
    real_program("python3", "/usr/bin/python3", "-c", "pass")


def case_real_git():
    real_program("git", "git", "--version")


# ---- the leak check: samples/leak_kinds holds one leak of each kind with exact sizes ----

LEAKS_LINE = re.compile(r"^memtrace-leaks: definite=(\d+)/(\d+) indirect=(\d+)/(\d+) "
                        r"possible=(\d+)/(\d+) reachable=(\d+)/(\d+)\s*$", re.M)
LEAK_KINDS = ("definite", "indirect", "possible", "reachable")


def leak_sample():
    prog = os.path.join(ARGS.build_root, "samples", "leak_kinds")
    if not os.path.isfile(prog):
        raise Skip(f"{prog} is not built yet (samples/leak_kinds.c)")
    return prog


def leak_truth(stdout):
    m = LEAKS_LINE.findall(stdout)
    check(m, f"leak_kinds printed no memtrace-leaks line:\n{stdout[-2000:]}")
    v = [int(x) for x in m[-1]]
    return {k: (v[2 * i], v[2 * i + 1]) for i, k in enumerate(LEAK_KINDS)}


def leaks_json(log, *extra, expect_status=0):
    p = memtrace("leaks", "--format", "json", *extra, log)
    check(p.returncode == expect_status,
          f"memtrace leaks --format json {log}: expected exit {expect_status}\n{show(p)}")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise Fail(f"memtrace leaks --format json {log}: not JSON ({e})\n{show(p)}")


def recorded_leak_sample():
    """Runs leak_kinds under `memtrace run --leak-check`; returns (log, ground truth)."""
    prog = leak_sample()
    log = os.path.join(TMP, "leak_kinds.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, f"memtrace run --leak-check leak_kinds\n{show(p)}")
    return log, leak_truth(p.stdout)


def leak_totals(rep):
    check(rep.get("classified") is True,
          f"the log has no leak scan (classified={rep.get('classified')}):\n{rep}")
    return {k: (rep["totals"][k]["bytes"], rep["totals"][k]["blocks"]) for k in LEAK_KINDS}


def case_leaks_kinds():
    log, truth = recorded_leak_sample()
    rep = leaks_json(log)
    got = leak_totals(rep)
    check(got == truth, f"leak totals {got}, the sample says {truth}")
    check(rep["suppressed"] == {"bytes": 0, "blocks": 0}, f"suppressed: {rep['suppressed']}")
    # default kinds: no reachable record; the lost list's head owns its nodes' bytes
    kinds = sorted(r["kind"] for r in rep["leaks"])
    check(kinds == ["definite", "definite", "indirect", "possible"], f"leak records: {kinds}")
    head = [r for r in rep["leaks"] if r["kind"] == "definite" and r["indirect_bytes"]]
    check(len(head) == 1 and head[0]["bytes"] + head[0]["indirect_bytes"] ==
          truth["definite"][0] - 100 + truth["indirect"][0],
          f"no definite record owning the indirect bytes: {rep['leaks']}")
    check(head[0]["stack"] and head[0]["stack"][0]["function"] == "lost_list",
          f"the lost list's stack does not start in lost_list: {head[0]['stack'][:3]}")
    check(rep["leaks"][0]["bytes"] + rep["leaks"][0]["indirect_bytes"] >=
          rep["leaks"][-1]["bytes"] + rep["leaks"][-1]["indirect_bytes"], "not biggest first")
    everything = leaks_json(log, "--kinds", "all")
    check(sum(1 for r in everything["leaks"] if r["kind"] == "reachable") >= 1,
          "--kinds all lists no reachable record")
    # `memtrace report` carries the same totals
    summary = report_json(log)
    check({k: (summary["leaks"][k]["bytes"], summary["leaks"][k]["blocks"])
           for k in LEAK_KINDS} == truth, f"report's leaks: {summary.get('leaks')}")
    text = memtrace("leaks", "--no-color", log)
    check(text.returncode == 0 and "are definitely lost in loss record 1 of 4" in text.stdout and
          "LEAK SUMMARY" in text.stdout, f"text report\n{show(text)}")
    # a log recorded without --leak-check says so
    plain = os.path.join(TMP, "plain.mtr")
    record(plain, leak_sample())
    rep = leaks_json(plain)
    check(rep["classified"] is False and rep["totals"]["definite"] is None and
          rep["totals"]["unclassified"]["bytes"] >= sum(b for b, _ in truth.values()),
          f"unclassified log: {rep['totals']}")


def case_leaks_exitcode():
    prog = leak_sample()
    p = memtrace("run", "--error-exitcode=3", "-o", os.path.join(TMP, "a.mtr"), "--", prog)
    check(p.returncode == 3, f"run --error-exitcode=3 on leak_kinds\n{show(p)}")
    check("definitely lost" in p.stderr, f"no leak report on stderr\n{show(p)}")
    last = p.stderr.strip().splitlines()[-1]
    # definite 196 + possible 64 fail; the largest group is lost_list's 96 + 96 indirect
    with open(os.path.join(ARGS.source_root, "samples", "leak_kinds.c")) as f:
        src = f.read().splitlines()
    head = 1 + next(i for i, l in enumerate(src) if "struct node **head = malloc(96);" in l)
    want = ("memtrace: leak check: exit status 3 (--error-exitcode): 260 bytes of leaks of a "
            "failing kind (--fail-on), the largest (definitely lost) allocated at "
            f"leak_kinds.c:{head} in lost_list; {prog} itself exited 0")
    check(last == want, f"the last line should say why the status is 3:\n{last!r}\n{want!r}")
    # -q: no report, exactly that line and where to see the report (it was the whole report)
    log = os.path.join(TMP, "q.mtr")
    p = memtrace("run", "-q", "--error-exitcode=3", "-o", log, "--", prog)
    check(p.returncode == 3 and p.stderr == f"{want}; see memtrace leaks {log}\n",
          f"-q: one line expected\n{show(p)}")
    # -q without --error-exitcode: the status stays the program's, the line says what fails
    log = os.path.join(TMP, "q2.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0 and p.stderr == want.replace(" exit status 3 (--error-exitcode):", "")
          + f"; see memtrace leaks {log}\n", f"-q --leak-check: one line expected\n{show(p)}")
    # --fail-leaked-above: 260 failing bytes pass a limit of 260, not one of 259
    for limit, status in (("260", 0), ("259", 3)):
        p = memtrace("run", "-q", "--error-exitcode=3", "--fail-leaked-above", limit, "-o",
                     os.path.join(TMP, f"l{limit}.mtr"), "--", prog)
        check(p.returncode == status and (status or p.stderr == ""),
              f"--fail-leaked-above {limit}: expected exit {status}\n{show(p)}")
    p = memtrace("run", "-q", "--error-exitcode", "3", "--fail-on", "reachable", "-o",
                 os.path.join(TMP, "b.mtr"), "--", prog)
    check(p.returncode == 3, f"--fail-on reachable: the sample keeps 200 bytes\n{show(p)}")
    # suppress every lost block: LSan format for two, valgrind format for the list
    lsan = os.path.join(TMP, "lsan.supp")
    with open(lsan, "w") as f:
        f.write("# LeakSanitizer\nleak:lost_block\nleak:possible_block\n")
    vg = os.path.join(TMP, "vg.supp")
    with open(vg, "w") as f:
        f.write("{\n   the lost list\n   Memcheck:Leak\n   match-leak-kinds: definite,indirect\n"
                "   fun:malloc\n   fun:lost_list\n   ...\n}\n")
    log = os.path.join(TMP, "c.mtr")
    p = memtrace("run", "-q", "--error-exitcode=3", "--suppressions", lsan,
                 "--suppressions=" + vg, "-o", log, "--", prog)
    check(p.returncode == 0, f"every lost block suppressed, yet\n{show(p)}")
    check(p.stderr == "", f"-q and no failing leak: nothing on stderr\n{show(p)}")
    rep = leaks_json(log, "--suppressions", lsan, "--suppressions", vg, "--error-exitcode", "4")
    for k in ("definite", "indirect", "possible"):
        check(rep["totals"][k] == {"bytes": 0, "blocks": 0}, f"{k} left: {rep['totals']}")
    check(rep["suppressed"]["bytes"] > 0, f"suppressed: {rep['suppressed']}")
    used = {s["name"]: s["matched_leaks"] for s in rep["suppressions"]}
    check(used == {"leak:lost_block": 1, "leak:possible_block": 1, "the lost list": 2},
          f"suppressions matched {used}")
    # `leaks` exits 0 unless asked; then with the code asked for
    check(memtrace("leaks", log).returncode == 0, "memtrace leaks without --error-exitcode")
    p = memtrace("leaks", "--error-exitcode", "4", os.path.join(TMP, "a.mtr"))
    check(p.returncode == 4, f"memtrace leaks --error-exitcode 4\n{show(p)}")
    # generated suppressions, fed back, suppress what they were made from
    gen = memtrace("leaks", "--gen-suppressions", "--kinds", "all", os.path.join(TMP, "a.mtr"))
    check(gen.returncode == 0 and "Memcheck:Leak" in gen.stdout, f"--gen-suppressions\n{show(gen)}")
    blocks = gen.stdout[gen.stdout.index("{"):]
    gfile = os.path.join(TMP, "gen.supp")
    with open(gfile, "w") as f:
        f.write(blocks)
    rep = leaks_json(os.path.join(TMP, "a.mtr"), "--suppressions", gfile, "--fail-on", "all",
                     "--error-exitcode", "5")
    check(all(rep["totals"][k]["bytes"] == 0 for k in LEAK_KINDS),
          f"generated suppressions left {rep['totals']}")
    # usage errors are one line and exit 2
    for argv in (["leaks", "--kinds", "lost", log], ["leaks", "--format", "xml", log],
                 ["leaks", "--suppressions", os.path.join(TMP, "nope.supp"), log],
                 ["run", "--fail-on", "bogus", "--", prog],
                 ["run", "--error-exitcode=300", "--", prog]):
        p = memtrace(*argv)
        check(p.returncode == 2 and p.stderr.count("\n") == 1 and
              p.stderr.startswith("memtrace: "), f"memtrace {' '.join(argv)}\n{show(p)}")
    bad = os.path.join(TMP, "bad.supp")
    with open(bad, "w") as f:
        f.write("{\n  x\n  Memcheck:Leak\n  fun:a\n  bogus line\n}\n")
    p = memtrace("leaks", "--suppressions", bad, log)
    check(p.returncode == 2 and f"{bad}:5:" in p.stderr, f"parse error with file:line\n{show(p)}")


def case_leaks_formats():
    import xml.etree.ElementTree as ET
    log, truth = recorded_leak_sample()
    p = memtrace("leaks", "--format", "sarif", "-o", os.path.join(TMP, "out.sarif"), log,
                 cwd=ARGS.source_root)
    check(p.returncode == 0, f"--format sarif\n{show(p)}")
    with open(os.path.join(TMP, "out.sarif")) as f:
        sarif = json.load(f)
    check(sarif["version"] == "2.1.0" and "sarif" in sarif["$schema"], "SARIF version/$schema")
    run0 = sarif["runs"][0]
    drv = run0["tool"]["driver"]
    check(drv["name"] == "memtrace" and drv["version"] and drv["informationUri"], f"driver {drv}")
    rule_ids = {r["id"] for r in drv["rules"]}
    res = run0["results"]
    check(len(res) == 4, f"{len(res)} SARIF results, expected 4 (2 definite, indirect, possible)")
    for r in res:
        check(r["ruleId"] in rule_ids and r["level"] in ("error", "warning") and
              r["message"]["text"], f"result {r}")
        loc = r["locations"][0]["physicalLocation"]
        # relative to the source root (memtrace ran there), so code-scanning UIs can place it
        check(loc["artifactLocation"]["uri"] == "samples/leak_kinds.c" and
              loc["artifactLocation"].get("uriBaseId") == "%SRCROOT%" and
              isinstance(loc["region"]["startLine"], int) and loc["region"]["startLine"] > 0,
              f"location {loc}")
        check(r["codeFlows"][0]["threadFlows"][0]["locations"], "no stack in codeFlows")
    levels = sorted((r["ruleId"], r["level"]) for r in res)
    check(("memtrace/definite-leak", "error") in levels and
          ("memtrace/indirect-leak", "warning") in levels, f"levels {levels}")
    p = memtrace("leaks", "--format", "junit", log)
    check(p.returncode == 0, f"--format junit\n{show(p)}")
    root = ET.fromstring(p.stdout)
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    check(suite is not None and suite.get("name") == "memtrace.leaks", "no memtrace.leaks suite")
    cases = suite.findall("testcase")
    # One case per listed leak, failed when --fail-on (default definite,possible) names its
    # kind: two definite and one possible fail, the indirect one passes.
    failed = sorted(c.get("classname") for c in cases if c.find("failure") is not None)
    check(len(cases) == 4 and suite.get("failures") == "3" and
          failed == ["memtrace.leaks.definite"] * 2 + ["memtrace.leaks.possible"],
          f"JUnit: {p.stdout[:2000]}")
    # --kinds none lists nothing, but the failing leaks still fail the suite (they once gave
    # a "no leaks" pass), in one case with their bytes.
    p = memtrace("leaks", "--format", "junit", "--kinds", "none", log)
    suite = ET.fromstring(p.stdout).find("testsuite")
    cases = suite.findall("testcase")
    check(len(cases) == 1 and cases[0].find("failure") is not None and
          suite.get("failures") == "1" and "260 bytes" in cases[0].find("failure").get("message"),
          f"JUnit --kinds none: {p.stdout[:2000]}")
    # --fail-on none: every leak listed, none failing
    p = memtrace("leaks", "--format", "junit", "--fail-on", "none", log)
    suite = ET.fromstring(p.stdout).find("testsuite")
    cases = suite.findall("testcase")
    check(len(cases) == 4 and suite.get("failures") == "0" and
          all(c.find("failure") is None for c in cases), f"JUnit --fail-on none: {p.stdout[:2000]}")
    # --kinds none --fail-on none: one passing case, which says there were leaks (it was a
    # "no leaks" pass for a log with 4 loss records of lost blocks)
    p = memtrace("leaks", "--format", "junit", "--kinds", "none", "--fail-on", "none", log)
    suite = ET.fromstring(p.stdout).find("testsuite")
    cases = suite.findall("testcase")
    check(len(cases) == 1 and suite.get("failures") == "0" and cases[0].get("name") ==
          "4 leaks (356 bytes) not listed (--kinds), none of a failing kind (--fail-on)",
          f"JUnit --kinds none --fail-on none: {p.stdout[:2000]}")
    # --kinds definite with --fail-on definite,possible: the possible leak is not listed but
    # still fails the suite, with its 64 bytes
    p = memtrace("leaks", "--format", "junit", "--kinds", "definite", log)
    suite = ET.fromstring(p.stdout).find("testsuite")
    cases = suite.findall("testcase")
    check(len(cases) == 3 and suite.get("failures") == "3" and
          cases[2].find("failure").get("message") ==
          "64 bytes of failing kinds (--fail-on), not listed here (--kinds)",
          f"JUnit --kinds definite: {p.stdout[:2000]}")


VALGRIND_LINE = re.compile(r"(definitely lost|indirectly lost|possibly lost|still reachable): "
                           r"([\d,]+) bytes in ([\d,]+) blocks")


def valgrind_totals(prog):
    p = run(["valgrind", "--leak-check=full", "--show-leak-kinds=all", prog], timeout=300)
    check("LEAK SUMMARY" in p.stderr or "All heap blocks were freed" in p.stderr,
          f"no LEAK SUMMARY from valgrind\n{show(p)}")
    summary = p.stderr[p.stderr.find("LEAK SUMMARY"):]
    vg = {k: (0, 0) for k in LEAK_KINDS}
    names = dict(zip(("definitely lost", "indirectly lost", "possibly lost", "still reachable"),
                     LEAK_KINDS))
    for what, b, n in VALGRIND_LINE.findall(summary):
        vg[names[what]] = (int(b.replace(",", "")), int(n.replace(",", "")))
    return vg


def case_leaks_valgrind():
    prog = leak_sample()
    if not shutil.which("valgrind"):
        raise Skip("valgrind is not installed")
    log, truth = recorded_leak_sample()
    got = leak_totals(leaks_json(log))
    vg = valgrind_totals(prog)
    check(got == vg, f"memtrace {got} vs valgrind {vg}")
    check(got == truth, f"memtrace {got} vs the sample's {truth}")


def case_leaks_valgrind_cpp():
    """std::map of strings and a shared_ptr cycle: the kinds and bytes must be valgrind's."""
    prog = os.path.join(ARGS.build_root, "samples", "leak_cpp")
    if not shutil.which("valgrind"):
        raise Skip("valgrind is not installed")
    log = os.path.join(TMP, "leak_cpp.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, f"memtrace run --leak-check leak_cpp\n{show(p)}")
    got = leak_totals(leaks_json(log))
    vg = valgrind_totals(prog)
    check(got["definite"][1] > 0 and got["indirect"][1] > 0, f"leak_cpp leaks nothing? {got}")
    check(got == vg, f"memtrace {got} vs valgrind {vg}")


LEAK_THREADS_LINE = re.compile(r"^memtrace-leak-threads: definite=(\d+)/(\d+) "
                               r"worker_blocks=(\d+)/(\d+)", re.M)


def case_leaks_threads_running():
    """Threads still running at exit: held still, their blocks reachable, no hang."""
    prog = os.path.join(ARGS.build_root, "samples", "leak_threads")
    log = os.path.join(TMP, "leak_threads.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", prog)
    check(p.returncode == 0, f"memtrace run --leak-check leak_threads\n{show(p)}")
    m = LEAK_THREADS_LINE.search(p.stdout)
    check(m, f"leak_threads printed no result line\n{show(p)}")
    definite, worker = (int(m[1]), int(m[2])), (int(m[3]), int(m[4]))
    got = leak_totals(leaks_json(log))
    check(got["definite"] == definite, f"definite {got['definite']}, the sample says {definite}")
    check(got["indirect"] == (0, 0), f"indirect {got['indirect']}")
    # Reachable: the workers' blocks, plus whatever glibc keeps (nothing of its own here).
    check(got["reachable"][0] >= worker[0] and got["reachable"][1] >= worker[1],
          f"reachable {got['reachable']} does not hold the workers' {worker}")



# ---- Python: frames, allocator domains, leaks at the end of the script ----

PYTHON = "/usr/bin/python3"


def py_sample(name):
    path = os.path.join(ARGS.source_root, "samples", name)
    if not os.access(PYTHON, os.X_OK):
        raise Skip(f"{PYTHON} is not installed")
    return path


def py_record(name, *args, opts=()):
    log = os.path.join(TMP, name.replace(".py", ".mtr"))
    p = memtrace("run", "-o", log, *opts, "--", PYTHON, py_sample(name), *args)
    check(p.returncode == 0 and os.path.isfile(log), f"memtrace run python3 {name}\n{show(p)}")
    return log, p


def sample_kv(stdout, tag):
    m = re.search(rf"^memtrace-{tag}: (.*)$", stdout, re.M)
    check(m, f"no memtrace-{tag} line in the output:\n{stdout[-2000:]}")
    return dict(kv.split("=", 1) for kv in m.group(1).split())


def py_frames(stack):
    return [f for f in stack if f.get("python")]


def first_py(stack):
    fr = py_frames(stack)
    return fr[0] if fr else {}


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
    os.mkdir(os.path.join(TMP, "script"))
    script = os.path.join(TMP, "script", "cache.py")
    with open(script, "w") as fh:
        fh.write(code)
    runs = {}
    for cache in ("1", "0"):
        log = os.path.join(TMP, f"cache{cache}.mtr")
        env = dict(os.environ, MEMTRACE_PYTHON_CACHE=cache)
        p = memtrace("run", "-q", "-o", log, "--", PYTHON, script, env=env)
        check(p.returncode == 0, f"memtrace run (cache {cache})\n{show(p)}")
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


def case_py_nested_cache():
    """Stacks nested through C (an import runs a module body; class bodies, exec and sorted's
    key inside it) are found from cached prefixes and native tails (recorder.c): every site,
    its whole stack with native frames, and its figures must be what the full walk gives
    (MEMTRACE_PYTHON_CACHE=0), and the module's known allocations must all be there."""
    pkg = os.path.join(TMP, "nested", "nestpkg")
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
    dump = os.path.join(ARGS.build_root, "tests", "integration", "mt_stackdump")
    runs, stacks = {}, {}
    for cache in ("1", "0"):
        log = os.path.join(TMP, f"nested{cache}.mtr")
        env = dict(os.environ, MEMTRACE_PYTHON_CACHE=cache, PYTHONDONTWRITEBYTECODE="1")
        p = memtrace("run", "-q", "-o", log, "--", PYTHON, "-c", "import nestpkg",
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
    check(any("python3" in ln.split(";")[1] for ln in stacks["1"]),
          "mt_stackdump: no interpreter frame in the recorded stacks")
    extra, missing = stacks["1"] - stacks["0"], stacks["0"] - stacks["1"]
    check(not extra and not missing,
          f"recorded stacks differ with and without the caches: {sum(extra.values())} only "
          f"with, {sum(missing.values())} only without, e.g. "
          f"{(list(extra) + list(missing))[0][:1500]}" if extra or missing else "")


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
    log2 = os.path.join(TMP, "py_held_2.mtr")
    q = memtrace("run", "-q", "-o", log2, "--", PYTHON, py_sample("py_held.py"), "20000")
    check(q.returncode == 0, f"second run\n{show(q)}")
    d = memtrace("diff", "--by", "leaked", "--fail-above", "0", log, log2)
    check(d.returncode == 1 and "grew" in d.stderr, f"diff --by leaked --fail-above 0\n{show(d)}")


def case_py_own_objects():
    """memtrace's own objects in the interpreter (the atexit callback, the profile function
    that names threads, the audit hook's entry) are neither the program's allocations nor,
    when finalization frees them, unknown frees: every free in a Python run is of a block
    the log has (before: about 20 unknown frees in every run)."""
    script = os.path.join(TMP, "py_own_threads.py")
    with open(script, "w") as f:
        f.write("import threading\n"
                "def work(n):\n"
                "    return [str(i) for i in range(n)]\n"
                "ts = [threading.Thread(target=work, args=(1000,)) for _ in range(3)]\n"
                "for t in ts: t.start()\n"
                "for t in ts: t.join()\n")
    runs = {"pass": ["-c", "pass"], "no-site": ["-S", "-c", "pass"],
            "isolated": ["-I", "-S", "-c", "pass"], "threads": [script]}
    for name, args in runs.items():
        log = os.path.join(TMP, f"py_own_{name}.mtr")
        p = memtrace("run", "-q", "-o", log, "--", PYTHON, *args)
        check(p.returncode == 0, f"{name}: run\n{show(p)}")
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


def tracemalloc_by_line(script, *args):
    """{line: [bytes, blocks]} tracemalloc holds at the end of the same script, 1 frame."""
    code = ("import runpy, sys, tracemalloc; tracemalloc.start(1); "
            f"sys.argv = [{script!r}] + {list(args)!r}; runpy.run_path({script!r}); "
            "s = tracemalloc.take_snapshot()\n"
            "for st in s.statistics('lineno'):\n"
            f"    if st.traceback[0].filename == {script!r}:\n"
            "        print('tm', st.traceback[0].lineno, st.size, st.count)")
    t = run([PYTHON, "-c", code])
    check(t.returncode == 0, f"tracemalloc run failed\n{show(t)}")
    return {int(m[0]): [int(m[1]), int(m[2])]
            for m in re.findall(r"^tm (\d+) (\d+) (\d+)$", t.stdout, re.M)}


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
    keep = os.path.join(TMP, "keep.mtr")
    q = memtrace("run", "-q", "--keep-free-lists", "-o", keep, "--", PYTHON, script)
    check(q.returncode == 0 and q.stdout == p.stdout, f"--keep-free-lists run\n{show(q)}")
    held_keep = py_held_by_line(keep, "py_freelist.py")
    stolen = held_keep.get(int(kv["scratch"]), [0, 0])[1]
    check(stolen > n, f"with free lists kept the temporaries' line holds {stolen} blocks")


def case_py_free_lists_hostile():
    """With the free lists emptied by memtrace, what CPython's trashcan protects must stay
    protected: freeing lists, dicts and tuples nested a million deep (and a list subclass)
    must not overflow the C stack, and the program's output and status are unchanged."""
    script = os.path.join(TMP, "deep.py")
    with open(script, "w") as f:
        f.write("import gc\n"
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
    log = os.path.join(TMP, "deep.mtr")
    p = memtrace("run", "-q", "-o", log, "--", PYTHON, script)
    check(p.returncode == 0 and p.stdout == plain.stdout,
          f"under memtrace: status {p.returncode}, stdout {p.stdout!r} (plain {plain.stdout!r})"
          f"\n{show(p)}")


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
    svg = os.path.join(TMP, "tl.svg")
    t = memtrace("timeline", log, "-o", svg)
    check(t.returncode == 0, f"timeline\n{show(t)}")
    with open(svg) as fh:
        body = fh.read()
    check(">pymalloc arenas<" in body and ">script end<" in body and body.count("<polyline") == 4,
          "the timeline lacks the pymalloc arenas line or the end of the script")
    page = os.path.join(TMP, "page.html")
    t = memtrace("html", log, "-o", page)
    check(t.returncode == 0, f"html\n{show(t)}")
    with open(page) as fh:
        body = fh.read()
    check("<th>at the end of the script</th>" in body
          and "pymalloc arenas at the end of the script" in body,
          "the HTML fragmentation section lacks the end of the script or pymalloc's arenas")
# ---- memtrace lines: the script line by line (issue 17) ----

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


def case_py_lines():
    """`memtrace lines` on a script whose lines' figures it knows: a million ints kept, a
    generator consumed by sum(), a call including its callee, recursion counted once; text,
    JSON and the HTML section agree; tracemalloc's per-line figures are the oracle."""
    truth = os.path.join(TMP, "truth.json")
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
    page = os.path.join(TMP, "page.html")
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
    tm_path = os.path.join(TMP, "tm.json")
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


def case_py_lines_errors():
    """`memtrace lines`: one line and a non-zero status for what it cannot show; a source file
    that is gone is said in one line and the figures are still there by line number."""
    d = os.path.join(TMP, "gone")
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
    log = os.path.join(TMP, "small.mtr")
    p = memtrace("run", "-q", "-o", log, "--", PYTHON, script)
    check(p.returncode == 0, f"memtrace run small.py\n{show(p)}")
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
    os.rename(script, os.path.join(TMP, "small.py"))
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
    p = memtrace("lines", "--format", "json", "--file", "small.py", log, cwd=TMP)
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
    native = os.path.join(TMP, "native.mtr")
    p = memtrace("run", "-q", "-o", native, "--", "/bin/true")
    check(p.returncode == 0, f"memtrace run /bin/true\n{show(p)}")
    fails([native], 1, "no Python frames")


IMPORT_FILES = ("<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>",
                "<frozen zipimport>")


def import_frames(stack):
    return [f for f in stack if f.get("file") in IMPORT_FILES]


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
    old = os.path.join(TMP, "small.mtr")
    q = memtrace("run", "-q", "-o", old, "--", PYTHON, py_sample("py_held.py"), "10")
    check(q.returncode == 0, f"py_held.py\n{show(q)}")
    d = json_of("diff", "--format", "json", "--top", "0", old, log)
    blob_stack([x["stack"] for x in d["sites"]], "diff")
    # Flame graph and folded stacks: each Python frame is a line, the module's under the import.
    svg = os.path.join(TMP, "f.svg")
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


def case_py_pytest_recipe():
    """The README's recipe for CI: `memtrace run --error-exitcode` around `python3 -m pytest`
    fails the run on a test that leaves memory held at the end of the session (the end of the
    script, issue 17) or on a heap peak above a limit, naming the test's line in the last line
    of stderr; a clean suite passes with pytest's own output unchanged."""
    py_sample("py_leak.py")  # skips without /usr/bin/python3
    if run([PYTHON, "-c", "import pytest"]).returncode != 0:
        raise Skip(f"pytest is not installed for {PYTHON} (Debian: apt-get install python3-pytest)")
    suite = os.path.join(TMP, "suite")
    shutil.copytree(os.path.join(ARGS.source_root, "samples", "pytest_recipe"), suite)

    def marked(name, mark):
        with open(os.path.join(suite, name)) as f:
            return next(i for i, l in enumerate(f, 1) if l.rstrip().endswith(f"# {mark}"))

    pytest = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    recipe = ["run", "-q", "--error-exitcode", "3", "--fail-leaked-above", "64K",
              "--fail-peak-above", "32MiB"]

    def under(name, *files):
        log = os.path.join(TMP, name + ".mtr")
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


def case_py_function_named_main():
    """valgrind's --show-below-main=no cut is for C's main: a Python function called main
    keeps its callers, so leaks from two call lines stay two records."""
    script = os.path.join(TMP, "pm.py")
    with open(script, "w") as f:
        f.write("KEEP = []\ndef main(n):\n    KEEP.append(bytes(n))\n"
                "main(100_000)\nmain(200_000)\n")
    log = os.path.join(TMP, "pm.mtr")
    p = memtrace("run", "-q", "-o", log, "--", PYTHON, script)
    check(p.returncode == 0, f"memtrace run\n{show(p)}")
    rep = leaks_json(log)
    calls = sorted(py_frames(k.get("stack") or [])[1].get("line")
                   for k in rep.get("leaks") or []
                   if len(py_frames(k.get("stack") or [])) > 1
                   and py_frames(k["stack"])[0].get("function") == "main")
    check(calls == [4, 5], f"main's leaks by calling line: {calls}, expected [4, 5]")


def case_py_debug_allocators():
    """PYTHONMALLOC and -X dev replace the allocators memtrace wrapped during start-up: the
    program must behave exactly as without memtrace (this once aborted at finalization)."""
    for env_add, opts in (({"PYTHONMALLOC": "debug"}, ()), ({"PYTHONMALLOC": "malloc"}, ()),
                          ({}, ("-X", "dev"))):
        log = os.path.join(TMP, f"dbg{len(os.listdir(TMP))}.mtr")
        env = dict(os.environ, **env_add)
        p = memtrace("run", "-q", "-o", log, "--", PYTHON, *opts, py_sample("py_leak.py"),
                     env=env)
        check(p.returncode == 0 and "memtrace-pyleak:" in p.stdout and not p.stderr.strip(),
              f"python3 {' '.join(opts)} with {env_add} under memtrace\n{show(p)}")
        rep = report_json(log, "--top", "50")
        check(any(f.get("python") for s in rep.get("top_sites") or [] for f in s.get("stack") or []),
              f"still Python frames with {env_add} {opts} (through malloc)")

CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items()
         if name.startswith("case_")}


def main():
    global ARGS, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--memtrace", required=True)
    ap.add_argument("--source-root", required=True)
    ap.add_argument("--build-root", required=True)
    ap.add_argument("--cc", default=None)
    ap.add_argument("--libdir", default="lib", help="meson's libdir option, relative")
    ap.add_argument("--sample", default=None, help="check only this sample program")
    ap.add_argument("case", choices=sorted(CASES))
    ARGS = ap.parse_args()
    ARGS.memtrace = os.path.abspath(ARGS.memtrace)
    if ARGS.sample:
        ARGS.sample = os.path.abspath(ARGS.sample)
    TMP = tempfile.mkdtemp(prefix=f"memtrace-it-{ARGS.case}.")
    try:
        CASES[ARGS.case]()
    except Skip as e:
        print(f"SKIP {ARGS.case}: {e}")
        return SKIP
    except Fail as e:
        print(f"FAIL {ARGS.case}: {e}", file=sys.stderr)
        print(f"(files kept in {TMP})", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"FAIL {ARGS.case}: timed out: {e}", file=sys.stderr)
        return 1
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"PASS {ARGS.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
