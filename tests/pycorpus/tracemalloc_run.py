# SPDX-License-Identifier: MIT
# The tracemalloc side of the Python corpus: `python3 -X tracemalloc=25 tracemalloc_run.py OUT
# SCRIPT [ARGS...]` runs SCRIPT as `python3 SCRIPT ARGS` would (as __main__, its directory first
# on sys.path, its own argv) and writes what tracemalloc saw to OUT as JSON.
#
# It must stay light: every module it imports before the script runs is one the script then
# imports for free, and every object it makes is traced. So it imports only what `python3`
# has loaded at start-up anyway (sys, atexit and _tracemalloc are built in) and reads the traces
# through _tracemalloc, not the tracemalloc module (which imports pickle, fnmatch, linecache).
#
# Two moments, the same as memtrace's:
# - the end of the script: an atexit callback registered before the script runs, so it runs
#   after the script's own callbacks and after the interpreter has joined the script's threads,
#   where memtrace's end-of-script marker is;
# - the script's peak, when the script marks it with sys.audit("pycorpus.peak"): the traced
#   memory then and per line. tracemalloc's peak of traced memory (get_traced_memory()[1]) is
#   taken as well, over the whole run, from interpreter start-up (-X tracemalloc, as memtrace
#   records from start-up).
# Per line: each traced block is charged to the innermost frame of its traceback (25 frames)
# that is in the script's file, as memtrace's figures are read in pycorpus.py; a block without
# such a frame is counted as "elsewhere".
import _tracemalloc
import atexit
import sys

OUT = None
SCRIPT = None
RESULT = {}


def by_line():
    """{line: [bytes, blocks]} of the traced blocks whose innermost frame in the script's file is
    that line, and [bytes, blocks] of the others, from the raw traces (innermost frame first)."""
    traces = _tracemalloc._get_traces()
    lines = {}
    elsewhere = [0, 0]
    script = SCRIPT
    for _domain, size, frames, _total in traces:
        for filename, lineno in frames:
            if filename == script:
                figure = lines.get(lineno)
                if figure is None:
                    lines[lineno] = [size, 1]
                else:
                    figure[0] += size
                    figure[1] += 1
                break
        else:
            elsewhere[0] += size
            elsewhere[1] += 1
    del traces
    return lines, elsewhere


def at_peak(event, _args):
    if event != "pycorpus.peak":
        return
    current, peak = _tracemalloc.get_traced_memory()
    RESULT["peak_so_far"] = peak
    lines, elsewhere = by_line()
    RESULT["marked"] = {"traced": current, "lines": lines, "elsewhere": elsewhere}
    # Reading the traces made objects of their own (traced): forget that high, the highest
    # before it is kept above.
    _tracemalloc.reset_peak()


def at_end():
    current, peak = _tracemalloc.get_traced_memory()
    lines, elsewhere = by_line()
    RESULT["end"] = {"traced": current, "lines": lines, "elsewhere": elsewhere}
    RESULT["peak"] = max(peak, RESULT.get("peak_so_far", 0))
    RESULT["frames"] = _tracemalloc.get_traceback_limit()
    import json  # only now: its import is traced, after the figures are taken

    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(RESULT, f)


def main():
    global OUT, SCRIPT
    if not _tracemalloc.is_tracing():
        sys.exit("tracemalloc_run.py: run it under python3 -X tracemalloc=25")
    OUT, SCRIPT = sys.argv[1], sys.argv[2]
    sys.argv = sys.argv[2:]
    sys.path[0] = SCRIPT.rpartition("/")[0] or "."
    with open(SCRIPT, "rb") as f:
        code = compile(f.read(), SCRIPT, "exec")
    # A __main__ of the script's own, as python3 SCRIPT makes it; never given back to this
    # wrapper, so that the script's globals live until the end, as they do in a plain run.
    main_module = type(sys)("__main__")
    main_module.__file__ = SCRIPT
    main_module.__builtins__ = __builtins__
    main_module.__cached__ = None
    sys.modules["__main__"] = main_module
    atexit.register(at_end)
    sys.addaudithook(at_peak)
    exec(code, main_module.__dict__)


main()
