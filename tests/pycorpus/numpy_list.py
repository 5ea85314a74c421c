# SPDX-License-Identifier: MIT
# pycorpus-theme: a list of floats (numpy_array.py is the same with numpy)
"""Readings of a sensor kept as a list of Python floats: 450,000 float objects of 24 bytes and
the list's 8-byte slots, 14.4 MB at the list comprehension's line (their sum makes no objects).
numpy_array.py keeps 2,000,000 readings in a float64 array of 16 MB."""
import sys

N = 450_000

if __name__ == "__main__":
    readings = [i * 0.25 for i in range(N)]  # the readings
    sys.audit("pycorpus.peak")
    print(f"mean {sum(readings) / N:.3f}")
