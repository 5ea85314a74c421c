# SPDX-License-Identifier: MIT
# pycorpus-theme: a long run (a request loop with a slow leak)
"""A request loop: each request builds a dict with a list of 12 float weights and a path str,
scores it (12 float temporaries, in a list freed when the request ends) and drops it, except
that one request in STRIDE leaves its weights and score in a history list that is never
trimmed: the slow leak, about 30,000 requests' worth however long the run. The floats, lists and
dicts of each request and its score's temporaries are what CPython's free lists hand to the next
request, so the kept weights must still be charged to the `weights` line (`memtrace run
--keep-free-lists` charges most of them to the `scaled` line). 40,000 requests by default (all
kept: 18.9 MB at the weights line); `python3 long_run.py 2000000` keeps 30,304 of 2,000,000
requests (pycorpus.py --long 2000000)."""
import sys

HISTORY = []
STRIDE = 1


def handle(i):
    request = {"id": i, "path": f"/item/{i % 997}/view",
               "weights": [(i + j) * 0.001 for j in range(12)]}  # the weights
    scaled = [w * 1.5 for w in request["weights"]]  # 12 temporaries, freed on return
    score = sum(scaled)
    if i % STRIDE == 0:
        HISTORY.append((i, score, request["weights"]))  # the slow leak
    return score


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000
    STRIDE = max(1, n // 30_000)
    total = 0.0
    for i in range(n):
        total += handle(i)
    print(f"{n} requests, {len(HISTORY)} kept, total {total:.1f}")
