# SPDX-License-Identifier: MIT
"""memtrace sample: numpy allocates an array's data in C; the stack must show numpy's C
frames above the Python line that asked for it. Prints `memtrace-pynumpy: line=N bytes=B`
(B: the array's data buffer), or `memtrace-pynumpy: skip` without numpy."""
import sys

try:
    import numpy as np
except ImportError:
    print("memtrace-pynumpy: skip")
    sys.exit(0)


def make():
    line = sys._getframe().f_lineno + 1
    a = np.ones(1_000_000)  # 8,000,000 bytes of data from numpy's C allocator
    return a, line


def main():
    a, line = make()
    print(f"memtrace-pynumpy: line={line} bytes={a.nbytes}")


if __name__ == "__main__":
    main()
