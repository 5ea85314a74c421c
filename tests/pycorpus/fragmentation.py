# SPDX-License-Identifier: MIT
# pycorpus-theme: fragmentation (half of many small objects freed)
"""120,000 records (a 2-tuple of a str of 147 bytes and a float) made at one line, then every
other one dropped: the survivors (about 13.6 MB: a tuple, str and float each, and the list's
slot) still pin most of the pymalloc pools the whole lot filled, and glibc's heap keeps the
holes. Held at the end: the surviving half, at the records line. The peak (marked) is all of
them, 27 MB, before the del."""
import sys

N = 120_000
PAD = "x" * 80

if __name__ == "__main__":
    records = [(f"customer-{i:08d}-{PAD}", i * 1.5) for i in range(N)]
    sys.audit("pycorpus.peak")
    del records[::2]
    print(f"{len(records)} records kept")
