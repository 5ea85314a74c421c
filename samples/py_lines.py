# SPDX-License-Identifier: MIT
"""memtrace sample for `memtrace lines`: lines whose figures the script knows itself.

- make_ints builds a list of N ints above 256 (an object each) kept until the end;
- total_squares feeds sum() from a generator: a million temporaries, nothing kept but the sum;
- main calls both (its lines include their callees), and nest recurses: its recursive line is
  in the stack several times but counts each allocation once.

Prints `memtrace-pylines: key=value ...` (the line numbers and expected bytes, from
sys.getsizeof); with --truth FILE also writes them there as JSON. With --tracemalloc FILE (run
under `python3 -X tracemalloc`), writes tracemalloc's bytes per line of this file at the end of
the script there, as JSON, for comparison.
"""
import json
import math
import sys

N = 1_000_000
DEPTH = 5
KEEP = None  # declared here so that main's assignments do not grow the module's dict
TOTAL = None
NESTED = None
LINES = {}


def here(name, offset):
    LINES[name] = sys._getframe(1).f_lineno + offset


def make_ints(n):
    here("list", 1)
    return [i + 1000 for i in range(n)]  # the list and its n int objects stay


def total_squares(n):
    here("generator", 1)
    return sum(i * i for i in range(n))  # temporaries only: i and i * i, freed at once


def nest(k):
    here("recursive", 2)
    if k:
        return nest(k - 1)  # in the stack DEPTH times for the one allocation below
    return bytes(100_000)


def main():
    global KEEP, TOTAL, NESTED
    here("call_list", 1)
    KEEP = make_ints(N)
    here("call_generator", 1)
    TOTAL = total_squares(N)
    NESTED = nest(DEPTH)


# What CPython 3.11 asks its allocator for, per int: sys.getsizeof's header and digits, except
# that an int of one 30-bit digit (257 <= i < 2**30) is allocated as a whole PyLongObject
# struct, 24 + 4 bytes rounded up to 8 (longobject.c, _PyLong_FromMedium): 32, not 28.
ONE_DIGIT = 2**30
STRUCT_INT = (int.__basicsize__ + int.__itemsize__ + 7) // 8 * 8


def int_allocation(v):
    return max(sys.getsizeof(v), STRUCT_INT) if abs(v) < ONE_DIGIT else sys.getsizeof(v)


def generator_truth():
    """Ints the generator line allocates: range yields i (an object from 257 on), the
    generator computes i * i (from 17 * 17 on); both freed at once. Summed by digit count (one
    or two 30-bit digits) instead of one by one, so the check adds no million allocations."""
    assert (N - 1) ** 2 < ONE_DIGIT**2
    firsts = N - 257
    first_bytes = firsts * int_allocation(N - 1)
    two_digits_from = math.isqrt(ONE_DIGIT - 1) + 1  # the first i whose square has 2 digits
    squares_one = two_digits_from - 17
    squares_two = N - two_digits_from
    square_bytes = (squares_one * int_allocation(17 * 17)
                    + squares_two * int_allocation((N - 1) ** 2))
    assert int_allocation(two_digits_from**2) == int_allocation((N - 1) ** 2)
    return firsts + squares_one + squares_two, first_bytes + square_bytes


def truth():
    gen_ints, gen_bytes = generator_truth()
    # the list's ints all have one digit, so they are allocated alike
    assert 257 <= min(KEEP) and max(KEEP) < ONE_DIGIT
    return {
        "list_line": LINES["list"],
        # the list object, its item array and its ints: what the line holds at the end
        "list_bytes": sys.getsizeof(KEEP) + len(KEEP) * int_allocation(KEEP[-1]),
        "list_ints": len(KEEP),
        "generator_line": LINES["generator"],
        "generator_ints": gen_ints,
        "generator_int_bytes": gen_bytes,
        "total_bytes": sys.getsizeof(TOTAL),
        "call_list_line": LINES["call_list"],
        "call_generator_line": LINES["call_generator"],
        "recursive_line": LINES["recursive"],
        "nested_bytes": sys.getsizeof(NESTED),
        "depth": DEPTH,
    }


def tracemalloc_lines(path):
    import tracemalloc

    snap = tracemalloc.take_snapshot()
    me = __file__
    per_line = {s.traceback[0].lineno: s.size for s in snap.statistics("lineno")
                if s.traceback[0].filename == me}
    with open(path, "w") as fh:
        json.dump({str(k): v for k, v in per_line.items()}, fh)


if __name__ == "__main__":
    main()
    if "--tracemalloc" in sys.argv:
        tracemalloc_lines(sys.argv[sys.argv.index("--tracemalloc") + 1])
    else:
        t = truth()
        if "--truth" in sys.argv:
            with open(sys.argv[sys.argv.index("--truth") + 1], "w") as fh:
                json.dump(t, fh)
        print("memtrace-pylines: " + " ".join(f"{k}={v}" for k, v in t.items()))
