# SPDX-License-Identifier: MIT
# memtrace attach PID: recording a process started without memtrace, from the attach to the
# detach. The C program here knows its answer: 5 blocks of 1,000 bytes allocated before the
# attach; while attached, 7 blocks of 333 bytes, 3 of them freed, and 4 of the 5 early blocks
# freed ("freed, allocated before attach", never unknown frees or leaks); after the detach the
# same again, which must not be in the log. The process must run on unharmed: same output,
# same exit status as without memtrace.
import atexit
import os
import shutil
import signal
import subprocess

import mt_harness as it
from mt_harness import check, show, memtrace, report_json, build_c, run, write

case = it.suite("integration", "attach")

WAITER = r"""
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define PRE 5
#define N 7
int main(void)
{
    static void *pre[PRE];
    static void *blk[2][N];
    for (int i = 0; i < PRE; i++)
        pre[i] = malloc(1000);
    printf("ready\n");
    fflush(stdout);
    char line[64];
    int round = 0;
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "go", 2) == 0 && round < 2) {
            for (int i = 0; i < N; i++)
                blk[round][i] = malloc(333);
            for (int i = 0; i < 3; i++)
                free(blk[round][i]);
            if (round == 0)
                for (int i = 0; i < 4; i++)
                    free(pre[i]);
            round++;
            printf("did go %d\n", round);
            fflush(stdout);
        } else if (strncmp(line, "sleep", 5) == 0) {
            /* interrupted by the attach, the sleep must restart and end normally */
            struct timespec ts = {1, 500000000}, rem = {0, 0};
            int r = nanosleep(&ts, &rem);
            printf("nanosleep %d %s\n", r, r ? strerror(errno) : "ok");
            fflush(stdout);
        } else if (strncmp(line, "end", 3) == 0) {
            break;
        }
    }
    printf("bye\n");
    return 3;
}
"""

EXPECTED_OUT = ["ready", "did go 1", "did go 2", "bye"]


def waiter():
    return build_c("attach_waiter", WAITER, "-O0", "-g")


# Every process a case starts: killed when the case ends, so that a failure leaves no program
# waiting on its pipe or spinning forever.
STARTED = []


@atexit.register
def kill_started():
    for p in STARTED:
        if p.poll() is None:
            p.kill()
            p.wait()


def start(argv):
    p = subprocess.Popen(argv, cwd=it.TMP, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    STARTED.append(p)
    return p


def say(p, text):
    """Sends a line to the program and returns the line it answers."""
    p.stdin.write(text + "\n")
    p.stdin.flush()
    return p.stdout.readline().strip()


def attach(pid, log, *opts):
    """Starts memtrace attach and waits for its 'recording' line (the hooks are in place)."""
    a = subprocess.Popen([it.ARGS.memtrace, "attach", "-o", log, *opts, str(pid)], cwd=it.TMP,
                         stderr=subprocess.PIPE, text=True)
    STARTED.insert(0, a)  # memtrace first: it detaches before its target goes
    first = a.stderr.readline()
    if not first.startswith("memtrace: recording pid "):
        a.wait(timeout=30)
        raise it.Fail(f"memtrace attach did not start recording: {first}{a.stderr.read()}")
    return a, first


@case(120)
def case_attach_c_exact():
    prog = waiter()
    plain = run([prog], input="go\ngo\nend\n")
    check(plain.returncode == 3 and plain.stdout.split("\n")[:-1] == EXPECTED_OUT,
          f"the waiter without memtrace\n{show(plain)}")
    log = os.path.join(it.TMP, "attach_c.mtr")
    p = start([prog])
    lines = [p.stdout.readline().strip()]
    a, first = attach(p.pid, log)
    check(first.strip() == f"memtrace: recording pid {p.pid} (attach_waiter) into {log}; "
          "Ctrl-C stops", f"first line: {first!r}")
    lines.append(say(p, "go"))
    a.send_signal(signal.SIGINT)  # Ctrl-C
    rest = a.stderr.read()
    check(a.wait(timeout=30) == 0, f"memtrace attach after Ctrl-C: exit {a.returncode}\n{rest}")
    check(rest.startswith(f"memtrace: recorded pid {p.pid} (attach_waiter) for ") and
          rest.rstrip().endswith(f"into {log}; it runs on"), f"last line: {rest!r}")
    lines.append(say(p, "go"))  # after the detach: not recorded
    p.stdin.write("end\n")
    out, err = p.communicate(timeout=60)
    lines += out.split("\n")[:-1]
    check(lines == EXPECTED_OUT and p.returncode == 3,
          f"the process's output or status changed: {lines}, exit {p.returncode}")
    check(err == "", f"the recorder wrote to the process's stderr: {err!r}")

    rep = report_json(log)
    want = {"allocations": 7, "frees": 3, "bytes_allocated": 7 * 333, "unknown_frees": 0,
            "freed_before_attach": 4, "leaked_blocks": 4, "leaked_bytes": 4 * 333}
    got = {k: rep[k] for k in want}
    check(got == want, f"report: {got}, expected {want}")
    check(rep["origin"]["how"] == "attach", f"origin {rep['origin']}")
    check(rep["exit"] == {"reason": "detach", "status": 0}, f"exit {rep['exit']}")
    txt = memtrace("report", log).stdout
    for row in ["  before attach      4 blocks freed, allocated before attach",
                "  held at detach     1.30 KiB (1,332 B) in 4 blocks",
                "  pid                %d, exit detach 0" % p.pid]:
        check(row in txt, f"no row {row!r} in the text report\n{txt}")
    lk = memtrace("leaks", log).stdout
    check("not possible: memtrace attach recorded part of the process's life" in lk,
          f"memtrace leaks does not say why it cannot check\n{lk}")


@case(120)
def case_attach_duration_and_restart():
    """--duration ends the recording by itself; a thread borrowed inside nanosleep finishes
    its sleep as if nothing happened (the kernel's restart of the interrupted call)."""
    prog = waiter()
    log = os.path.join(it.TMP, "attach_dur.mtr")
    p = start([prog])
    check(p.stdout.readline().strip() == "ready", "no ready line")
    p.stdin.write("sleep\n")
    p.stdin.flush()
    a = subprocess.run([it.ARGS.memtrace, "attach", "-q", "--duration", "0.3", "-o", log,
                        str(p.pid)], cwd=it.TMP, capture_output=True, text=True, timeout=60)
    check(a.returncode == 0 and a.stderr == "", f"memtrace attach --duration\n{show(a)}")
    check(p.stdout.readline().strip() == "nanosleep 0 ok",
          "the interrupted nanosleep did not restart")
    check(say(p, "go") == "did go 1", "the process does not answer after the detach")
    p.stdin.write("end\n")
    out, err = p.communicate(timeout=60)
    check(out == "bye\n" and p.returncode == 3 and err == "", f"{out!r} {err!r} {p.returncode}")
    rep = report_json(log)
    got = {k: rep[k] for k in ["allocations", "frees", "freed_before_attach", "unknown_frees"]}
    check(got == {"allocations": 0, "frees": 0, "freed_before_attach": 0, "unknown_frees": 0},
          f"after the detach nothing is recorded: {got}")
    check(rep["exit"]["reason"] == "detach", f"exit {rep['exit']}")


def refused(argv, want, **kw):
    p = run(argv, **kw)
    check(p.returncode == 1 and p.stderr == want + "\n" and p.stdout == "",
          f"{' '.join(argv)}: expected exit 1 and {want!r}\n{show(p)}")


@case(120)
def case_attach_refusals():
    mt = it.ARGS.memtrace
    # a pid that does not exist (pid_max is at most 2^22)
    refused([mt, "attach", "99999999"], "memtrace: attach: no process with pid 99999999")
    # a statically linked program: no dynamic loader to load the recorder
    src = write("attach_static.c", "#include <unistd.h>\nint main(void){pause();return 0;}\n")
    exe = os.path.join(it.TMP, "attach_static")
    if it.compile_c(src, exe, "-static").returncode == 0:
        s = subprocess.Popen([exe])
        try:
            refused([mt, "attach", str(s.pid)],
                    f"memtrace: attach: pid {s.pid} (attach_static) is statically linked: it "
                    "has no dynamic loader to load the recorder with (only dynamically linked "
                    "programs can be attached to; 'memtrace run' cannot record it either)")
        finally:
            s.kill()
            s.wait()
    # a sanitizer build (ASan's runtime serves malloc): refused before the recorder is loaded
    exe = os.path.join(it.TMP, "attach_asan")
    if run(["gcc", "-fsanitize=address", "-o", exe, src]).returncode == 0:
        s = subprocess.Popen([exe], stderr=subprocess.PIPE, text=True)
        try:
            refused([mt, "attach", str(s.pid)],
                    f"memtrace: attach: pid {s.pid} (attach_asan) is built with "
                    "AddressSanitizer (-fsanitize=address), whose runtime serves malloc itself: "
                    "there is nothing memtrace could record")
            with open(f"/proc/{s.pid}/maps") as f:
                check("libmemtrace_preload" not in f.read(), "the recorder was loaded all the same")
        finally:
            s.kill()
            _, err = s.communicate()
        check("memtrace" not in err, f"memtrace wrote to the process's stderr: {err}")
    # a process memtrace already records
    prog = waiter()
    r = start([mt, "run", "-q", "-o", os.path.join(it.TMP, "attach_run.mtr"), "--", prog])
    try:
        check(r.stdout.readline().strip() == "ready", "no ready line under memtrace run")
        kids = open(f"/proc/{r.pid}/task/{r.pid}/children").read().split()
        check(len(kids) == 1, f"memtrace run's children: {kids}")
        refused([mt, "attach", kids[0]],
                f"memtrace: attach: pid {kids[0]} (attach_waiter) is already recorded by "
                "memtrace (memtrace run, LD_PRELOAD, or an earlier attach: the recorder stays "
                "loaded after a detach, and attaching twice is not supported)")
    finally:
        r.communicate("end\n", timeout=60)
    # another user's process: the kernel's EPERM, and how to allow it
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        raise it.Skip("the other-user refusal needs root and setpriv")
    s = subprocess.Popen(["sleep", "60"])
    try:
        refused([setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", mt, "attach",
                 str(s.pid)],
                f"memtrace: attach: cannot trace pid {s.pid} (sleep): it belongs to root "
                "(uid 0), and only root or CAP_SYS_PTRACE may trace another user's process; "
                "run memtrace attach as that user or as root")
    finally:
        s.kill()
        s.wait()


PY_WAITER = r"""
import sys
keep = []
print("ready", flush=True)
for line in sys.stdin:
    if line.startswith("go"):
        keep.append([bytearray(123457) for _ in range(10)])
        print("did go", flush=True)
    elif line.startswith("end"):
        break
print("bye", flush=True)
sys.exit(4)
"""


def python_attached(name):
    """Runs PY_WAITER under /usr/bin/python3, attaches for one "go"; returns the report and
    the site of the 10 bytearrays."""
    script = write(name + ".py", PY_WAITER)
    log = os.path.join(it.TMP, name + ".mtr")
    p = start([it.PYTHON, script])
    lines = [p.stdout.readline().strip()]
    a, _ = attach(p.pid, log)
    lines.append(say(p, "go"))
    a.send_signal(signal.SIGINT)
    rest = a.stderr.read()
    check(a.wait(timeout=30) == 0, f"memtrace attach: exit {a.returncode}\n{rest}")
    lines.append(say(p, "go"))
    p.stdin.write("end\n")
    out, err = p.communicate(timeout=60)
    lines += out.split("\n")[:-1]
    check(lines == ["ready", "did go", "did go", "bye"] and p.returncode == 4 and err == "",
          f"the interpreter's output or status changed: {lines} exit {p.returncode} {err!r}")
    rep = report_json(log)
    check(rep["origin"]["how"] == "attach" and rep["unknown_frees"] == 0, f"report {rep}")
    # bytearray(123457) is one malloc of 123,458 bytes (its buffer and a NUL)
    sites = [s for s in rep["top_sites"] if s["allocations"] == 10 and
             s["bytes"] == 10 * 123458]
    check(len(sites) == 1, "no site of the 10 bytearrays: " +
          str([(s["allocations"], s["bytes"]) for s in rep["top_sites"]]))
    check(sites[0]["leaked_blocks"] == 10, f"the bytearrays are held at the detach: {sites[0]}")
    return rep, sites[0]


@case(120)
def case_attach_python():
    """A running /usr/bin/python3 (non-PIE, its malloc a canonical PLT entry): its native
    allocations while attached, with exact sizes."""
    python_attached("attach_py")


@case(120, needs="python_frames")
def case_attach_python_frames():
    """The stacks of a running interpreter's allocations carry its Python frames: read from
    the thread state, which needs no hook installed before Py_Initialize."""
    _, site = python_attached("attach_pyf")
    top = [(f["function"], os.path.basename(f["file"] or ""), f["line"])
           for f in site["stack"] if f.get("python")][:2]
    check(top == [("<listcomp>", "attach_pyf.py", 7), ("<module>", "attach_pyf.py", 7)],
          f"Python frames of the bytearrays' site: {top}\n{site['stack']}")


SPINNER = r"""
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
static volatile sig_atomic_t phase;
static void on_usr1(int sig) { (void)sig; phase++; }
int main(void)
{
    signal(SIGUSR1, on_usr1);
    void *pre = malloc(1000);
    printf("ready\n");
    fflush(stdout);
    volatile unsigned long spins = 0;
    while (phase == 0) /* computes in its own code: never in a system call nor in libc */
        spins++;
    void *b[5];
    for (int i = 0; i < 5; i++)
        b[i] = malloc(77);
    free(b[0]);
    free(pre);
    printf("allocated\n");
    fflush(stdout);
    while (phase == 1)
        spins++;
    printf("bye\n");
    return 5;
}
"""


@case(120)
def case_attach_busy_thread():
    """A process that never waits: its thread is borrowed in its own code (outside libc and
    the loader, so it holds none of their locks), and resumes its computation."""
    prog = build_c("attach_spinner", SPINNER, "-O0", "-g")
    log = os.path.join(it.TMP, "attach_spin.mtr")
    p = start([prog])
    check(p.stdout.readline().strip() == "ready", "no ready line")
    a, _ = attach(p.pid, log)
    os.kill(p.pid, signal.SIGUSR1)
    check(p.stdout.readline().strip() == "allocated", "no 'allocated' line")
    a.send_signal(signal.SIGINT)
    rest = a.stderr.read()
    check(a.wait(timeout=30) == 0, f"memtrace attach: exit {a.returncode}\n{rest}")
    os.kill(p.pid, signal.SIGUSR1)
    out, err = p.communicate(timeout=60)
    check(out == "bye\n" and err == "" and p.returncode == 5, f"{out!r} {err!r} {p.returncode}")
    rep = report_json(log)
    got = {k: rep[k] for k in ["allocations", "frees", "freed_before_attach", "unknown_frees",
                               "leaked_blocks", "leaked_bytes"]}
    want = {"allocations": 5, "frees": 1, "freed_before_attach": 1, "unknown_frees": 0,
            "leaked_blocks": 4, "leaked_bytes": 4 * 77}
    check(got == want, f"report: {got}, expected {want}")
