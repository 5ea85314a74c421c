# SPDX-License-Identifier: MIT
# Integration tests of what the report commands write and where: -o never writes over a
# memtrace log (given by mistake, often the very log being read), an output that cannot be
# written whole (a full disk, a file size limit) is removed and the message names the real
# cause, and standard output's errors are told the same way. Uses mt_harness.py; exit 77 = skip.
import os
import subprocess
import resource
import signal

import mt_harness as it
from mt_harness import check, show, memtrace, record

case = it.suite("integration", "outputs")

# Every command that writes a file with -o, with what it needs besides.
WRITERS = [
    ("flamegraph", []),
    ("timeline", []),
    ("html", []),
    ("export", ["--to", "folded"]),
    ("export", ["--to", "pprof"]),
    ("export", ["--to", "massif"]),
    ("leaks", []),
]


def demo_log(name="demo.mtr"):
    log = os.path.join(it.TMP, name)
    record(log, it.sample_exe("demo"))
    return log


@case(120)
def case_output_not_over_log():
    log = demo_log()
    other = demo_log("other.mtr")
    for path in (log, other):
        before = open(path, "rb").read()
        for cmd, extra in WRITERS:
            p = memtrace(cmd, *extra, "-o", path, log)
            check(p.returncode == 1 and "is a memtrace log: not writing over it" in p.stderr,
                  f"{cmd} -o {path}: refused?\n{show(p)}")
            check(open(path, "rb").read() == before, f"{cmd} -o {path} changed the log")


def _file_limit(limit):
    def setup():
        # A write past the limit then fails with EFBIG instead of killing the command.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return setup


@case(120)
def case_output_cut_short():
    log = demo_log()
    out = os.path.join(it.TMP, "out")
    for cmd, extra in WRITERS:
        argv = [it.ARGS.memtrace, cmd, *extra, "-o", out, log]
        p = subprocess.run(argv, cwd=it.TMP, capture_output=True, text=True, timeout=60,
                              preexec_fn=_file_limit(200))
        check(p.returncode == 1 and "File too large" in p.stderr and
              "the file is removed" in p.stderr and "Input/output error" not in p.stderr,
              f"{cmd} past the file size limit\n{show(p)}")
        check(not os.path.exists(out), f"{cmd} left a partial {out}")


@case(60)
def case_output_stdout_errors():
    log = demo_log()
    for cmd, extra in [("logstats", []), ("timeline", ["-o", "-"]), ("report", []),
                       ("export", ["--to", "folded"])]:
        with open("/dev/full", "w") as full:
            p = subprocess.run([it.ARGS.memtrace, cmd, *extra, log], cwd=it.TMP,
                                  stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
        check(p.returncode == 1 and "No space left on device" in p.stderr,
              f"{cmd} > /dev/full: exit {p.returncode}, {p.stderr!r}")
