# SPDX-License-Identifier: MIT
# Integration tests of the index (issue 18, docs/index.md): the first command that reads a
# finished log leaves .LOG.idx beside it, and every later command on that log answers from it,
# byte for byte as from the log; a stale or damaged index is silently rebuilt; a log without
# its end gets none; --no-index and MEMTRACE_INDEX=0 turn it off. A window (--from/--to) or a
# --thread selection is kept too (.LOG.wK.idx), and the next command over the same one loads
# it. A command that misses the index writes it again, so an index file that keeps its mtime
# proves that it was used.
# Uses mt_harness.py's helpers; exit 77 = skip.
import json
import os
import stat
import resource
import subprocess

import mt_harness as it
from mt_harness import check, show, memtrace
from cases_threads import named_threads
from cases_windows import PHASES, phases_log

case = it.suite("integration", "index")


def mt_bytes(*args, env_extra=None):
    """memtrace ARGS with stdout and stderr as bytes (pprof is binary): (rc, out, err)."""
    env = dict(os.environ)
    env.pop("MEMTRACE_INDEX", None)
    env.update(env_extra or {})
    p = subprocess.run([it.ARGS.memtrace, *args], cwd=it.TMP, env=env, capture_output=True,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


def no_index(*args):
    return mt_bytes(*args, env_extra={"MEMTRACE_INDEX": "0"})


# Every command that reads one log, whole and over windows (marks and the peak need a first
# pass over the log, which the index answers too).
COMMANDS = [
    ["report"], ["report", "--format", "json"], ["peak"], ["peak", "--format", "json"],
    ["leaks"], ["leaks", "--format", "json"], ["fragmentation"],
    ["fragmentation", "--format", "json"], ["flamegraph", "-o", "-"],
    ["flamegraph", "--cost", "leaked", "-o", "-"], ["export", "--to", "folded"],
    ["export", "--to", "pprof", "-o", "-"], ["export", "--to", "massif", "-o", "-"],
    ["html", "-o", "-"], ["timeline", "-o", "-"], ["lines"], ["lines", "--format", "json"],
    ["report", "--format", "json", "--from", "start", "--to", "peak"],
    ["peak", "--from", "peak", "--to", "end"],
    ["leaks", "--format", "json", "--to", "peak"],
]
MARK_WINDOWS = [
    ["report", "--format", "json", "--from", "mark:start", "--to", "mark:allocated"],
    ["flamegraph", "--from", "mark:allocated", "--to", "mark:freed", "-o", "-"],
    ["html", "--from", "mark:start", "--to", "mark:freed", "-o", "-"],
    ["export", "--to", "folded", "--from", "mark:allocated"],
]


def idx_of(log):
    """DIR/.NAME.idx: hidden, out of the globs that pick a run's logs (LOG*)."""
    d, name = os.path.split(log)
    return os.path.join(d, "." + name + ".idx")


def same_with_index(log, commands):
    """Runs commands on log without an index, then makes the index and runs them again from
    it: the same bytes, the same status, and the index never rewritten."""
    idx = idx_of(log)
    if os.path.exists(idx):
        os.unlink(idx)
    want = [no_index(*c, log) for c in commands]
    check(not os.path.exists(idx), f"MEMTRACE_INDEX=0 wrote {idx}")
    rc, _, err = mt_bytes("report", log)
    check(rc == 0 and os.path.isfile(idx), f"the first report left no index\n{err.decode()}")
    st = os.stat(idx)
    # the log's mode: the index holds the same addresses and paths
    check(stat.S_IMODE(st.st_mode) == 0o600, f"index mode {stat.S_IMODE(st.st_mode):o}, not 600")
    check(not [f for f in os.listdir(os.path.dirname(idx)) if f.endswith(".tmp")],
          "a temporary index file was left behind")
    for c, w in zip(commands, want):
        got = mt_bytes(*c, log)
        check(got == w, f"memtrace {' '.join(c)}: output differs with the index "
              f"(exit {got[0]} vs {w[0]}, {len(got[1])} vs {len(w[1])} bytes)\n"
              f"{got[2].decode()[-1000:]}")
    st2 = os.stat(idx)
    check((st2.st_mtime_ns, st2.st_ino) == (st.st_mtime_ns, st.st_ino),
          "a command wrote the index again: it did not use it")
    print(f"  {os.path.basename(log)}: {len(commands)} commands the same from a "
          f"{st.st_size:,} B index of a {os.path.getsize(log):,} B log")


@case(240)
def case_index_same_output():
    """Issue 18: every command gives the same bytes from the index as from the log, on a log
    with marks, a custom pool and a leak check, and on one with threads; windows too."""
    log = os.path.join(it.TMP, "pool.mtr")
    p = memtrace("run", "-q", "--leak-check", "-o", log, "--", it.sample_exe("custom_pool"))
    check(p.returncode == 0 and os.path.isfile(log), f"custom_pool\n{show(p)}")
    same_with_index(log, COMMANDS + MARK_WINDOWS)
    log = os.path.join(it.TMP, "threads.mtr")
    p = memtrace("run", "-q", "-o", log, "--", it.sample_exe("leak_threads"))
    check(os.path.isfile(log), f"leak_threads\n{show(p)}")
    same_with_index(log, COMMANDS)


@case(400, needs="python_frames")
def case_index_same_output_python():
    """The same for a Python script: Python frames, lines, arenas, the end of the script."""
    log, _ = it.py_record("py_lines.py")
    same_with_index(log, COMMANDS)


@case(120)
def case_index_stale():
    """A damaged index (its bytes, its header, half of it) or a changed log (touched, cut,
    grown) is never used: the output is the log's own, and the index is made again."""
    log = os.path.join(it.TMP, "demo.mtr")
    it.record(log, it.sample_exe("demo"))
    idx = idx_of(log)
    want = no_index("report", "--format", "json", log)
    check(want[0] == 0, f"report\n{want[2].decode()}")

    def fresh():
        got = mt_bytes("report", "--format", "json", log)
        check(got == want, f"report differs with a damaged index\n{got[2].decode()}")
        st = os.stat(idx)
        again = mt_bytes("report", "--format", "json", log)
        check(again == want and os.stat(idx).st_mtime_ns == st.st_mtime_ns,
              "the index was not made again, or not used the time after")

    fresh()
    good = open(idx, "rb").read()
    for name, bad in (("a payload byte", good[:-9] + bytes([good[-9] ^ 1]) + good[-8:]),
                      ("the magic", b"X" + good[1:]),
                      ("the log size", good[:24] + bytes([good[24] ^ 4]) + good[25:]),
                      ("half", good[:len(good) // 2]), ("nothing", b"")):
        with open(idx, "wb") as f:
            f.write(bad)
        fresh()
        print(f"  index with {name} changed: rebuilt")
    # the log changes: touched (same bytes, other time), then cut, then grown
    os.utime(log, ns=(os.stat(log).st_atime_ns, os.stat(log).st_mtime_ns + 1000))
    fresh()
    data = open(log, "rb").read()
    with open(log, "wb") as f:
        f.write(data[:len(data) * 2 // 3])
    cut = no_index("report", "--format", "json", log)
    got = mt_bytes("report", "--format", "json", log)
    check(got == cut and cut[0] == 1, f"a cut log reads as cut, index or not\n{got[2].decode()}")
    with open(log, "wb") as f:
        f.write(data + b"\0" * 64)
    grown = no_index("report", "--format", "json", log)
    got = mt_bytes("report", "--format", "json", log)
    check(got == grown, f"a grown log reads as itself\n{got[2].decode()}")


@case(60)
def case_index_unfinished_and_off():
    """A log without its EXIT record (the program was killed, or still runs) gets no index;
    neither does any log with --no-index or MEMTRACE_INDEX=0."""
    log = os.path.join(it.TMP, "demo.mtr")
    it.record(log, it.sample_exe("demo"))
    idx = idx_of(log)
    for args, env in ((["report", "--no-index", log], None),
                      (["leaks", log, "--no-index"], None),
                      (["report", log], {"MEMTRACE_INDEX": "0"})):
        rc, _, err = mt_bytes(*args, env_extra=env)
        check(rc == 0 and not os.path.exists(idx), f"{args} {env}: wrote an index\n{err}")
    data = open(log, "rb").read()
    cut = os.path.join(it.TMP, "cut.mtr")
    with open(cut, "wb") as f:
        f.write(data[:len(data) // 2])
    rc, _, err = mt_bytes("report", cut)
    check(rc == 1 and not os.path.exists(idx_of(cut)), f"a cut log was indexed\n{err.decode()}")


@case(120)
def case_index_cache_dir():
    """Where the log's directory takes no index (here .LOG.idx is a directory), it goes to the
    cache directory (MEMTRACE_INDEX_DIR), and the next command reads it from there."""
    log = os.path.join(it.TMP, "demo.mtr")
    it.record(log, it.sample_exe("demo"))
    os.mkdir(idx_of(log))
    cache = os.path.join(it.TMP, "cache", "index")
    env = {"MEMTRACE_INDEX_DIR": cache}
    want = no_index("report", "--format", "json", log)
    got = mt_bytes("report", "--format", "json", log, env_extra=env)
    files = os.listdir(cache) if os.path.isdir(cache) else []
    check(got == want and len(files) == 1 and files[0].startswith("demo.mtr-") and
          files[0].endswith(".idx"), f"cache directory holds {files}\n{got[2].decode()}")
    st = os.stat(os.path.join(cache, files[0]))
    # the levels memtrace made are the user's alone, as XDG asks of caches; the index 0600
    modes = [stat.S_IMODE(os.stat(d).st_mode) for d in (os.path.dirname(cache), cache)]
    check(modes == [0o700, 0o700] and stat.S_IMODE(st.st_mode) == 0o600,
          f"modes of cache/, cache/index/ and the index: {[f'{m:o}' for m in modes]}, "
          f"{stat.S_IMODE(st.st_mode):o}")
    got = mt_bytes("report", "--format", "json", log, env_extra=env)
    check(got == want and os.stat(os.path.join(cache, files[0])).st_mtime_ns == st.st_mtime_ns,
          "the cache directory's index was not used")


def sel_files(log):
    """The selections' index files of log (.NAME.wK.idx): {name: (mtime, inode)}."""
    d, name = os.path.split(log)
    return {f: (os.stat(os.path.join(d, f)).st_mtime_ns, os.stat(os.path.join(d, f)).st_ino)
            for f in os.listdir(d) if f.startswith("." + name + ".w") and f.endswith(".idx")}


def same_selection(log, sel, commands):
    """commands over one selection (window and/or threads) of log: the first with the index
    reads the log and leaves the selection's index, every later one loads it (no index file
    written again); each gives the bytes it gives without any index. Returns the outputs."""
    want = [no_index(*c, *sel, log) for c in commands]
    outs = []
    for k, (c, w) in enumerate(zip(commands, want)):
        before = sel_files(log)
        got = mt_bytes(*c, *sel, log)
        after = sel_files(log)
        args = " ".join(c + sel)
        check(got == w, f"memtrace {args}: output differs with the index (exit {got[0]} vs "
              f"{w[0]}, {len(got[1])} vs {len(w[1])} bytes)\n{got[2].decode()[-1000:]}")
        wrote = {f for f in after if before.get(f) != after[f]}
        check(len(after) <= 8, f"more than 8 selections kept: {sorted(after)}")
        if k == 0:
            check(len(wrote) == 1, f"memtrace {args}: the first command over this selection "
                  f"left {sorted(wrote)}, not one index")
        else:
            check(not wrote, f"memtrace {args}: wrote {sorted(wrote)} again: it did not load "
                  f"the selection's index")
        outs.append(got[1])
    return outs


# Every command over one log that takes a window, as the selection's first and later ones.
# The report in JSON comes second: its figures are checked as loaded from the index.
SEL_COMMANDS = [
    ["peak", "--format", "json"], ["report", "--format", "json"], ["report"], ["peak"],
    ["leaks", "--format", "json"], ["lines", "--format", "json"], ["flamegraph", "-o", "-"],
    ["export", "--to", "folded"], ["export", "--to", "pprof", "-o", "-"],
    ["timeline", "-o", "-"], ["timeline"],
    # these two read the log again for their snapshots, with the loaded selection's window
    ["html", "-o", "-"], ["export", "--to", "massif", "-o", "-"],
]


@case(300)
def case_index_windows():
    """Issue 18: a window over samples/phases (each phase; up to the peak; from the last phase
    to the end) is read from the log by its first command and loaded from its index by every
    later one (html and massif still read the log for their snapshots, from what they
    loaded), with the same bytes and the phase's exact figures; so is --thread over
    samples/named_threads, alone and with a window."""
    log, wins = phases_log("phases-idx.mtr")
    for (fn, allocs, nbytes, frees, held, held_blocks, peak), (t0, t1) in zip(PHASES, wins):
        rep = json.loads(same_selection(log, ["--from", t0, "--to", t1], SEL_COMMANDS)[1])
        got = tuple(rep[k] for k in ("allocations", "bytes_allocated", "frees", "leaked_bytes",
                                     "leaked_blocks", "peak_heap_bytes"))
        check(got == (allocs, nbytes, frees, held, held_blocks, peak),
              f"report {t0}..{t1} ({fn}) from the index: {got}")
    rep = json.loads(same_selection(log, ["--to", "peak"], SEL_COMMANDS)[1])
    check((rep["allocations"], rep["bytes_allocated"], rep["peak_heap_bytes"]) ==
          (300, 500000, 500000), f"--to peak from the index: {rep['allocations']}")
    rep = json.loads(same_selection(log, ["--from", wins[1][1], "--to", "end"],
                                    SEL_COMMANDS)[1])
    check((rep["allocations"], rep["leaked_bytes"]) == (50, 150000),
          f"--to end from the index: {rep['allocations']}, {rep['leaked_bytes']}")
    print(f"  phases: {len(PHASES) + 2} windows x {len(SEL_COMMANDS)} commands the same; "
          f"{len(sel_files(log))} selections kept")

    log, truth = named_threads()
    names = {t["name"] for t in truth}
    for sel in (["--thread", "worker-1"], ["--thread", "pool"],
                ["--thread", "worker-0", "--thread", "worker-2"],
                ["--thread", "pool", "--from", "start", "--to", "peak"]):
        rep = json.loads(same_selection(log, sel, SEL_COMMANDS)[1])
        picked = [t for t in truth if t["name"] in sel]
        check(len(picked) >= 1 and names, f"{sel}: no such thread in {names}")
        want = (sum(t["allocations"] for t in picked), sum(t["bytes"] for t in picked))
        check((rep["allocations"], rep["bytes_allocated"]) == want,
              f"report {' '.join(sel)} from the index: {rep['allocations']} allocations, "
              f"{rep['bytes_allocated']} B; the sample says {want}")
    print(f"  named_threads: 4 thread selections the same from their index")


def cpu_of(*args):
    """memtrace ARGS: (its user + system CPU seconds, its stdout). CPU time, not wall time:
    the machine's other load does not change it much."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([it.ARGS.memtrace, *args], cwd=it.TMP, capture_output=True, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    check(p.returncode == 0, f"memtrace {' '.join(args)}: exit {p.returncode}\n{p.stderr[-2000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), p.stdout


@case(600)
def case_index_10m_events():
    """Issue 18: on a log of 10 million events (bench/gen_log.c), the second `memtrace report`
    (from the index) takes at most a twentieth of the first's CPU time, with the same output."""
    gen = os.path.join(it.TMP, "gen_log")
    src = it.ARGS.source_root
    p = it.run([it.ARGS.cc, "-O2", "-I" + os.path.join(src, "format"),
                os.path.join(src, "bench", "gen_log.c"), "-o", gen, "-lz"])
    check(p.returncode == 0, f"cannot build gen_log\n{show(p)}")
    log = os.path.join(it.TMP, "big.mtr")
    p = it.run([gen, "10000000", log], timeout=300)
    check(p.returncode == 0 and "10000000 events" in p.stderr, f"gen_log\n{show(p)}")
    first, out1 = cpu_of("report", log)
    check(os.path.isfile(idx_of(log)), "the first report left no index")
    second, out2 = cpu_of("report", log)
    check(out1 == out2, "the second report differs from the first")
    check(second * 20 <= first, f"first report {first:.2f} s CPU, second {second:.3f} s: "
          f"not 20 times faster")
    print(f"  first report {first:.2f} s CPU, second {second:.3f} s ({first / second:.0f}x); "
          f"index {os.path.getsize(idx_of(log)):,} B, log {os.path.getsize(log):,} B")
    # a window: its first command reads the log up to the window's end, a later one (another
    # command over the same window) loads the window's index
    win = ["--from", "1", "--to", "2"]
    first, out1 = cpu_of("report", "--format", "json", *win, log)
    second, out2 = cpu_of("report", "--format", "json", *win, log)
    check(out1 == out2 and json.loads(out2)["window"]["to_s"] == 2.0,
          "the second windowed report differs from the first")
    check(second * 20 <= first, f"first windowed report {first:.2f} s CPU, second "
          f"{second:.3f} s: not 20 times faster")
    print(f"  report --from 1 --to 2: first {first:.2f} s CPU, second {second:.3f} s "
          f"({first / second:.0f}x)")
    for f in sel_files(log):
        os.unlink(os.path.join(os.path.dirname(log), f))
    os.unlink(log)
    os.unlink(idx_of(log))
    os.unlink(gen)
