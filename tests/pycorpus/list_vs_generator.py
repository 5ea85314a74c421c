# SPDX-License-Identifier: MIT
# pycorpus-theme: a list where a generator would do
"""The same log lines counted twice: through a generator, which makes each line, looks at it
and frees it (nothing held), then through a list, which holds all 100,000 lines (a str of 305
bytes each and the list's 8-byte slot: 31.3 MB) at the list comprehension's line until the end
of the script. The peak is the list, marked with sys.audit("pycorpus.peak")."""
import sys

N = 100_000
AGENT = "Mozilla/5.0 (X11; Linux x86_64) " * 7


def lines_gen(n):
    return (f"GET /item/{i:08d} HTTP/1.1 200 {AGENT}" for i in range(n))


def lines_list(n):
    return [f"GET /item/{i:08d} HTTP/1.1 200 {AGENT}" for i in range(n)]  # all n at once


def errors(lines):
    return sum(1 for line in lines if " 404 " in line)


if __name__ == "__main__":
    by_generator = errors(lines_gen(N))
    LINES = lines_list(N)
    sys.audit("pycorpus.peak")
    by_list = errors(LINES)
    print(f"errors {by_generator} == {by_list}, {len(LINES)} lines kept")
