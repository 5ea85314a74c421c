# SPDX-License-Identifier: MIT
# pycorpus-theme: multiprocessing (a Pool of two workers)
"""A Pool of two forked workers renders 12 reports of 2 MB; the parent gets them back unpickled
by the pool's result thread (no frame of this script on that thread's stack, for either tool)
and joins them into one 24 MB bytes object at the `report` line, held to the end. Leaving the
`with` block terminates the workers with SIGTERM: under memtrace each worker's log must still be
complete (pycorpus.py checks every log of the run)."""
from multiprocessing import Pool


def render(n):
    return bytes([65 + n % 26]) * 2_000_000


if __name__ == "__main__":
    with Pool(2) as pool:
        parts = pool.map(render, range(12))
    report = b"".join(parts)  # 24 MB, held to the end of the script
    print(f"{len(parts)} parts, {len(report)} bytes, starts {report[:3].decode()}")
