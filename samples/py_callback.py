# SPDX-License-Identifier: MIT
"""memtrace sample: C code between two Python frames. libc's qsort, called through ctypes,
calls back into Python, and the callback allocates: its stack must show the callback, then
qsort and the C frames that called it, then the Python line that called qsort.
Prints `memtrace-pycallback: callback_line=N caller_line=M calls=C bytes=B`."""
import ctypes
import ctypes.util
import sys

LINES = {}
KEPT = []
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))


def compare(a, b):
    LINES["callback"] = sys._getframe().f_lineno + 1
    KEPT.append(bytes(2000))
    return a[0] - b[0]


def sort_them(libc):
    arr = (ctypes.c_int * 64)(*range(64, 0, -1))
    LINES["caller"] = sys._getframe().f_lineno + 1
    libc.qsort(arr, len(arr), ctypes.sizeof(ctypes.c_int), CMP(compare))
    return list(arr)


def main():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    assert sort_them(libc) == list(range(1, 65))
    print(f"memtrace-pycallback: callback_line={LINES['callback']} caller_line={LINES['caller']} "
          f"calls={len(KEPT)} bytes={sum(sys.getsizeof(x) for x in KEPT)}")


if __name__ == "__main__":
    main()
