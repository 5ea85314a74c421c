# SPDX-License-Identifier: MIT
# Hostile but legal programs (issue 19): each runs plain and under `memtrace run`; the exit
# status and stdout must be the plain run's, the run must end within its time limit, and where
# the program prints its own counts ("hostile: mallocs=N frees=N leaked=N") the log's own-site
# totals must equal them. One meson test per case; exit 0 pass, 77 skip, anything else fail.
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import mt_harness as it  # noqa: E402
from mt_harness import Fail, Skip, check, json_of, memtrace, run, show  # noqa: E402

case = it.suite("hostile")

COUNTS = re.compile(r"hostile:.*?mallocs=(\d+) frees=(\d+) leaked=(\d+)")


def prog(name):
    return it.built("tests", "hostile", name)


def logs_of(base):
    d = os.path.dirname(base)
    names = sorted(n for n in os.listdir(d) if n == os.path.basename(base) or
                   n.startswith(os.path.basename(base) + "."))
    return [os.path.join(d, n) for n in names]


def own_totals(log, exe):
    p = memtrace("report", "--format", "json", "--top", "1000000", log)
    check(p.returncode == 0, f"memtrace report {log}\n{show(p)}")
    rep = json.loads(p.stdout)
    check(not rep["truncated"], f"{log} is truncated: {rep.get('truncation')}")
    alloc, frees, leaked, _ = it.own_calls(rep, exe)
    return (alloc, frees, leaked), rep


def same_as_plain(name, *args, timeout=120, env=None, counts=True, counts_from="plain",
                  traced_status=None):
    """Runs the program plain and under memtrace: same status, same stdout; then, when it
    prints its counts, one of its logs holds exactly those for the program's own sites.
    traced_status: the status `memtrace run` must exit with instead of the program's (1 when
    recording stopped early: the run's figures are incomplete)."""
    exe = prog(name)
    plain = run([exe, *args], timeout=timeout, env=env)
    tag = re.sub(r"[^A-Za-z0-9_]+", "_", "-".join(args))[:40]
    log = os.path.join(it.TMP, f"{name}-{tag}.mtr")
    try:
        traced = memtrace("run", "-q", "-o", log, "--", exe, *args, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise Fail(f"{name} {' '.join(args)}: still running after {timeout} s under memtrace "
                   f"(plain: exit {plain.returncode})")
    # memtrace run ends by signal N for a program killed by signal N, as the program did.
    want_status = plain.returncode
    if traced_status is not None:
        want_status = traced_status
    check(traced.returncode == want_status,
          f"{name} {' '.join(args)}: exit {traced.returncode} under memtrace, "
          f"{plain.returncode} plain\n{show(traced)}")
    check(traced.stdout == plain.stdout,
          f"{name} {' '.join(args)}: stdout differs\n--- plain ---\n{plain.stdout[-2000:]}"
          f"\n--- memtrace ---\n{traced.stdout[-2000:]}")
    if not counts:
        return traced, None
    # A program whose counts depend on the run prints them to stderr: those of the traced run.
    source = plain.stdout if counts_from == "plain" else traced.stderr
    want = COUNTS.findall(source)
    check(want, f"{name} printed no counts\n{show(plain if counts_from == 'plain' else traced)}")
    want = tuple(int(x) for x in want[-1])
    got = [own_totals(l, exe) for l in logs_of(log)]
    check(any(g[0] == want for g in got),
          f"{name} {' '.join(args)}: the program counted mallocs, frees, leaked = {want}; "
          f"its logs say {[g[0] for g in got]}")
    print(f"  {name} {' '.join(args)}: exit {plain.returncode}, counts {want}: exact")
    return traced, [g[1] for g in got if g[0] == want][0]


@case(60)
def case_pthread_exit_main():
    """Item 1: main ends with pthread_exit; the process ends when the worker does."""
    same_as_plain("pthread_exit_main", timeout=30, counts=False)


@case(60)
def case_exit_handlers_deep():
    """main ends with pthread_exit, the worker returns, and the exit handlers, which then run
    in memtrace's writer thread, recurse through 3 MiB of stack and allocate: they get a stack
    of the size a thread of the program gets, not the writer's 256 KiB (SIGSEGV)."""
    same_as_plain("exit_handlers_deep", timeout=30)


@case(180)
def case_cancel_storm():
    """Item 2: threads cancelled while the starved writer makes them wait in the hooks."""
    same_as_plain("cancel_storm", "100", timeout=120, counts=False)


@case(180)
def case_starved_writer():
    """Issue 14: the writer thread starved for good (SCHED_IDLE behind a spinning thread on its
    CPU): producers write the buffers themselves after a short wait; every event is logged."""
    same_as_plain("starved_writer", "2000000", timeout=120)


@case(240)
def case_raw_clone():
    """Item 4: a raw clone's child allocates 2M blocks: no hang, every event in its log."""
    same_as_plain("raw_clone", "2000000", timeout=180)


@case(60)
def case_execl_rlimit():
    """Item 5: execl under an RLIMIT_AS just above what is mapped."""
    same_as_plain("execl_rlimit", timeout=60, counts=False)


@case(60)
def case_exec_fail():
    """Item 9: six failing execs; recording goes on after each."""
    same_as_plain("exec_fail", it.TMP, timeout=60)


@case(60)
def case_small_stacks():
    """Item 3: hooked calls on a 4 KiB coroutine stack and on a minimal alternate signal stack
    (the kernel's minimum plus what the handler uses plain): nothing written below either."""
    same_as_plain("small_stacks", timeout=60)


@case(60)
def case_vfork_exec():
    """A vfork child's exec leaves nothing behind in the parent it shares memory with: the
    parent's later allocations are all recorded."""
    same_as_plain("vfork_exec", timeout=60)


@case(180)
def case_many_threads():
    """Item 7 and 10,000 threads alive at once: every thread's events, no mapping per thread
    (the thread-count benchmark itself, `many_threads max`, is in the README)."""
    same_as_plain("many_threads", "10000", timeout=180)


@case(120)
def case_signal_storm():
    """Item 8: a signal storm whose handler calls every hooked function while the main thread
    allocates: every call recorded, none reported lost; and the mmap calls too."""
    for how in ("sigaction", "bsd_signal"):
        traced, rep = same_as_plain("signal_storm", "100000", how, timeout=120,
                                    counts_from="traced")
        handlers = int(re.search(r"handlers=(\d+)", traced.stderr).group(1))
        maps = int(re.search(r"maps=(\d+)", traced.stderr).group(1))
        check(rep["events_lost_notice"] is None,
              f"{how}: events reported lost: {rep['events_lost_notice']}")
        check(rep["mmap"]["calls"] == maps and rep["mmap"]["munmap_calls"] == maps,
              f"{how}: the program mapped and unmapped {maps} times; the log says {rep['mmap']}")
        check(handlers > 0, f"{how}: no signal arrived while the program ran")


@case(120)
def case_term_workers():
    """Eight forked workers killed by SIGTERM while they allocate (mostly inside memtrace's
    hooks): every worker's log is complete and ends with signal 15, three runs in a row."""
    exe = prog("term_workers")
    for attempt in range(3):
        base = os.path.join(it.TMP, f"tw{attempt}")
        os.mkdir(base)
        p = memtrace("run", "-q", "-o", os.path.join(base, "t.%p.mtr"), "--", exe, timeout=120)
        check(p.returncode == 0, f"term_workers under memtrace\n{show(p)}")
        ends = []
        for log in sorted(os.listdir(base)):
            q = memtrace("report", "--format", "json", os.path.join(base, log))
            check(q.returncode == 0, f"report {log}\n{show(q)}")
            rep = json.loads(q.stdout)
            check(not rep["truncated"], f"run {attempt}: {log} is truncated: {rep['truncation']}")
            ends.append((rep["exit"]["reason"], rep["exit"]["status"]))
        check(sorted(ends) == [("normal", 0)] + [("signal", 15)] * 8,
              f"run {attempt}: the logs end with {sorted(ends)}")
    print("  3 runs of 8 workers: every log complete, each worker's ending with signal 15")


@case(120)
def case_signal_ends():
    """A program ended by a signal it does not handle, for every signal whose default action
    ends the process (SIGPIPE as in `find | head`, its own SIGALRM, SIGHUP, SIGXCPU, a
    real-time signal...): the same status as plain, and a complete log that ends with that
    signal and holds exactly the program's own calls (SIGPIPE's log held only its header)."""
    names = ["PIPE", "ALRM", "HUP", "QUIT", "USR1", "USR2", "XCPU", "VTALRM", "PROF", "IO",
             "PWR", "STKFLT", "TRAP", "SYS", "XFSZ", "RTMIN+0", "RTMIN+5"]
    for name in names:
        traced, rep = same_as_plain("signal_ends", name, timeout=30)
        check(traced.returncode < 0, f"SIG{name}: the run exited {traced.returncode}")
        check(rep["exit"]["reason"] == "signal" and rep["exit"]["status"] == -traced.returncode,
              f"SIG{name}: the log ends with {rep['exit']}, the run ended {traced.returncode}")
    print(f"  {len(names)} signals: each log complete, its calls exact, ending with its signal")


@case(60)
def case_exit_term():
    """Five children call _exit(7) with a SIGTERM timed 2 ms later, while memtrace writes the
    end of their logs: each must still exit 7, as it does plain (a pool's terminate() racing a
    worker's own exit turned the exit into a death by SIGTERM)."""
    same_as_plain("exit_term", timeout=60, counts=False)


@case(60)
def case_dlsym_malloc():
    """The malloc family through dlsym on libc's handle, and through RTLD_NEXT."""
    same_as_plain("dlsym_malloc", timeout=60)


@case(60)
def case_fd_takeover():
    """closefrom(3), dup2 of the program's file onto 3..19 and chdir("/") while memtrace's
    log is open: the log goes on (every event, exact counts) and the program's file holds
    only its own 17 bytes."""
    out = os.path.join(it.TMP, "fd_takeover.txt")
    same_as_plain("fd_takeover", out, timeout=60)
    with open(out, "rb") as f:
        data = f.read()
    check(data == b"x" * 17, f"the program's file holds {len(data)} bytes: {data[:40]!r}")


@case(60)
def case_fsize_limit():
    """RLIMIT_FSIZE of 4 KiB: memtrace's log write fails with EFBIG. The program must not
    die of SIGXFSZ nor change its output; memtrace says in one line that recording stopped,
    `memtrace run` exits 1 (the program's 0 would pass an incomplete run for a good one: it
    said 0 before) naming the log, and the report says the log is truncated, and why, instead
    of showing wrong totals."""
    traced, _ = same_as_plain("fsize_limit", timeout=60, counts=False, traced_status=1)
    check("recording stopped early in 1 process" in traced.stderr and
          "fsize_limit itself exited 0" in traced.stderr,
          f"memtrace run does not say the run is incomplete\n{show(traced)}")
    lines = [l for l in traced.stderr.splitlines() if "File too large" in l]
    check(len(lines) == 1 and "recording stopped" in lines[0],
          f"no one-line message about the failed write\n{show(traced)}")
    p = memtrace("report", "--format", "json", os.path.join(it.TMP, "fsize_limit-.mtr"))
    check(p.returncode == 1, f"report of a truncated log: exit {p.returncode}, not 1\n{show(p)}")
    rep = json.loads(p.stdout)
    check(rep["truncated"], "the report does not say the log is truncated")
    check("a write to the log failed" in p.stderr, f"the report does not say why\n{show(p)}")
    check(rep["allocations"] < 500000, f"{rep['allocations']} allocations in a 4 KiB log")


FULL_DISK_CHURN = r"""
#include <stdio.h>
#include <stdlib.h>
static void *slot[4096];
int main(void)
{
    unsigned long sum = 0, x = 1;
    for (int i = 0; i < 300000; i++) {
        x = x * 6364136223846793005ul + 1442695040888963407ul;
        unsigned k = (unsigned)(x >> 52); /* a random slot: the log cannot predict it */
        free(slot[k]);
        slot[k] = malloc(16 + (size_t)(x >> 33) % 4000);
        sum += slot[k] != NULL;
    }
    printf("%lu\n", sum);
    return 0;
}
"""


@case(60)
def case_full_disk():
    """The log's file system fills up (a 64 KiB tmpfs): the program runs on unharmed (same
    output), memtrace says recording stopped, the log's header says so (MT_LOG_FLAG_STOPPED),
    `memtrace run` exits 1 naming the log (it exited 0 before, the program's status), and the
    report says why the log ends early. On a file system full before the start: no empty log
    is left, and `memtrace run` says the disk is why there is no log. Root only (a mount)."""
    if os.geteuid() != 0:
        raise Skip("needs root to mount a small tmpfs")
    exe = it.build_c("full_disk_churn", FULL_DISK_CHURN)
    mnt = os.path.join(it.TMP, "full")
    os.makedirs(mnt)
    m = run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt])
    if m.returncode != 0:
        raise Skip(f"cannot mount a tmpfs: {m.stderr.strip()}")
    try:
        plain = run([exe])
        log = os.path.join(mnt, "x.mtr")
        traced = memtrace("run", "-q", "-o", log, "--", exe)
        check(traced.returncode == 1 and traced.stdout == plain.stdout == "300000\n",
              f"full disk: exit {traced.returncode}\n{show(traced)}")
        check("No space left on device; recording stopped" in traced.stderr and
              f"recording stopped early in 1 process (a write to the log failed)" in traced.stderr,
              f"full disk: messages\n{show(traced)}")
        p = memtrace("report", log)
        check(p.returncode == 1 and "recording stopped: a write to the log failed" in p.stderr,
              f"report of the stopped log\n{show(p)}")
        # already full: the header's block is refused
        second = os.path.join(mnt, "y.mtr")
        traced = memtrace("run", "-q", "-o", second, "--", exe)
        check(traced.returncode == 1 and traced.stdout == "300000\n" and
              not os.path.exists(second) and "no space left on the file system of" in traced.stderr,
              f"a full disk from the start\n{show(traced)}")
    finally:
        run(["umount", "-l", mnt])


@case(60)
def case_stderr_takeover():
    """The program closes its standard error and a data file of its own takes descriptor 2;
    memtrace's message (its log write fails under RLIMIT_FSIZE) must reach the standard error
    memtrace run was given, not the program's file, which holds the program's lines only."""
    data = os.path.join(it.TMP, "stderr_takeover.data")
    traced, _ = same_as_plain("stderr_takeover", data, timeout=60, counts=False,
                              traced_status=1)
    with open(data) as f:
        got = f.read()
    check(got == "program data 1\nprogram data 2\n",
          f"the program's data file holds other writes than its own:\n{got}")
    lines = [l for l in traced.stderr.splitlines() if "File too large" in l]
    check(len(lines) == 1 and "recording stopped" in lines[0],
          f"memtrace's message did not reach its standard error\n{show(traced)}")


@case(60)
def case_raw_exec():
    """exec by the system call (syscall(SYS_execve), syscall(SYS_execveat), glibc's execveat):
    a failed one first, then the image is replaced. The first image's log must end with its
    exec and hold exactly what it allocated (all of it was lost before, its log left without
    an end); the next image is recorded to its own log."""
    for how in ("syscall-execve", "syscall-execveat", "execveat"):
        traced, rep = same_as_plain("raw_exec", how, timeout=60)
        check(rep["exit"]["reason"] == "exec" and rep.get("next_log"),
              f"{how}: the first image's log ends with {rep['exit']}, next {rep.get('next_log')}")
        nxt = json_of("report", "--format", "json", rep["next_log"])
        check(nxt["exit"] == {"reason": "normal", "status": 4} and not nxt["truncated"],
              f"{how}: the new image's log: exit {nxt['exit']}")


@case(60)
def case_underscore_fork():
    """glibc's _Fork runs no atfork handlers: the child must still get a log of its own (it
    wrote into its parent's before, which then ended truncated), each log whole and exact."""
    traced, rep = same_as_plain("underscore_fork", timeout=60)
    check(rep["exit"] == {"reason": "normal", "status": 0},
          f"the parent's log ends with {rep['exit']}")
    want = tuple(int(x) for x in re.search(r"child: mallocs=(\d+) frees=(\d+) leaked=(\d+)",
                                           traced.stdout).groups())
    kids = []
    for log in logs_of(os.path.join(it.TMP, "underscore_fork-.mtr")):
        got, r = own_totals(log, prog("underscore_fork"))
        if r["origin"]["how"] == "fork":
            kids.append((got, r["exit"], r["unknown_frees"]))
    check(kids == [(want, {"reason": "normal", "status": 3}, 0)],
          f"the child's log: {kids}; it counted {want}")


@case(60)
def case_own_libdeflate():
    """A program using libdeflate itself, with its own counting allocator: same output, and its
    compressors are all in its log, exactly as it counted them, none of memtrace's (whose
    writer makes its own libdeflate compressor in memtrace's memory: io/deflater.c)."""
    same_as_plain("own_libdeflate", timeout=60)


@case(120)
def case_bad_free():
    """Frees glibc refuses (double, inside a block, stack, a page never allocated, a small
    integer, realloc of a stack address): the same end under memtrace as plain, glibc's own
    message and status or the same fault, whatever the recorder reads of the block first."""
    for mode in range(7):
        plain = run([prog("bad_free"), str(mode)], timeout=30)
        check(plain.returncode != 0 and "went on" not in plain.stdout,
              f"mode {mode}: glibc let the program go on\n{show(plain)}")
        traced, _ = same_as_plain("bad_free", str(mode), timeout=60, counts=False)
        want = [l for l in plain.stderr.splitlines() if l.strip()]
        got = [l for l in traced.stderr.splitlines() if l.strip() and "memtrace" not in l]
        check(got == want, f"mode {mode}: glibc's message differs\n--- plain ---\n"
              f"{plain.stderr}\n--- memtrace ---\n{traced.stderr}")


@case(120)
def case_fork_threads():
    """50 forks while four threads allocate: no child deadlocks on a lock another thread held
    at the fork, and every child's log holds exactly its 2 allocations, 1 free and exit 7."""
    same_as_plain("fork_threads", "50", timeout=120, counts=False)
    logs = [l for l in logs_of(os.path.join(it.TMP, "fork_threads-50.mtr"))]
    children = []
    for log in logs:
        p = memtrace("report", "--format", "json", log)
        check(p.returncode == 0, f"report {log}\n{show(p)}")
        rep = json.loads(p.stdout)
        if rep["origin"]["how"] == "fork":
            children.append(rep)
            got = (rep["allocations"], rep["frees"], rep["unknown_frees"], rep["exit"]["status"])
            check(got == (2, 1, 0, 7), f"{log}: allocations, frees, unknown frees, exit = {got}")
    check(len(children) == 50, f"{len(children)} child logs, not 50")


def seccomp_child(how):
    """The child sandboxes itself with a seccomp filter that kills it on any system call but
    malloc's, write's and exit's: it must exit 0 as it does plain, and its log must be
    complete, with its 100,000 allocations and frees exactly, and say why no leak check ran.
    Before memtrace answered getpid and gettid from a cache, the child died of SIGSYS."""
    traced, _ = same_as_plain("seccomp_child", how, timeout=60, counts=False)
    check("child exit 0" in traced.stdout, f"the child did not exit 0: {traced.stdout!r}")
    logs = logs_of(os.path.join(it.TMP, f"seccomp_child-{how}.mtr"))
    check(len(logs) == 2, f"logs: {logs}")
    own, rep = own_totals(logs[1], prog("seccomp_child"))
    got = (rep["origin"]["how"], own, rep["unknown_frees"], rep["exit"]["reason"],
           rep["exit"]["status"])
    check(got == ("fork", (100000, 100000, 0), 0, "normal", 0),
          f"the child's log: origin, its own (allocations, frees, leaked), unknown frees, "
          f"exit = {got}")
    print(f"  seccomp_child {how}: the sandboxed child exits 0, 100,000 allocations and frees")
    return logs[1]


@case(60)
def case_seccomp_child():
    """A child that confines itself with prctl(PR_SET_SECCOMP), as sshd's does."""
    seccomp_child("prctl")


@case(60)
def case_seccomp_child_thread():
    """A thread started inside the sandbox makes half of the allocations: its tid comes from
    glibc (no gettid), and it goes without the crash handler's alternate stack."""
    seccomp_child("thread")


@case(60)
def case_seccomp_child_syscall():
    """The same through the seccomp system call (libseccomp's way)."""
    seccomp_child("syscall")


@case(60)
def case_ctypes_malloc():
    """ctypes.CDLL("libc.so.6").malloc from a Python script: its blocks are in the log, at
    the script's line."""
    py = "/usr/bin/python3"
    if not os.access(py, os.X_OK):
        raise Skip("no /usr/bin/python3")
    script = it.write("ct.py", "import ctypes\n"
                      "libc = ctypes.CDLL('libc.so.6')\n"
                      "libc.malloc.restype = ctypes.c_void_p\n"
                      "KEEP = [libc.malloc(777001) for _ in range(3)]\n"
                      "print('kept', len(KEEP))\n")
    log = os.path.join(it.TMP, "ct.mtr")
    p = memtrace("run", "-q", "-o", log, "--", py, script, timeout=60)
    check(p.returncode == 0 and p.stdout == "kept 3\n", f"ctypes script\n{show(p)}")
    q = memtrace("report", "--format", "json", "--top", "1000000", "--frames", "64", log)
    check(q.returncode == 0, f"report\n{show(q)}")
    rep = json.loads(q.stdout)
    sites = [s for s in rep["top_sites"] if s["bytes"] == 3 * 777001 and s["allocations"] == 3]
    check(sites, "no site of 3 blocks of 777,001 bytes: ctypes' malloc went unseen")
    lines = [(fr.get("file") or "", fr.get("line")) for fr in sites[0].get("stack") or []]
    check((script, 4) in lines, f"the site's stack does not reach the script's line 4: {lines}")


@case(120)
def case_exec_busy():
    """Item 9 under load: 50 failing execs while two threads allocate without pause; every
    event of every thread in the log, exactly."""
    same_as_plain("exec_busy", timeout=120)


@case(180)
def case_ends():
    """Item 10 and every way a process can end: status, stdout, counts and the exit record."""
    want_exit = {"return": ("normal", 2), "exit": ("normal", 3), "_exit": ("normal", 4),
                 "_Exit": ("normal", 5), "quick_exit": ("normal", 6),
                 "abort": ("signal", 6), "exit_group": ("normal", 7),
                 "signal": ("signal", 15), "pthread_exit": ("normal", 0),
                 "thread_exit": ("normal", 8)}
    for how, (reason, status) in want_exit.items():
        _, rep = same_as_plain("ends", how, timeout=30)
        got = (rep["exit"]["reason"], rep["exit"]["status"])
        check(got == (reason, status), f"ends {how}: the log says exit {got}, "
              f"expected {(reason, status)}")
        # after main's pthread_exit, /proc/self/statm (the zombie leader's) said 0
        check(how != "pthread_exit" or rep["peak_rss_bytes"] > 0,
              f"ends {how}: peak RSS {rep['peak_rss_bytes']}")


@case(60)
def case_daemonize():
    """daemon(3), whose parent leaves by libc's internal _exit: the parent's log ends complete
    (its own calls exactly, the fork, exit 0) and the daemon's log, whose parent is gone when
    it starts, knows the 10 blocks it inherited and frees, with no unknown free. Also daemon without noclose, which depends on
    what /dev/null is here, must do what it does without memtrace."""
    same_as_plain("daemonize")
    _, rep = same_as_plain("daemonize", "noclose")
    check(rep["exit"]["reason"] == "normal" and rep["exit"]["status"] == 0 and rep["forks"] == 1,
          f"the parent's log: exit {rep['exit']}, {rep['forks']} forks")
    base = os.path.join(it.TMP, "daemonize-noclose.mtr")
    logs = logs_of(base)
    check(len(logs) == 2, f"logs of the noclose run: {logs}")
    p = memtrace("report", "--format", "json", logs[1])
    check(p.returncode == 0, f"memtrace report {logs[1]}\n{show(p)}")
    child = json.loads(p.stdout)
    inh = child.get("inherited") or {}
    # the 10 blocks and stdout's buffer; the daemon frees the 10 (1,045 bytes)
    check(inh.get("known") and inh.get("blocks", 0) >= 10 and inh.get("freed_blocks") == 10 and
          inh.get("freed_bytes") == 1045 and child["unknown_frees"] == 0,
          f"the daemon's log: inherited {inh}, {child['unknown_frees']} unknown frees")


@case(60)
def case_userns():
    """unshare(CLONE_NEWUSER) and setns into a user namespace, which the kernel refuses to a
    process with more than one thread: under memtrace (whose writer is a thread) they must
    work as they do plain, and the events after them are recorded exactly."""
    for how in ("unshare", "setns"):
        plain = run([prog("userns"), how])
        if plain.returncode != 0:
            raise Skip(f"user namespaces are not allowed here: {plain.stdout.strip()}")
        same_as_plain("userns", how)


@case(60)
def case_as_limit():
    """The program uses up its address space (RLIMIT_AS) and goes on allocating at a new
    site: memtrace must still write a whole log with exactly the program's counts. Before
    zstd's workspace was mapped at start, the first chunk could not be compressed and the
    log ended with no events ("recording stopped")."""
    traced, _ = same_as_plain("as_limit", counts_from="traced")
    check("recording stopped" not in traced.stderr, f"memtrace stopped recording\n{show(traced)}")


@case(120)
def case_as_room():
    """A program started under an address space limit (`prlimit --as`, as `ulimit -v` sets
    it) keeps nearly all of it under memtrace: thread slots, writer buffers and the writer's
    stack are mapped as needed (at start they took 117 MiB, leaving a program with 160 MiB of
    room 26). With too little room for memtrace, the program runs unrecorded with all of its
    room (what start-up had mapped is given back), and `memtrace run` says why and fails."""
    exe = prog("as_room")
    if not shutil.which("prlimit"):
        raise Skip("prlimit (util-linux) is not installed")
    vm = int(run([exe, "size"]).stdout)
    room = vm + (160 << 20)
    plain = run(["prlimit", f"--as={room}", exe, "fill"])
    log = os.path.join(it.TMP, "as_room.mtr")
    traced = run(["prlimit", f"--as={room}", it.ARGS.memtrace, "run", "-q", "-o", log, "--",
                  exe, "fill"])
    check(plain.returncode == 0 and traced.returncode == 0 and traced.stdout == plain.stdout,
          f"plain:\n{show(plain)}\nunder memtrace:\n{show(traced)}")
    got = {}
    for name, p in (("plain", plain), ("traced", traced)):
        m = re.search(r"room: (\d+) MiB", p.stderr)
        check(m, f"{name}: no room figure\n{show(p)}")
        got[name] = int(m.group(1))
    check(got["traced"] >= got["plain"] - 40,
          f"memtrace took {got['plain'] - got['traced']} MiB of the program's 160: {got}")
    rep = json_of("report", "--format", "json", "--top", "1000", log)
    check(not rep["truncated"], f"{log} is truncated")
    calls = it.own_calls(rep, exe)
    check(calls[:3] == (got["traced"], got["traced"], 0),
          f"the log says (allocations, frees, leaked) {calls[:3]}; the program took and "
          f"freed {got['traced']} blocks")
    print(f"  room of 160 MiB: {got['plain']} plain, {got['traced']} under memtrace")

    tight = vm + (20 << 20)
    plain = run(["prlimit", f"--as={tight}", exe, "need", "12"])
    check(plain.returncode == 0, f"plain, 12 MiB in 20:\n{show(plain)}")
    traced = run(["prlimit", f"--as={tight}", it.ARGS.memtrace, "run", "-q", "-o",
                  os.path.join(it.TMP, "tight.mtr"), "--", exe, "need", "12"])
    check(traced.stdout == plain.stdout,
          f"the program lost room to a recorder that did not start:\n{show(traced)}")
    check(traced.returncode != 0 and "out of memory at start" in traced.stderr
          and "ulimit -v" in traced.stderr, f"memtrace should say why there is no log\n"
          f"{show(traced)}")


@case(60)
def case_resethand():
    """A crash handler with SA_RESETHAND that raises its signal again (crash reporters), and
    sysv_signal's handler hit twice: the process ends by the signal, as plain, and its log is
    whole, with exact counts, ending with that signal (it had 0 events: the kernel's reset to
    SIG_DFL bypassed memtrace's handler); the handler sees SIG_DFL installed again."""
    for how, sig in (("segv", 11), ("usr1", 10)):
        traced, rep = same_as_plain("resethand", how, timeout=30)
        check("the action is SIG_DFL" in traced.stdout, f"{how}: the handler's view\n{show(traced)}")
        check(rep["exit"] == {"reason": "signal", "status": sig},
              f"{how}: the log ends with {rep['exit']}")


@case(60)
def case_fd_room():
    """The log's descriptor is out of the program's way: the program's first file is 3, under
    a limit of 8 it opens 4 more, a child forked with every descriptor in use gets a log with
    its exact counts, and a dlopen after closing one file works. (The sampler, whose brief
    /proc reads could take a descriptor at the limit, is off: MEMTRACE_SAMPLE_MS=0.)"""
    env = dict(os.environ, MEMTRACE_SAMPLE_MS="0")
    traced, _ = same_as_plain("fd_room", env=env, counts_from="plain")
    check("first fd 3" in traced.stdout and "dlopen ok" in traced.stdout,
          f"unexpected output\n{show(traced)}")


@case(60)
def case_alt_stack():
    """Handlers SA_ONSTACK in a thread with no alternate stack of its own run on the stack
    they interrupted, as plain (a 256 KiB frame and a nested signal; memtrace's own 64 KiB
    alternate stack made the program hang); sigaltstack shows the program only its own
    stacks; a fault caught by siglongjmp twice."""
    same_as_plain("alt_stack", timeout=60)


@case(120)
def case_foreign_malloc():
    """A threaded program linked with jemalloc, and one with tcmalloc: their blocks have no
    glibc header, and a large one starts a mapping. memtrace read the header word before
    every freed block, so under jemalloc the program died of SIGSEGV."""
    ran = 0
    for lib in ("jemalloc", "tcmalloc_minimal"):
        if os.path.exists(prog(f"foreign_malloc_{lib}")):
            same_as_plain(f"foreign_malloc_{lib}", timeout=120)
            ran += 1
    if not ran:
        raise Skip("neither jemalloc nor tcmalloc is installed (libjemalloc-dev, "
                   "libgoogle-perftools-dev)")


@case(120)
def case_dlopen_cycle():
    """3,000 rounds of dlopen, an allocation in the library, dlclose, with the writer's tick
    every millisecond (MEMTRACE_SAMPLE_MS=1): each of the 3,000 kept blocks must be charged
    to the library's function. A tick between the dlopen hook and the loader's listing of
    the module ended the recorder's watch for it, and some blocks came out as bare addresses
    (a few dozen of 3,000 at this tick)."""
    cycles = 3000
    lib = it.built("tests", "hostile", "libdlopen_cycle_lib.so")
    env = dict(os.environ, MEMTRACE_SAMPLE_MS="1")
    traced, _ = same_as_plain("dlopen_cycle", lib, str(cycles), env=env, counts=False)
    log = logs_of(os.path.join(it.TMP, "dlopen_cycle-" +
                               re.sub(r"[^A-Za-z0-9_]+", "_", f"{lib}-{cycles}")[:40] + ".mtr"))
    p = memtrace("report", "--format", "json", "--top", "1000", log[0])
    check(p.returncode == 0, f"memtrace report\n{show(p)}")
    rep = json.loads(p.stdout)
    named = sum(s["leaked_blocks"] for s in rep["top_sites"]
                if (s.get("stack") or [{}])[0].get("function") == "dlopen_cycle_alloc")
    bare = [s["stack"][0] for s in rep["top_sites"] if s["leaked_bytes"] and
            not (s.get("stack") or [{}])[0].get("function")]
    check(named == cycles, f"{named} of the {cycles} blocks charged to dlopen_cycle_alloc; "
          f"sites without a function: {bare[:3]}")


def shell_as_plain(script, name):
    """Runs `sh -c script` plain and under `memtrace run -q -o TMP/name.mtr`: both must exit 0
    with the same output. Returns the traced run and the log's path."""
    plain = run(["/bin/sh", "-c", script])
    log = os.path.join(it.TMP, f"{name}.mtr")
    traced = memtrace("run", "-q", "-o", log, "--", "/bin/sh", "-c", script)
    check(traced.returncode == plain.returncode == 0 and traced.stdout == plain.stdout,
          f"status or output differs\n{show(traced)}")
    return traced, log


@case(60)
def case_exec_untraced():
    """A shell runs a command with LD_PRELOAD set anew and another with env -i: neither is
    recorded (their environment leaves memtrace out), and memtrace says so in one line each
    instead of saying nothing; the output and status are the shell's."""
    traced, _ = shell_as_plain("LD_PRELOAD= /bin/echo one; env -i /bin/echo two; echo done",
                               "exec_untraced")
    said = [l for l in traced.stderr.splitlines() if "it is not recorded" in l]
    check(len(said) == 2 and "/bin/echo" in said[0] and "/bin/echo" in said[1],
          f"want one line for each unrecorded echo\n{show(traced)}")


@case(60)
def case_raw_exit():
    """The program ends with its own exit_group instruction, as Go programs do: status and
    output unchanged, and `memtrace run` says the log has no exit because of how the program
    ended, not that it was killed."""
    exe = prog("raw_exit")
    plain = run([exe])
    log = os.path.join(it.TMP, "raw_exit.mtr")
    traced = memtrace("run", "-o", log, "--", exe)
    check(traced.returncode == plain.returncode == 0 and traced.stdout == plain.stdout,
          f"status or output differs\n{show(traced)}")
    check("raw exit_group" in traced.stderr and "killed" not in traced.stderr,
          f"the summary does not say how the log lost its end\n{show(traced)}")


@case(120)
def case_argmax_exec():
    """exec with arguments found (by the raw system call) to be the largest the kernel takes:
    plain it runs; under memtrace it must too, although the exec hook adds a variable to the
    environment (before, "Argument list too long"). The new image is still recorded."""
    junk = os.path.join(it.TMP, "argmax.junk")
    true = os.path.join(it.TMP, "argmax.true")
    with open(junk, "wb") as f:
        f.write(bytes(64))
    with open("/bin/true", "rb") as src, open(true, "wb") as dst:
        dst.write(src.read())
    os.chmod(junk, 0o755)
    os.chmod(true, 0o755)
    traced, _ = same_as_plain("argmax_exec", junk, true, counts=False)
    check("execve says Exec format error" in traced.stdout,
          f"the probe's exec at the edge was not refused for its format\n{show(traced)}")
    logs = logs_of(os.path.join(it.TMP, "argmax_exec-" + re.sub(
        r"[^A-Za-z0-9_]+", "_", "-".join([junk, true]))[:40] + ".mtr"))
    check(len(logs) == 2, f"want the program's log and the new image's, got {logs}")


@case(60)
def case_umask_logs():
    """A shell that sets `umask 0777` before it runs a command: the command's log must still
    be readable by the user (mode 0600, as every log is), not created with no permissions."""
    _, log = shell_as_plain("umask 0777; /bin/echo hi", "umask")
    modes = {l: oct(os.stat(l).st_mode & 0o777) for l in logs_of(log)}
    check(len(modes) == 2 and set(modes.values()) == {"0o600"},
          f"want the shell's log and echo's, both 0600: {modes}")


def thread_quota(how):
    if os.geteuid() != 0:
        raise Skip("changing user needs root")
    traced, _ = same_as_plain("thread_quota", how)
    check("writer thread gives way" in traced.stderr,
          f"memtrace did not say it gave up its writer thread\n{show(traced)}")


@case(60)
def case_thread_quota():
    """A program whose RLIMIT_NPROC leaves room for one thread besides main starts one (and,
    after joining it, another): memtrace's writer thread gives way instead of taking the
    room (before: "Resource temporarily unavailable"), and every allocation is recorded."""
    thread_quota("thread")


@case(60)
def case_thread_quota_fork():
    """The same with a forked child (fork's EAGAIN)."""
    thread_quota("fork")


@case(60)
def case_thread_quota_spawn():
    """The same with posix_spawn of /bin/true."""
    thread_quota("spawn")

@case(60)
def case_spawn_sanitized():
    """A runner starts a program built with gcc's -fsanitize=address by posix_spawn,
    posix_spawnp, fork + exec and vfork + exec: with memtrace's library ahead of libasan, ASan
    aborted it at start (exit 1 each); memtrace now runs it without itself, says so once per
    start, and the runner's own log is whole."""
    child = prog("sanitized_child")
    if not os.path.exists(child):
        raise Skip("no gcc AddressSanitizer build of sanitized_child")
    traced, _ = same_as_plain("spawn_sanitized", os.path.dirname(child), counts=False)
    said = [l for l in traced.stderr.splitlines() if "is built with AddressSanitizer" in l]
    check(len(said) == 4, f"want one line for each of the 4 starts\n{show(traced)}")


@case(60)
def case_libc_names():
    """glibc's own names for its allocator (__libc_malloc and the rest), which memcheck counts:
    memtrace saw none of them, so a block freed by __libc_free stayed a leak and the blocks
    they allocated were missing. Exact counts."""
    same_as_plain("libc_names")


@case(60)
def case_libc_names_shim():
    """A malloc wrapper preloaded before memtrace's library that forwards to __libc_malloc
    and __libc_free: every call went past memtrace (0 allocations); now each is recorded
    once, and with the wrapper after memtrace's library, once too (not twice, no loop)."""
    exe = prog("libc_names")
    shim = it.built("tests", "hostile", "liblibc_names_shim.so")
    lib = it.built("preload", "libmemtrace_preload.so")
    plain = run([exe, "standard"])
    want = tuple(int(x) for x in COUNTS.findall(plain.stdout)[-1])
    for order in ((shim, lib), (lib, shim)):
        log = os.path.join(it.TMP, f"libc_names_shim_{os.path.basename(order[0])}.mtr")
        traced = memtrace("run", "-q", "-o", log, "--", "env", "LD_PRELOAD=" + ":".join(order),
                          exe, "standard", timeout=30)
        check(traced.returncode == 0 and traced.stdout == plain.stdout,
              f"status or output differs\n{show(traced)}")
        p = memtrace("report", "--format", "json", logs_of(log)[-1])
        check(p.returncode == 0, f"memtrace report\n{show(p)}")
        t = json.loads(p.stdout)
        got = (t["allocations"], t["frees"], t["leaked_bytes"])
        check(got == want, f"LD_PRELOAD={':'.join(order)}: the program counted {want}, "
              f"the log says {got}")


@case(60)
def case_old_zstd():
    """A program run with its own libzstd.so.1, older than 1.4.0, on LD_LIBRARY_PATH: that one
    is memtrace's too, and the log writer's first call into it killed the program (symbol
    lookup error, exit 127). Now the log's chunks are deflate, every event is there, and the
    child's log too."""
    lib = os.path.dirname(it.built("tests", "hostile", "zstd_1_3", "libzstd.so.1"))
    env = dict(os.environ, LD_LIBRARY_PATH=lib)
    same_as_plain("old_zstd", env=env)
    logs = logs_of(os.path.join(it.TMP, "old_zstd-.mtr"))
    check(len(logs) == 2, f"want the program's log and its child's: {logs}")
    got, rep = own_totals(logs[1], prog("old_zstd"))
    check(got == (50000, 49950, 40 * 50 + sum(range(0, 50000, 1000))) and
          rep["exit"] == {"reason": "normal", "status": 3},
          f"the child's log: {got}, exit {rep['exit']}")


@case(60)
def case_chroot_exit():
    """chroot into an empty directory, as a daemon confines itself, then main leaves by
    pthread_exit while a worker allocates: the process must end when the worker does, as
    plain. Without /proc memtrace's writer thread could not see that it was the last thread
    left, and the process never ended ("still running after 30 s")."""
    root = os.path.join(it.TMP, "empty_root")
    plain = run([prog("chroot_exit"), root], timeout=30)
    if plain.stdout.startswith("skip"):
        raise Skip(plain.stdout.strip())
    _, rep = same_as_plain("chroot_exit", root, timeout=30)
    check(rep["exit"] == {"reason": "normal", "status": 0}, f"the log: exit {rep['exit']}")


WORKER = re.compile(r"hostile: worker (\d+) mallocs=(\d+) frees=(\d+) leaked=(\d+)")


def workers_exact(name, traced, base, want_logs, parent_whole=True):
    """The run's logs under base: want_logs of them, none truncated, the first (the parent's)
    ending normally, and each worker's log holding exactly the counts the worker printed.
    parent_whole False: the parent's log is not read (it ends early, as the case says)."""
    logs = logs_of(base)
    check(len(logs) == want_logs, f"{name}: logs {[os.path.basename(l) for l in logs]}, want "
          f"{want_logs}\n{show(traced)}")
    workers = {tuple(int(x) for x in m[1:]) for m in WORKER.findall(traced.stdout)}
    got = set()
    for log in logs if parent_whole else logs[1:]:
        own, rep = own_totals(log, prog(name))
        check(rep["exit"]["reason"] in ("normal", "exec"), f"{log}: exit {rep['exit']}")
        got.add(own)
    check(workers <= got, f"{name}: the workers counted {sorted(workers)}; logs say {sorted(got)}")


def priv_drop(how):
    if os.geteuid() != 0:
        raise Skip("changing user needs root")
    import tempfile
    # the workers run as nobody: their logs go where nobody may write, as /tmp
    logs = tempfile.mkdtemp(prefix="memtrace-priv.", dir="/tmp")
    try:
        os.chmod(logs, 0o1777)
        exe = prog("priv_drop")
        plain = run([exe, how])
        base = os.path.join(logs, "p.mtr")
        traced = memtrace("run", "-q", "-o", base, "--", exe, how)
        check(traced.returncode == plain.returncode == 0 and traced.stdout == plain.stdout,
              f"status or output differs\n{show(traced)}")
        if how == "after":
            # the log stays root's: the daemon, nobody by then, cannot open it again
            check("closed the log's descriptor and" in traced.stderr and
                  "cannot be opened again: Permission denied; recording stopped" in traced.stderr,
                  f"no line saying why the daemon's log stops\n{show(traced)}")
            check(os.stat(logs_of(base)[0]).st_uid == 0, "the daemon's log changed owner")
        else:
            check("recording stopped" not in traced.stderr, f"recording stopped\n{show(traced)}")
            want = tuple(int(x) for x in COUNTS.findall(plain.stdout)[-1])
            own, rep = own_totals(logs_of(base)[0], exe)
            check(own == want and rep["exit"] == {"reason": "normal", "status": 0},
                  f"the daemon's log: {own}, exit {rep['exit']}; it counted {want}")
        workers_exact("priv_drop", traced, base, 3, parent_whole=how != "after")
        print(f"  priv_drop {how}: the workers' logs exact")
    finally:
        shutil.rmtree(logs, ignore_errors=True)


@case(60)
def case_priv_drop_before():
    """A daemon started as root closes every descriptor (memtrace's log's too), becomes nobody
    and forks two workers: its log could not be opened again as nobody (root's, mode 0600),
    and the whole log was lost ("write ... failed: Bad file descriptor"). Now the log is
    opened again before the change of user, and every event is there."""
    priv_drop("before")


@case(60)
def case_priv_drop_after():
    """The same daemon closes its descriptors after becoming nobody: its log stays root's
    (handing it to nobody would show that user the daemon's addresses), so the rest of it is
    lost, with one line that says why; the workers' logs are whole."""
    priv_drop("after")


@case(60)
def case_chroot_children():
    """chroot into a directory that holds a program and its libraries but not the log's
    directory, then fork two workers and run the program: the workers had no log ("cannot
    create ...: No such file or directory") and the loader printed "ERROR: ld.so: object ...
    cannot be preloaded" on the program's stderr. Now the workers' logs are created in the
    log directory kept from before the chroot, exactly, and the program runs without memtrace
    with one line from memtrace saying why."""
    root = os.path.join(it.TMP, "small_root")
    for lib in ("/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/bin/true"):
        if not os.path.exists(lib):
            raise Skip(f"no {lib}")
    os.makedirs(os.path.join(root, "lib", "x86_64-linux-gnu"), exist_ok=True)
    os.makedirs(os.path.join(root, "lib64"), exist_ok=True)
    shutil.copy("/lib/x86_64-linux-gnu/libc.so.6", os.path.join(root, "lib", "x86_64-linux-gnu"))
    shutil.copy("/lib64/ld-linux-x86-64.so.2", os.path.join(root, "lib64"))
    shutil.copy("/bin/true", os.path.join(root, "true"))
    plain = run([prog("chroot_children"), root])
    if plain.stdout.startswith("skip"):
        raise Skip(plain.stdout.strip())
    traced, _ = same_as_plain("chroot_children", root)
    check("true exits 0" in traced.stdout, f"the program in the root failed\n{show(traced)}")
    check("ld.so" not in traced.stderr and "cannot create" not in traced.stderr,
          f"the loader or memtrace complained\n{show(traced)}")
    said = [l for l in traced.stderr.splitlines() if "it runs without memtrace" in l]
    check(len(said) == 1 and "/true" in said[0], f"want one line about /true\n{show(traced)}")
    tag = re.sub(r"[^A-Za-z0-9_]+", "_", root)[:40]
    # the daemon, two workers, and the child that ran /true (its log ends with the exec)
    workers_exact("chroot_children", traced, os.path.join(it.TMP, f"chroot_children-{tag}.mtr"),
                  4)


@case(60)
def case_pivot_root():
    """pivot_root into a new root in a mount namespace of its own, the old root detached, as
    container runtimes do, then a forked worker: the worker got no log ("cannot create") and
    the RSS was never sampled (peak RSS 0), as after a chroot before memtrace kept the log's
    directory and /proc; now both are kept at the system call too."""
    root = os.path.join(it.TMP, "new_root")
    os.makedirs(root, exist_ok=True)
    plain = run([prog("pivot_root"), root])
    if plain.stdout.startswith("skip"):
        raise Skip(plain.stdout.strip())
    traced, rep = same_as_plain("pivot_root", root)
    check("cannot create" not in traced.stderr, f"memtrace complained\n{show(traced)}")
    check(rep["peak_rss_bytes"] > 0, "no RSS sampled after the pivot_root")
    tag = re.sub(r"[^A-Za-z0-9_]+", "_", root)[:40]
    workers_exact("pivot_root", traced, os.path.join(it.TMP, f"pivot_root-{tag}.mtr"), 2)


if __name__ == "__main__":
    sys.exit(it.main())
