# SPDX-License-Identifier: MIT
# The integration-test harness: run the real `memtrace` binary, record programs, read its JSON,
# build small programs, find what the build made, and register cases. Nothing case-specific
# lives here: the cases are in the topic files (tests/integration/cases_*.py, hostile.py,
# mt_bounds.py), each a function registered with its timeout by the decorator `suite()` gives.
# A case passes by returning, fails with Fail, skips with Skip (exit 77, meson's convention).
# `--list` prints the registered cases for meson, which makes one test of each: the case list
# is written once, here in the decorators. Plain python3, no pytest; nothing beyond what
# bootstrap.sh installs.
import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

SKIP = 77
# Set by main() before a case runs: the command line (memtrace, source_root, build_root, cc,
# libdir, sample) and the case's own temporary directory, the default cwd of what it runs.
ARGS = None
TMP = None
# Debian's interpreter: the one built with the headers memtrace's Python frames support.
PYTHON = "/usr/bin/python3"


class Fail(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


# ---- the registry: each case a function, with what meson needs to make a test of it ----

CASES = {}


Case = collections.namedtuple("Case", "name fn timeout suites needs parallel listed")


# What a case may need beyond the build, named in --list's flags: the Python frames exist only
# when the recorder was built with CPython 3.11's headers (meson's py_layout_dep).
NEEDS = {"python_frames": "--python-frames"}


def suite(*suites, parallel=True):
    """The decorator of a topic file's cases, all in meson's `suites`. Use as
    `case = suite("integration", "tools")`, then `@case(60)` on `def case_diff_growth():`,
    which registers the meson test `diff-growth` with a 60 s timeout. `needs` names a
    build feature (NEEDS) without which meson does not list the case; `listed=False` keeps
    it out of --list, for a case that meson.build declares itself (one test per sample)."""
    def case(timeout, needs=None, listed=True):
        if needs is not None and needs not in NEEDS:
            raise ValueError(f"unknown need {needs}, not one of {sorted(NEEDS)}")

        def register(fn):
            name = fn.__name__.removeprefix("case_").replace("_", "-")
            if name in CASES:
                raise ValueError(f"two cases named {name}: {fn.__module__} and "
                                 f"{CASES[name].fn.__module__}")
            CASES[name] = Case(name, fn, timeout, suites, needs, parallel, listed)
            return fn
        return register
    return case


# ---- running things ----

def run(argv, input=None, cwd=None, env=None, timeout=120, own_session=False):
    """Runs argv (in TMP unless cwd) and returns the CompletedProcess (text mode).
    own_session: in a session of its own, so that a timeout (a hang some cases look for)
    kills whatever the program started too, not only the program."""
    if not own_session:
        return subprocess.run(argv, input=input, cwd=cwd or TMP, env=env, capture_output=True,
                              text=True, timeout=timeout)
    with subprocess.Popen(argv, cwd=cwd or TMP, env=env, text=True, start_new_session=True,
                          stdin=subprocess.PIPE if input is not None else None,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        try:
            out, err = p.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            raise
        return subprocess.CompletedProcess(argv, p.returncode, out, err)


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


def json_of(*args, expect_status=0):
    """memtrace ARGS, which must exit expect_status and print JSON; returns it parsed."""
    p = memtrace(*args)
    check(p.returncode == expect_status,
          f"memtrace {' '.join(args)}: expected exit {expect_status}\n{show(p)}")
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise Fail(f"memtrace {' '.join(args)}: not JSON ({e})\n{show(p)}")


def report_json(log, *extra):
    return json_of("report", "--format", "json", *extra, log)


def leaks_json(log, *extra, expect_status=0):
    return json_of("leaks", "--format", "json", *extra, log, expect_status=expect_status)


def compile_c(src, out, *flags):
    cc = os.environ.get("CC") or ARGS.cc or "cc"
    return run([*cc.split(), *flags, "-o", out, src])


def write(name, text, mode=None):
    """Writes text (str or bytes) to TMP/NAME, chmod MODE if given; returns the path."""
    path = os.path.join(TMP, name)
    with open(path, "wb" if isinstance(text, bytes) else "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)
    return path


def build_c(name, text, *flags):
    """Compiles the C source text, written to TMP/NAME.c, into TMP/NAME; returns its path."""
    exe = os.path.join(TMP, name)
    p = compile_c(write(name + ".c", text), exe, *flags)
    check(p.returncode == 0, f"cannot build {name}.c\n{show(p)}")
    return exe


# ---- what the build made, and the ground truth the samples print ----

def built(*path):
    """The program the build made at build_root/PATH...; skips the case when it is missing."""
    exe = os.path.join(ARGS.build_root, *path)
    if not os.access(exe, os.X_OK):
        raise Skip(f"{exe} was not built")
    return exe


def sample_exe(name):
    return built("samples", name)


SAMPLE_LINE = re.compile(r"^memtrace-sample: allocations=(\d+) frees=(\d+) leaked_bytes=(\d+) "
                         r"leaked_blocks=(\d+)\s*$", re.M)


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


def sample_kv(stdout, tag):
    """The key=value pairs of the `memtrace-TAG: k=v ...` line a sample printed."""
    m = re.search(rf"^memtrace-{tag}: (.*)$", stdout, re.M)
    check(m, f"no memtrace-{tag} line in the output:\n{stdout[-2000:]}")
    return dict(kv.split("=", 1) for kv in m.group(1).split())


LEAK_KINDS = ("definite", "indirect", "possible", "reachable")
VALGRIND_LINE = re.compile(r"(definitely lost|indirectly lost|possibly lost|still reachable): "
                           r"([\d,]+) bytes in ([\d,]+) blocks")


def valgrind_totals(argv, **kw):
    """valgrind memcheck's LEAK SUMMARY for argv: ({kind: (bytes, blocks)}, the run)."""
    if not shutil.which("valgrind"):
        raise Skip("valgrind is not installed")
    p = run(["valgrind", "--leak-check=full", "--show-leak-kinds=all",
             "--errors-for-leak-kinds=definite,indirect,possible", *argv], timeout=300, **kw)
    check("LEAK SUMMARY" in p.stderr or "All heap blocks were freed" in p.stderr,
          f"no LEAK SUMMARY from valgrind\n{show(p)}")
    summary = p.stderr[p.stderr.find("LEAK SUMMARY"):] if "LEAK SUMMARY" in p.stderr else ""
    vg = {k: (0, 0) for k in LEAK_KINDS}
    names = dict(zip(("definitely lost", "indirectly lost", "possibly lost", "still reachable"),
                     LEAK_KINDS))
    for what, b, n in VALGRIND_LINE.findall(summary):
        vg[names[what]] = (int(b.replace(",", "")), int(n.replace(",", "")))
    return vg, p


def py_sample(name):
    path = os.path.join(ARGS.source_root, "samples", name)
    if not os.access(PYTHON, os.X_OK):
        raise Skip(f"{PYTHON} is not installed")
    return path


def py_record(name, *args, opts=()):
    """Records `python3 samples/NAME ARGS`; returns (log, the CompletedProcess)."""
    log = os.path.join(TMP, name.replace(".py", ".mtr"))
    p = memtrace("run", "-o", log, *opts, "--", PYTHON, py_sample(name), *args)
    check(p.returncode == 0 and os.path.isfile(log), f"memtrace run python3 {name}\n{show(p)}")
    return log, p


def py_run(log_name, *argv, **kw):
    """memtrace run -q -o TMP/LOG_NAME -- python3 ARGV, which must exit 0; returns (log, the
    CompletedProcess), whose stdout is the script's alone (-q)."""
    log = os.path.join(TMP, log_name)
    p = memtrace("run", "-q", "-o", log, "--", PYTHON, *argv, **kw)
    check(p.returncode == 0, f"memtrace run {log_name}: python3 {' '.join(argv)}\n{show(p)}")
    return log, p


def json_dicts(x):
    """Every object (dict) anywhere in a JSON value, the value itself first."""
    if isinstance(x, dict):
        yield x
        for v in x.values():
            yield from json_dicts(v)
    elif isinstance(x, list):
        for v in x:
            yield from json_dicts(v)


def py_frames(stack):
    return [f for f in stack if f.get("python")]


def first_py(stack):
    fr = py_frames(stack)
    return fr[0] if fr else {}


# ---- the command line: list the cases, or run one ----

def list_cases(args):
    """One line a case for meson: NAME TIMEOUT SUITE[,SUITE...] parallel|serial."""
    for c in CASES.values():
        if c.listed and (c.needs is None or getattr(args, c.needs)):
            print(c.name, c.timeout, ",".join(c.suites), "parallel" if c.parallel else "serial")


def list_sources():
    """The Python files the cases come from, for meson to reconfigure when one changes."""
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    files = {os.path.abspath(m.__file__) for m in list(sys.modules.values())
             if getattr(m, "__file__", None)}
    for f in sorted(files):
        if f.startswith(tests + os.sep):
            print(f)


def main():
    """Lists the cases registered so far (--list), or runs the one named."""
    global ARGS, TMP
    ap = argparse.ArgumentParser(description="Integration cases of memtrace: one per meson "
                                 "test; exit 0 pass, 77 skip, anything else fail.")
    ap.add_argument("--list", action="store_true",
                    help="print NAME TIMEOUT SUITES parallel|serial for each case and exit")
    ap.add_argument("--sources", action="store_true",
                    help="print the files the cases come from and exit")
    for need, flag in NEEDS.items():
        ap.add_argument(flag, dest=need, action="store_true",
                        help=f"with --list: also the cases that need {need.replace('_', ' ')}")
    ap.add_argument("--memtrace")
    ap.add_argument("--source-root")
    ap.add_argument("--build-root")
    ap.add_argument("--cc", default=None)
    ap.add_argument("--libdir", default="lib", help="meson's libdir option, relative")
    ap.add_argument("--sample", default=None, help="samples: check only this sample program")
    ap.add_argument("case", nargs="?", choices=sorted(CASES))
    args = ap.parse_args()
    if args.list:
        list_cases(args)
        return 0
    if args.sources:
        list_sources()
        return 0
    if not (args.case and args.memtrace and args.source_root and args.build_root):
        ap.error("a case, --memtrace, --source-root and --build-root are required")
    for attr in ("memtrace", "source_root", "sample"):
        if getattr(args, attr):
            setattr(args, attr, os.path.abspath(getattr(args, attr)))
    ARGS = args
    TMP = tempfile.mkdtemp(prefix=f"memtrace-it-{args.case}.")
    try:
        CASES[args.case].fn()
    except Skip as e:
        print(f"SKIP {args.case}: {e}")
        return SKIP
    except Fail as e:
        print(f"FAIL {args.case}: {e}", file=sys.stderr)
        print(f"(files kept in {TMP})", file=sys.stderr)
        return 1
    except subprocess.TimeoutExpired as e:
        print(f"FAIL {args.case}: timed out: {e}", file=sys.stderr)
        return 1
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"PASS {args.case}")
    return 0
