# SPDX-License-Identifier: MIT
"""memtrace sample: recursions 600 deep through C, deeper than the 128 Python frames a stack
keeps: one through `map(f, [x])`, one through a `sorted(key=...)` callback. Each allocates a
known number of bytes objects of a known size at its deepest level and keeps them. The stack of
those must show the innermost line (the allocation) and the script's own lines at its root (the
line of main that started the recursion, and the module's line that called main).
Prints `memtrace-pydeep: depth=D map_line=L map_bytes=B map_blocks=K map_start=S sorted_line=..
sorted_bytes=.. sorted_blocks=.. sorted_start=.. main_line=M`."""
import sys

DEPTH = 600
MAP_BLOCKS, MAP_SIZE = 7, 30_001
SORTED_BLOCKS, SORTED_SIZE = 5, 20_001
KEEP = [None] * (MAP_BLOCKS + SORTED_BLOCKS)  # preallocated: no list growth at the lines
LINES = {}


def line_below():
    return sys._getframe(1).f_lineno + 1


def via_map(n):
    if n == 0:
        LINES["map"] = sys._getframe().f_lineno + 2
        for i in range(MAP_BLOCKS):
            KEEP[i] = bytes(MAP_SIZE)
        return 0
    return list(map(via_map, [n - 1]))[0]


def by_key(n):
    if n == 0:
        LINES["sorted"] = sys._getframe().f_lineno + 2
        for i in range(SORTED_BLOCKS):
            KEEP[MAP_BLOCKS + i] = bytes(SORTED_SIZE)
        return 0
    sorted([n - 1], key=by_key)
    return 0


def main():
    sys.setrecursionlimit(10_000)
    LINES["map_start"] = line_below()
    via_map(DEPTH)
    LINES["sorted_start"] = line_below()
    by_key(DEPTH)
    m = sum(sys.getsizeof(b) for b in KEEP[:MAP_BLOCKS])
    s = sum(sys.getsizeof(b) for b in KEEP[MAP_BLOCKS:])
    print(f"memtrace-pydeep: depth={DEPTH} map_line={LINES['map']} map_bytes={m} "
          f"map_blocks={MAP_BLOCKS} map_start={LINES['map_start']} "
          f"sorted_line={LINES['sorted']} sorted_bytes={s} sorted_blocks={SORTED_BLOCKS} "
          f"sorted_start={LINES['sorted_start']} main_line={MAIN_LINE}")


MAIN_LINE = sys._getframe().f_lineno + 2
if __name__ == "__main__":
    main()
