# SPDX-License-Identifier: MIT
# pycorpus-theme: a numpy array of floats (numpy_list.py is the same with a list)
"""numpy_list.py's readings in a float64 array, and more of them: 2,000,000 readings (16 MB,
scaled in place at the arange line: no temporary) and the squares of the first half (8 MB), both
held to the end; the peak (marked) is the two together. Importing numpy holds about 11 MB of its
own. The arrays' buffers come from numpy's allocator (malloc), which tells tracemalloc about
them."""
import sys

import numpy as np

N = 2_000_000

if __name__ == "__main__":
    readings = np.arange(N, dtype=np.float64)  # the readings
    readings *= 0.25
    squares = np.square(readings[: N // 2])  # the squares of the first half
    sys.audit("pycorpus.peak")
    print(f"mean square {squares.mean():.3f}")
