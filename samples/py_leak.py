# SPDX-License-Identifier: MIT
"""memtrace sample: a module-level cache that grows at a known line and is never emptied.

Prints `memtrace-pyleak: file=... line=N bytes=B blocks=K`: the line that leaks, and what is
still held there when the script ends (sys.getsizeof of each cached object: bytes(100_000) is
one 100,033-byte block from PyObject_Calloc)."""
import sys

N = 20
CACHE = [None] * N  # preallocated: appending would grow the list's array on the leak line


def leak_line():
    return sys._getframe(1).f_lineno + 1


def handle(i):
    scratch = bytes(50_000)  # temporary: freed when handle returns
    line = leak_line()
    CACHE[i] = bytes(100_000)  # the leak
    return len(scratch), line


def main():
    line = 0
    for i in range(N):
        _, line = handle(i)
    leaked = sum(sys.getsizeof(b) for b in CACHE)
    print(f"memtrace-pyleak: file={__file__} line={line} bytes={leaked} blocks={len(CACHE)}")


if __name__ == "__main__":
    main()
