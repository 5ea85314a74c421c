# SPDX-License-Identifier: MIT
"""memtrace sample: pymalloc arenas kept alive by a few survivors. 300,000 small objects fill
many 1 MiB arenas; all but every 200th are dropped, so most arenas stay mapped, nearly empty.

Prints `memtrace-pyarenas: highwater=H current=C` from pymalloc's own statistics
(sys._debugmallocstats): the most arenas mapped at once, and those mapped at the end
("unknown" under memtrace, see below)."""
import os
import re
import sys
import tempfile


SURVIVORS = []  # module-level: alive until the end of the script


def main():
    objs = [(i, i + 1, str(i)) for i in range(300_000)]
    SURVIVORS.extend(objs[::200])
    del objs
    # _debugmallocstats writes to the C stderr: catch it in a file.
    with tempfile.TemporaryFile(mode="w+") as f:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(f.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        stats = f.read()
    # Under memtrace pymalloc sits behind memtrace's hooks and prints no statistics (CPython
    # only does when PyObject_Malloc is its own): the test takes them from a plain run.
    hw = re.search(r"# arenas highwater mark\s*=\s*([\d,]+)", stats)
    cur = re.search(r"# arenas allocated current\s*=\s*([\d,]+)", stats)
    hw = hw.group(1).replace(",", "") if hw else "unknown"
    cur = cur.group(1).replace(",", "") if cur else "unknown"
    print(f"memtrace-pyarenas: highwater={hw} current={cur} survivors={len(SURVIVORS)}")


if __name__ == "__main__":
    main()
