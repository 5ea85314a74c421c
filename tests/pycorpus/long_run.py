# SPDX-License-Identifier: MIT
# pycorpus-theme: a long run (a request loop with a slow leak)
"""A request loop: each request builds a dict with a list of 12 float weights and a path str,
scores it and drops it, except that three requests in four leave their
weights and score in a history list that is never trimmed: the slow leak. The floats, lists,
dicts and tuples of the dropped requests are what CPython's free lists hand to the next request,
so the kept weights must still be charged to the `weights` line. 40,000 requests by default
(about 14 MB held at that line); `python3 long_run.py 4000000` runs for about a minute
(pycorpus.py --long 4000000)."""
import sys

HISTORY = []


def handle(i):
    request = {"id": i, "path": f"/item/{i % 997}/view",
               "weights": [(i + j) * 0.001 for j in range(12)]}  # the weights
    score = sum(request["weights"]) * 1.5
    if i % 4:
        HISTORY.append((i, score, request["weights"]))  # the slow leak
    return score


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000
    total = 0.0
    for i in range(n):
        total += handle(i)
    print(f"{n} requests, {len(HISTORY)} kept, total {total:.1f}")
