# SPDX-License-Identifier: MIT
"""memtrace sample: a known peak line, and a line that allocates far more in total but never
holds more than one small block at a time (it must not show at the peak).

Prints `memtrace-pypeak: peak_line=N churn_line=M peak_bytes=B`, B being what the peak line
holds (sys.getsizeof of its objects and the list's item array). Under tracemalloc
(python3 -X tracemalloc) it also prints `tracemalloc_peak=P`."""
import sys
import tracemalloc


def here():
    return sys._getframe(1).f_lineno


def hold():
    line = here() + 1
    big = [bytes(1000) for _ in range(10_000)]  # the peak: ~10 MB held at once
    return big, line


def churn():
    line = here() + 3
    total = 0
    for _ in range(50_000):
        total += len(bytes(4000))  # 200 MB in total, 4 KB at a time
    return total, line


def main():
    _, churn_line = churn()
    big, peak_line = hold()
    # The list's item array counts; its 56-byte object may come from CPython's list free list
    # (no allocation at all), so it is left out here and allowed for in the test.
    held = sum(sys.getsizeof(b) for b in big) + sys.getsizeof(big) - sys.getsizeof([])
    del big
    extra = ""
    if tracemalloc.is_tracing():
        extra = f" tracemalloc_peak={tracemalloc.get_traced_memory()[1]}"
    print(f"memtrace-pypeak: peak_line={peak_line} churn_line={churn_line} "
          f"peak_bytes={held}{extra}")


if __name__ == "__main__":
    main()
