# SPDX-License-Identifier: MIT
# `memtrace run --live`: the full-screen view, read through a pseudo terminal. A sample holds
# known amounts from one function in steps that the test releases (files it creates), so no
# figure depends on timing: the test waits, generously, for each figure to appear.
import os
import pty
import re
import select
import signal
import subprocess
import termios
import time

import mt_harness as it
from mt_harness import check, show, memtrace

case = it.suite("integration", "live")

# Holds 10 MiB in ten 1 MiB blocks, then 20 MiB, from live_hold (one stack), on a thread named
# "stepper"; each step waits for a file the test creates. Its output and exit status are known.
LIVE_SAMPLE = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *kept[64];
static int nkept;

__attribute__((noinline)) static void live_hold(int mib)
{
    for (int i = 0; i < mib; i++) {
        kept[nkept] = malloc(1 << 20);
        memset(kept[nkept], 1, 1 << 20);
        nkept++;
    }
}

static void wait_for(const char *file)
{
    for (int i = 0; i < 120 * 100 && access(file, F_OK) != 0; i++)
        usleep(10 * 1000);
}

int main(void)
{
    pthread_setname_np(pthread_self(), "stepper");
    printf("step 1\n");
    fflush(stdout);
    live_hold(10);
    wait_for("step2");
    live_hold(10);
    printf("step 2\n");
    fflush(stdout);
    wait_for("finish");
    for (int i = 0; i < nkept; i++)
        free(kept[i]);
    printf("done\n");
    return 7;
}
"""

ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


class Screen:
    """What memtrace writes to the terminal, read from the pty's master side."""

    def __init__(self, fd):
        self.fd = fd
        self.raw = b""

    def pump(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: every slave side is closed
            return False
        self.raw += data
        return bool(data)

    def text(self, since=0):
        return ESCAPES.sub(b"", self.raw[since:]).decode("utf-8", "replace")

    def wait_line(self, pred, what, since=0, timeout=60):
        """The first screen line (escapes stripped) for which pred is true."""
        end = time.monotonic() + timeout
        while True:
            for line in re.split(r"\r\n|\n|\r", self.text(since)):
                if pred(line):
                    return line
            if time.monotonic() > end:
                raise it.Fail(f"no screen line with {what} after {timeout} s; screen:\n"
                              f"{self.text(since)[-3000:]}")
            self.pump(0.2)


def wait_file(path, timeout=60):
    end = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < end:
        time.sleep(0.05)


@case(180)
def case_live_view():
    exe = it.build_c("live_steps", LIVE_SAMPLE, "-g", "-O0", "-pthread")
    master, slave = pty.openpty()
    # a terminal of known size, in cooked mode with echo: what a shell leaves
    import fcntl
    import struct
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    before = termios.tcgetattr(slave)
    log = os.path.join(it.TMP, "live.mtr")
    proc = subprocess.Popen([it.ARGS.memtrace, "run", "--live", "-o", log, "--", exe],
                            stdin=slave, stdout=slave, stderr=slave, cwd=it.TMP,
                            start_new_session=True,
                            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    scr = Screen(master)
    try:
        # the site's row: 10 MiB held in 10 blocks, then 20 MiB in 20
        row = scr.wait_line(lambda s: "live_hold" in s and s.split()[0:2] == ["10.0", "MiB"],
                            "live_hold holding 10.0 MiB")
        check(re.match(r"\s*10\.0 MiB\s+10\s+10\.0 MiB\s+10\s+live_hold\s+live_steps\.c:\d+",
                       row), f"the row of live_hold: {row!r}")
        mark = len(scr.raw)
        open(os.path.join(it.TMP, "step2"), "w").close()
        row = scr.wait_line(lambda s: "live_hold" in s and s.split()[0:2] == ["20.0", "MiB"],
                            "live_hold holding 20.0 MiB", since=mark)
        check(re.match(r"\s*20\.0 MiB\s+20\s+20\.0 MiB\s+20\s+live_hold\s+live_steps\.c:\d+",
                       row), f"the row of live_hold: {row!r}")
        scr.wait_line(lambda s: "heap 20.0 MiB" in s and "peak 20.0 MiB" in s, "heap and peak",
                      since=mark)
        # t: the one thread there is, by name; s: sorted by bytes allocated
        mark = len(scr.raw)
        os.write(master, b"t")
        scr.wait_line(lambda s: re.search(r"thread 1 of 1: stepper \(tid \d+\)", s),
                      "the thread named stepper", since=mark)
        scr.wait_line(lambda s: "live_hold" in s and s.split()[0:2] == ["20.0", "MiB"],
                      "live_hold in the thread's view", since=mark)
        mark = len(scr.raw)
        os.write(master, b"s")
        scr.wait_line(lambda s: s.startswith("sort: bytes allocated"), "the sort by allocated",
                      since=mark)
        # q: the view goes, the program goes on
        mark = len(scr.raw)
        os.write(master, b"q")
        scr.wait_line(lambda s: "live view closed" in s, "the view's closing line", since=mark)
        check(proc.poll() is None, "memtrace ended with the view")
        after_q = termios.tcgetattr(slave)
        check(after_q == before, f"terminal modes not restored after q:\n{before}\n{after_q}")
        check(b"\x1b[?1049l" in scr.raw[mark:], "the view did not leave the alternate screen")
        # the program's pid is not memtrace's: find its output file
        outs = [f for f in os.listdir(it.TMP) if f.startswith("memtrace.live_steps.")
                and f.endswith(".out")]
        check(len(outs) == 1, f"one output file for the program, not {outs}")
        out = os.path.join(it.TMP, outs[0])
        with open(out) as f:
            check(f.read() == "step 1\nstep 2\n", f"the program's output so far in {out}")
        open(os.path.join(it.TMP, "finish"), "w").close()
        status = proc.wait(timeout=60)
        while scr.pump(0.5):
            pass
        check(termios.tcgetattr(slave) == before, "terminal modes changed at the end")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    tail = scr.text(mark)
    check(status == 7, f"memtrace should exit with the program's 7, not {status}\n{tail}")
    with open(out) as f:
        check(f.read() == "step 1\nstep 2\ndone\n", f"the program's whole output in {out}")
    check("peak heap 20.0 MiB" in tail, f"the run summary after the view:\n{tail}")
    os.close(slave)


@case(60)
def case_live_needs_terminal():
    # standard output a pipe: one line, exit 2, and the program never starts
    flag = os.path.join(it.TMP, "ran")
    p = memtrace("run", "--live", "--", "/bin/sh", "-c", f"touch {flag}")
    check(p.returncode == 2, f"--live without a terminal should exit 2\n{show(p)}")
    check(p.stderr.count("\n") == 1 and "--live needs a terminal" in p.stderr,
          f"one line saying why\n{show(p)}")
    check(not os.path.exists(flag), "the program ran although --live refused")
    # the same for attach: refused before the process is touched
    sleeper = subprocess.Popen(["/bin/sleep", "60"])
    try:
        log = os.path.join(it.TMP, "attach-no-tty.mtr")
        p = memtrace("attach", "--live", "-o", log, str(sleeper.pid))
        check(p.returncode == 2, f"attach --live without a terminal should exit 2\n{show(p)}")
        check(p.stderr == "memtrace: attach: --live needs a terminal: standard output is not "
              "one (record without --live and read the log with 'memtrace report')\n",
              f"one line saying why\n{show(p)}")
        with open(f"/proc/{sleeper.pid}/maps") as f:
            check("libmemtrace_preload" not in f.read(), "the recorder was loaded all the same")
        check(not os.path.exists(log), "a log was written although --live refused")
    finally:
        sleeper.kill()
        sleeper.wait()


# A job-control shell in one line: it leads the session of the pty and runs memtrace as the
# foreground job in a process group of its own, which is what lets ^Z stop it (the kernel
# discards stop signals in an orphaned process group). It writes memtrace's pid to argv[1].
JOB_SHELL = r'''
import fcntl, os, signal, sys, termios
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.tcsetpgrp(0, os.getpgrp())
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.execv(sys.argv[2], sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(str(pid))
st = os.waitpid(pid, 0)[1]
sys.exit(128 + os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st))  # as a shell
'''


def proc_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


@case(120)
def case_live_view_signals():
    # ^Z gives the terminal back and SIGCONT takes it again; SIGTERM to memtrace goes to the
    # program, whose end ends the view with the terminal restored and memtrace by SIGTERM too
    # (the job shell says 128 + 15, as a shell does)
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    pidfile = os.path.join(it.TMP, "memtrace.pid")
    pid = None
    shell = subprocess.Popen([it.PYTHON, "-c", JOB_SHELL, pidfile, it.ARGS.memtrace, "run",
                              "--live", "-o", os.path.join(it.TMP, "sig.mtr"), "--",
                              "/bin/sleep", "120"],
                             stdin=slave, stdout=slave, stderr=slave, cwd=it.TMP,
                             start_new_session=True)
    scr = Screen(master)
    try:
        scr.wait_line(lambda s: s.startswith("memtrace live:"), "the view")
        with open(pidfile) as f:
            pid = int(f.read())
        check(termios.tcgetattr(slave)[3] & termios.ECHO == 0, "no raw mode in the view")
        mark = len(scr.raw)
        os.kill(pid, signal.SIGTSTP)
        end = time.monotonic() + 60
        while proc_state(pid) != "T" and time.monotonic() < end:
            scr.pump(0.1)
        check(proc_state(pid) == "T", "memtrace did not stop on SIGTSTP")
        check(termios.tcgetattr(slave) == before, "terminal modes not restored on ^Z")
        scr.pump(0.5)
        check(b"\x1b[?1049l" in scr.raw[mark:], "the view did not leave the alternate screen")
        mark = len(scr.raw)
        os.kill(pid, signal.SIGCONT)
        scr.wait_line(lambda s: s.startswith("memtrace live:"), "the view again", since=mark)
        check(termios.tcgetattr(slave)[3] & termios.ECHO == 0, "no raw mode after SIGCONT")
        mark = len(scr.raw)
        os.kill(pid, signal.SIGTERM)
        status = shell.wait(timeout=60)
        while scr.pump(0.5):
            pass
        check(termios.tcgetattr(slave) == before, "terminal modes not restored at the end")
    finally:
        if shell.poll() is None and pid:  # a check failed: memtrace passes SIGTERM to sleep
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGTERM)
            shell.wait(timeout=60)
        os.close(master)
        os.close(slave)
    check(status == 128 + signal.SIGTERM, f"memtrace should exit 143, not {status}\n"
          f"{scr.text(mark)}")
    check("was killed by signal 15" in scr.text(mark), f"the summary\n{scr.text(mark)}")


def attach_live(pid, log, master, slave, *opts):
    import fcntl
    import struct
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
    return subprocess.Popen([it.ARGS.memtrace, "attach", "--live", "-o", log, *opts, str(pid)],
                            stdin=slave, stdout=slave, stderr=slave, cwd=it.TMP,
                            start_new_session=True,
                            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))


@case(180)
def case_attach_live():
    """memtrace attach --live: the view of a process started without memtrace shows what it
    allocates after the attach (live_steps: 10 MiB before, 10 MiB more at step2); q ends the
    recording and detaches, and Ctrl-C does for a second process; both programs run on to
    their own end with their output and status unchanged."""
    exe = it.build_c("live_steps", LIVE_SAMPLE, "-g", "-O0", "-pthread")
    for stop in (b"q", b"\x03"):
        tag = "q" if stop == b"q" else "ctrl-c"
        work = os.path.join(it.TMP, f"attach-{tag}")
        os.mkdir(work)
        prog = subprocess.Popen([exe], cwd=work, stdout=subprocess.PIPE, text=True)
        check(prog.stdout.readline() == "step 1\n", "live_steps did not start")
        master, slave = pty.openpty()
        before = termios.tcgetattr(slave)
        log = os.path.join(work, "attach-live.mtr")
        proc = attach_live(prog.pid, log, master, slave)
        scr = Screen(master)
        try:
            scr.wait_line(lambda s: s.startswith("memtrace live: live_steps (pid "), "the view")
            mark = len(scr.raw)
            open(os.path.join(work, "step2"), "w").close()
            # only what was allocated after the attach: the second 10 MiB
            row = scr.wait_line(lambda s: "live_hold" in s and s.split()[0:2] == ["10.0", "MiB"],
                                "live_hold holding 10.0 MiB", since=mark)
            check(re.match(r"\s*10\.0 MiB\s+10\s+10\.0 MiB\s+10\s+live_hold\s+live_steps\.c:\d+",
                           row), f"{tag}: the row of live_hold: {row!r}")
            check(prog.stdout.readline() == "step 2\n", "live_steps did not reach step 2")
            mark = len(scr.raw)
            os.write(master, stop)
            status = proc.wait(timeout=60)
            while scr.pump(0.5):
                pass
            check(termios.tcgetattr(slave) == before, f"{tag}: terminal modes not restored")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
            os.close(slave)
        tail = scr.text(mark)
        check(status == 0, f"{tag}: memtrace attach exits 0, not {status}\n{tail}")
        check(f"recorded pid {prog.pid} (live_steps)" in tail and "it runs on" in tail,
              f"{tag}: the closing line\n{tail}")
        check(prog.poll() is None, f"{tag}: the program ended with the detach")
        open(os.path.join(work, "finish"), "w").close()
        check(prog.stdout.read() == "done\n" and prog.wait(timeout=60) == 7,
              f"{tag}: the program's end after the detach")
        rep = it.report_json(log, "--top", "100")
        hold = [s for s in rep["top_sites"]
                if s["stack"] and s["stack"][0].get("function") == "live_hold"]
        check(len(hold) == 1 and hold[0]["allocations"] == 10
              and hold[0]["bytes"] == 10 << 20 and hold[0]["leaked_bytes"] == 10 << 20,
              f"{tag}: live_hold in the log: {hold}")
