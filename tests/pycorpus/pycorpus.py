# SPDX-License-Identifier: MIT
# The Python corpus (issue 17): every script in this directory is run plain, under `memtrace run`
# and under tracemalloc with 25 frames (tracemalloc_run.py), and memtrace's answers are checked
# against tracemalloc's, the oracle:
#   - the exit status and stdout are the plain run's in the other two;
#   - at the end of the script (before interpreter finalization: memtrace's "held at script
#     end", tracemalloc's traces in an atexit callback registered before the script runs):
#     the script's top line by bytes held is the same line, and every line holding more than
#     10 MB in either tool holds the same bytes within 5%;
#   - the peak: memtrace's heap peak and tracemalloc's peak of traced memory within 5%; and when
#     the script marks its peak with sys.audit("pycorpus.peak"), the same per-line check
#     between memtrace's peak and tracemalloc's traces at the mark;
#   - every log of the run (forked children too) is complete, and `memtrace lines` agrees with
#     the figures read from the stacks (own <= the line's figure <= incl.).
# A line's figure is the bytes of the blocks whose innermost frame in the script's file is that
# line (what a Python user means by "this line of my script holds it", also when the script
# called into a library that allocated); memtrace's come from the stacks of `memtrace leaks`
# and `memtrace peak`, tracemalloc's from its traces. tracemalloc keeps the innermost 25 frames
# of a stack, so memtrace's stacks are cut the same way before comparing (an import of numpy
# is deeper than that); memtrace's whole figures are shown beside.
#
# A line marked `# pycorpus-untraced: N` allocates N bytes outside Python's allocators (libc's
# malloc through ctypes) and holds them to the end: tracemalloc cannot see them, so N is added
# to tracemalloc's figures of that line and to its peak before comparing.
# A script that differs for a known, explained reason is listed in EXPECTED below; a listed
# script that agrees fails the run, so that the entry goes with the fix.
# Prints one line per script, a Markdown table, then `pycorpus: N of M agree`; exit 0 when
# every script agrees or differs as EXPECTED says, 77 when nothing could run (skip).
import argparse
import glob
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

SKIP = 77
HERE = os.path.dirname(os.path.realpath(__file__))
PYTHON = "/usr/bin/python3"
WRAPPER = os.path.join(HERE, "tracemalloc_run.py")
FRAMES = 25
BIG = 10_000_000  # lines and peaks above this are compared in bytes
TOLERANCE = 0.05
THEME = re.compile(r"^# pycorpus-theme:\s*(.+?)\s*$", re.M)
UNTRACED = re.compile(r"#\s*pycorpus-untraced:\s*(\d+)")
MARK = re.compile(r"^\s*sys\.audit\(\s*[\"']pycorpus\.peak[\"']\s*\)", re.M)
NEEDS = re.compile(r"^\s*(?:import|from)\s+(numpy|pandas)\b", re.M)
# script name -> reason: a known difference between memtrace and tracemalloc, explained (and
# which tool is wrong). Empty: every script agrees.
EXPECTED = {}


class Script:
    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as f:
            self.source = f.read()
        m = THEME.search(self.source)
        self.theme = m.group(1) if m else ""
        self.needs = sorted(set(NEEDS.findall(self.source)))
        self.marked = bool(MARK.search(self.source))
        self.untraced = {}
        for n, text in enumerate(self.source.splitlines(), 1):
            u = UNTRACED.search(text)
            if u:
                self.untraced[n] = int(u.group(1))
        self.args = []


class Ran:
    """A finished process: returncode, stdout, stderr, seconds (wall) and cpu (its user and
    system time, children included)."""


def run(argv, cwd, env=None):
    """Runs argv to its end (meson's timeout stops a hung one); the CPU time comes from wait4,
    which subprocess.run does not give."""
    t = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    err = []
    reader = threading.Thread(target=lambda: err.append(p.stderr.read()))
    reader.start()
    out = p.stdout.read()
    reader.join()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)  # so that Popen does not wait again
    p.stdout.close()
    p.stderr.close()
    r = Ran()
    r.returncode = p.returncode
    r.stdout = out.decode("utf-8", "replace")
    r.stderr = err[0].decode("utf-8", "replace")
    r.seconds = time.monotonic() - t
    r.cpu = usage.ru_utime + usage.ru_stime
    return r


def tail(p):
    return f"exit {p.returncode}: {(p.stdout + p.stderr)[-1500:]}"


def analyze(memtrace, what, log, *extra):
    p = run([memtrace, what, "--format", "json", *extra, log], os.path.dirname(log))
    try:
        return json.loads(p.stdout), p
    except ValueError:
        raise RuntimeError(f"memtrace {what} {os.path.basename(log)}: {tail(p)}")


def by_script_line(groups, script, limit=None):
    """{line: bytes} of stack groups [(bytes, stack)], each charged to the innermost frame of its
    stack in the script's file; and the bytes of groups without one. With limit, only the
    innermost limit Python frames are looked at, as tracemalloc keeps them."""
    lines = {}
    elsewhere = 0
    for nbytes, stack in groups:
        depth = 0
        for fr in stack:
            if not fr.get("python"):
                continue
            depth += 1
            if limit is not None and depth > limit:
                fr = None
                break
            if fr.get("file") == script:
                break
        else:
            fr = None
        if fr is None:
            elsewhere += nbytes
        else:
            lines[fr["line"]] = lines.get(fr["line"], 0) + nbytes
    return lines, elsewhere


def memtrace_side(memtrace, s, tmp):
    """Runs s under memtrace; returns (process, figures): end_lines and peak_lines by script
    line from every frame of the stacks, end_cut and peak_cut from their innermost FRAMES
    Python frames only (what tracemalloc keeps), peak, lines (memtrace lines' (own, incl.)
    figures by line), logs and problems."""
    # One name for every process: the script's process opens it first, when it starts, and
    # the children it forks later find it taken and write mt.mtr.2, .3, ... (pids would not
    # tell: they wrap around).
    log = os.path.join(tmp, "mt.mtr")
    p = run([memtrace, "run", "-q", "-o", log, "--", PYTHON, s.path, *s.args], tmp)
    if not os.path.exists(log):
        raise RuntimeError(f"memtrace run wrote no log: {tail(p)}")
    logs = [log] + glob.glob(glob.escape(log) + ".*")
    out = {"problems": [], "logs": len(logs)}
    # Every other log complete too: those of forked children (a Pool's workers are ended with
    # SIGTERM, issue 17 item 5).
    reports = []
    for child in logs[1:]:
        rep, rp = analyze(memtrace, "report", child)
        reports.append(rp)
        if rp.returncode != 0 or rep.get("truncated") or not rep.get("exit"):
            out["problems"].append(f"{os.path.basename(child)}: report exit {rp.returncode}, "
                                   f"{rep.get('truncation') or 'no exit record'}")
    # Every kind (a library's blocks are "reachable", the script's own "unclassified"), and the
    # import machinery's frames kept, since tracemalloc counts them among its 25.
    leaks, lp = analyze(memtrace, "leaks", log, "--kinds", "all", "--show-import-machinery")
    if lp.returncode != 0 or leaks.get("truncated"):
        raise RuntimeError(f"memtrace leaks: {leaks.get('truncation')}: {tail(lp)}")
    if not leaks.get("python_script_end"):
        out["problems"].append("the log has no end of the script")
    groups = [(g["bytes"], g["stack"]) for g in leaks["leaks"]]
    out["end_lines"], _ = by_script_line(groups, s.path)
    out["end_cut"], _ = by_script_line(groups, s.path, FRAMES)
    lines, lnp = analyze(memtrace, "lines", log)
    if lnp.returncode != 0:
        raise RuntimeError(f"memtrace lines: {tail(lnp)}")
    out["peak"] = lines["peak_heap_bytes"]
    out["lines"] = {}
    for fn in lines["functions"]:
        for ln in fn["lines"]:
            out["lines"][ln["line"]] = (ln["own"], ln["incl"])
    out["peak_lines"] = out["peak_cut"] = {}
    pp = None
    if s.marked:  # what each line holds at the peak, for the lines the script's mark compares
        peak, pp = analyze(memtrace, "peak", log, "--top", "1000000",
                           "--show-import-machinery")
        if pp.returncode != 0:
            raise RuntimeError(f"memtrace peak: {tail(pp)}")
        groups = [(g["bytes"], g["stack"]) for g in peak["sites"]]
        out["peak_lines"], _ = by_script_line(groups, s.path)
        out["peak_cut"], _ = by_script_line(groups, s.path, FRAMES)
    out["analysis_cpu"] = sum(x.cpu for x in (lp, pp, lnp, *reports) if x)
    return p, out


def tracemalloc_side(s, tmp):
    res = os.path.join(tmp, "tracemalloc.json")
    p = run([PYTHON, "-X", f"tracemalloc={FRAMES}", WRAPPER, res, s.path, *s.args], tmp)
    try:
        with open(res, encoding="utf-8") as f:
            tm = json.load(f)
    except (OSError, ValueError) as e:
        raise RuntimeError(f"tracemalloc run: {e}: {tail(p)}")

    def lines(moment):
        out = {int(k): v[0] for k, v in moment["lines"].items()}
        for line, n in s.untraced.items():
            out[line] = out.get(line, 0) + n
        return out
    fig = {"end_lines": lines(tm["end"]), "end_elsewhere": tm["end"]["elsewhere"][0],
           "peak": tm["peak"] + sum(s.untraced.values())}
    if "marked" in tm:
        fig["marked_lines"] = lines(tm["marked"])
        fig["marked"] = tm["marked"]["traced"] + sum(s.untraced.values())
    return p, fig


def top(lines):
    """(line, bytes) holding most, or (None, 0)."""
    if not lines:
        return None, 0
    line = max(lines, key=lambda k: (lines[k], -k))
    return line, lines[line]


def close(a, b):
    return abs(a - b) <= TOLERANCE * max(a, b)


def compare_lines(what, ours, theirs, notes):
    """Same top line; every line above BIG in either within TOLERANCE."""
    (ol, ob), (tl, tb) = top(ours), top(theirs)
    if ol != tl:
        notes.append(f"{what}: top line {ol} ({ob:,} B) but tracemalloc's is {tl} ({tb:,} B; "
                     f"memtrace has {ours.get(tl, 0):,} B there)")
    for line in sorted(set(ours) | set(theirs)):
        a, b = ours.get(line, 0), theirs.get(line, 0)
        if max(a, b) > BIG and not close(a, b):
            notes.append(f"{what}: line {line} memtrace {a:,} B, tracemalloc {b:,} B "
                         f"({(a - b) / b * 100 if b else float('inf'):+.1f}%)")


def compare(s, memtrace, tmp):
    """Returns (state, notes, row): state agree, differ or error."""
    notes = []
    plain = run([PYTHON, s.path, *s.args], tmp)
    pm, mt = memtrace_side(memtrace, s, tmp)
    pt, tm = tracemalloc_side(s, tmp)
    if plain.returncode != 0:
        return "error", [f"plain run failed: {tail(plain)}"], None
    for who, p in (("memtrace", pm), ("tracemalloc", pt)):
        if p.returncode != plain.returncode:
            notes.append(f"exit status under {who} {p.returncode}, plain {plain.returncode}: "
                         f"{tail(p)}")
        if p.stdout != plain.stdout:
            notes.append(f"stdout under {who} differs: {p.stdout!r}, plain {plain.stdout!r}")
    notes += mt["problems"]
    # tracemalloc against memtrace's stacks cut as tracemalloc cuts its own (FRAMES Python
    # frames): a line that only memtrace's whole stacks reach is tracemalloc's limit, shown
    # in the table, not a difference.
    compare_lines("end", mt["end_cut"], tm["end_lines"], notes)
    if max(mt["peak"], tm["peak"]) > BIG and not close(mt["peak"], tm["peak"]):
        notes.append(f"peak: memtrace {mt['peak']:,} B, tracemalloc {tm['peak']:,} B "
                     f"({(mt['peak'] - tm['peak']) / tm['peak'] * 100:+.1f}%)")
    if ("marked_lines" in tm) != s.marked:
        notes.append(f"the script {'has' if s.marked else 'has no'} sys.audit('pycorpus.peak') "
                     f"line, but tracemalloc {'never saw' if s.marked else 'saw'} the mark")
    elif "marked_lines" in tm:
        # The mark must be where the script peaks, or the two moments are not the same.
        if tm["marked"] < (1 - TOLERANCE) * tm["peak"]:
            notes.append(f"the script's peak mark is not its peak: {tm['marked']:,} B traced "
                         f"there, {tm['peak']:,} B at the peak")
        else:
            compare_lines("peak", mt["peak_cut"], tm["marked_lines"], notes)
    # memtrace lines against the stacks: a line's own figure (innermost Python frame) is part
    # of its figure here (innermost frame of the script), which is part of its incl. figure.
    for what, figures, key in (("end", mt["end_lines"], "end_bytes"),
                               ("peak", mt["peak_lines"], "peak_bytes")):
        for line, nbytes in figures.items():
            own, incl = mt["lines"].get(line, ({key: 0}, {key: 0}))
            if nbytes > BIG / 10 and not own[key] <= nbytes <= incl[key]:
                notes.append(f"memtrace lines, {what}, line {line}: own {own[key]:,} B, "
                             f"incl. {incl[key]:,} B; the stacks say {nbytes:,} B")
    hidden = [f"line {line}: {mt['end_lines'][line]:,} B, {mt['end_cut'].get(line, 0):,} B "
              f"within {FRAMES} frames" for line in sorted(mt["end_lines"])
              if mt["end_lines"][line] > BIG / 10
              and not close(mt["end_lines"][line], mt["end_cut"].get(line, 0))]
    ml = top(mt["end_lines"])[0]
    row = {"mt_end": (ml, mt["end_lines"].get(ml, 0), mt["end_cut"].get(ml, 0)),
           "tm_end": top(tm["end_lines"]), "hidden": hidden,
           "mt_peak": mt["peak"], "tm_peak": tm["peak"],
           "cpu": (plain.cpu, pm.cpu, mt["analysis_cpu"], pt.cpu), "logs": mt["logs"]}
    return ("agree" if not notes else "differ"), notes, row


def judge(s, state, notes):
    """(verdict, message): agree, known or FAIL."""
    reason = EXPECTED.get(s.name)
    if state == "error":
        return "FAIL", "; ".join(notes)
    if state == "agree":
        if reason:
            return "FAIL", f"now agrees but is listed in EXPECTED ({reason}): remove the entry"
        return "agree", ""
    if reason:
        return "known", f"{reason}: {'; '.join(notes)}"
    return "FAIL", "; ".join(notes)


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def mib(n):
    return f"{n / 1048576:.2f} MiB"


def line_text(s, line):
    if line is None:
        return "(none)"
    text = s.source.splitlines()[line - 1].strip() if 0 < line <= s.source.count("\n") + 1 else ""
    text = re.sub(r"\s*#.*$", "", text)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{line} `{text}`".replace("|", "\\|")


def table(results):
    out = ["| script | theme | memtrace: top line, bytes held at end | tracemalloc (25 frames): "
           "top line, bytes held at end | peak: memtrace / tracemalloc | verdict |",
           "| --- | --- | --- | --- | --- | --- |"]
    for s, verdict, message, row in results:
        if row is None:
            out.append(f"| {s.name} | {s.theme} | | | | {verdict}: {message} |")
            continue
        (ml, mb, mcut), (tl, tb) = row["mt_end"], row["tm_end"]
        cut = f" ({mcut:,} within {FRAMES} frames)" if not close(mb, mcut) else ""
        same = f"{tl}" if tl == ml else line_text(s, tl)
        diff = f" ({(mcut - tb) / tb * 100:+.2f}%)" if tb and tl == ml else ""
        untraced = sum(s.untraced.values())
        plus = f" incl. {mib(untraced)} untraced" if untraced else ""
        peak = f"{mib(row['mt_peak'])} / {mib(row['tm_peak'])}{plus} " \
               f"({(row['mt_peak'] - row['tm_peak']) / row['tm_peak'] * 100:+.1f}%)"
        out.append(f"| {s.name} | {s.theme} | {line_text(s, ml)}: {mb:,}{cut} | "
                   f"{same}: {tb:,}{diff} | {peak} | {verdict} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--memtrace", required=True)
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the logs (their directory is "
                    "printed)")
    ap.add_argument("--long", type=int, metavar="N",
                    help="run long_run.py with N requests (3000000: about a minute plain)")
    ap.add_argument("--group", choices=("all", "stdlib", "numpy"), default="all",
                    help="only the scripts that import numpy or pandas (numpy), or those that "
                    "need only the standard library (stdlib); default all")
    ap.add_argument("scripts", nargs="*", help="script names (default all)")
    a = ap.parse_args()
    a.memtrace = os.path.abspath(a.memtrace)
    if not os.path.exists(PYTHON):
        print(f"{PYTHON} is not installed")
        return SKIP
    version = subprocess.run([PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    if version != "3.11":
        print(f"{PYTHON} is Python {version}: memtrace records Python frames for 3.11 only")
        return SKIP
    scripts = [Script(p) for p in sorted(glob.glob(os.path.join(HERE, "*.py")))
               if os.path.basename(p) not in ("pycorpus.py", "tracemalloc_run.py")]
    if a.scripts:
        unknown = set(a.scripts) - {s.name for s in scripts}
        if unknown:
            print("no such script:", " ".join(sorted(unknown)))
            return 2
        scripts = [s for s in scripts if s.name in a.scripts]
    if a.group == "stdlib":
        scripts = [s for s in scripts if not s.needs]
    elif a.group == "numpy":
        scripts = [s for s in scripts if s.needs]
    for s in scripts:
        if s.name == "long_run" and a.long:
            s.args = [str(a.long)]
    skipped = []
    for mod in sorted({m for s in scripts for m in s.needs}):
        if subprocess.run([PYTHON, "-c", f"import {mod}"], capture_output=True).returncode:
            pkg = f"python3-{mod}"
            for s in [s for s in scripts if mod in s.needs]:
                skipped.append((s, f"{mod} is not installed (apt-get install {pkg})"))
            scripts = [s for s in scripts if mod not in s.needs]
    for s, why in skipped:
        print(f"{s.name}: skipped: {why}")
    if not scripts:
        print("pycorpus: nothing to run")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="pycorpus.")

    def one(s):
        d = os.path.join(tmp, s.name)
        os.mkdir(d)
        try:
            state, notes, row = compare(s, a.memtrace, d)
        except (OSError, subprocess.SubprocessError, RuntimeError, ValueError, KeyError) as e:
            state, notes, row = "error", [f"{type(e).__name__}: {e}"], None
        verdict, message = judge(s, state, notes)
        times = ", ".join(f"{t:.1f}" for t in row["cpu"]) if row else ""
        if row and row["hidden"]:
            message += ("; " if message else "") + "beyond tracemalloc's frames: " + \
                "; ".join(row["hidden"])
        print(f"{s.name}: {verdict}{': ' + message if message else ''}"
              f"{' (CPU s: plain, memtrace run, its reports, tracemalloc: ' + times + ')' if times else ''}", flush=True)
        return s, verdict, message, row

    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        results = list(ex.map(one, scripts))
    print()
    print(table(results))
    print()
    bad = [r for r in results if r[1] == "FAIL"]
    agree = sum(r[1] == "agree" for r in results)
    print(f"pycorpus: {agree} of {len(results)} agree"
          f"{', ' + str(len(results) - agree - len(bad)) + ' known' if len(results) - agree - len(bad) else ''}"
          f"{', ' + str(len(skipped)) + ' skipped' if skipped else ''}"
          f" ({time.monotonic() - start:.0f} s, {cpu():.0f} s of CPU; Python {version}, "
          f"tracemalloc {FRAMES} frames)")
    if a.keep:
        print(f"logs kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
