# SPDX-License-Identifier: MIT
"""memtrace sample: threads named the Python way, threading.Thread(name="loader-N"), each keeping
a known number of bytes objects made at one line (make), all held when the script ends.
Prints one line per thread:
  memtrace-pythread: name=loader-N tid=TID objects=K object_bytes=S kept_bytes=B line=L
where kept_bytes is what the thread's objects and its list take (sys.getsizeof)."""
import sys
import threading

SIZE = 1000
COUNTS = [100, 200, 300]
KEEP = [None] * len(COUNTS)  # filled by index: no dict of the main thread grows in a loader


def make(n):
    return bytes(n)


def load(i):
    items = [None] * COUNTS[i]
    for k in range(COUNTS[i]):
        items[k] = make(SIZE)
    KEEP[i] = items


def main():
    line = make.__code__.co_firstlineno + 1
    ts = [threading.Thread(target=load, args=(i,), name=f"loader-{i}") for i in range(len(COUNTS))]
    for t in ts:
        t.start()
        t.join()  # one at a time: each thread's figures are its own, whatever the machine
    for i, t in enumerate(ts):
        kept = sys.getsizeof(KEEP[i]) + sum(sys.getsizeof(x) for x in KEEP[i])
        print(f"memtrace-pythread: name={t.name} tid={t.native_id} objects={COUNTS[i]} "
              f"object_bytes={sys.getsizeof(KEEP[i][0])} kept_bytes={kept} line={line}")


if __name__ == "__main__":
    main()
