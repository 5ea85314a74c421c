# SPDX-License-Identifier: MIT
"""memtrace sample: four threads allocate at a known line each, and hold it until joined.
Prints `memtrace-pythreads: line=N blocks=K bytes=B` (every thread keeps 50 x bytes(20_000))."""
import sys
import threading

KEEP = {}


def work(tid, ready):
    line = sys._getframe().f_lineno + 1
    KEEP[tid] = [bytes(20_000) for _ in range(50)]
    ready.append(line)


def main():
    ready = []
    ts = [threading.Thread(target=work, args=(i, ready)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    n = sum(len(v) for v in KEEP.values())
    b = sum(sys.getsizeof(x) for v in KEEP.values() for x in v)
    print(f"memtrace-pythreads: line={ready[0]} blocks={n} bytes={b}")


if __name__ == "__main__":
    main()
