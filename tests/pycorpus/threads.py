# SPDX-License-Identifier: MIT
# pycorpus-theme: threads
"""Four worker threads download 80 chunks of 80 KB each into a shared dict under a lock (25.6 MB
held at the end, at the `chunk` line of worker(), whichever thread ran it), with per-chunk
bookkeeping objects that are freed. The main thread joins them and marks the peak."""
import sys
import threading

RESULTS = {}
LOCK = threading.Lock()


def worker(wid, count):
    for n in range(count):
        chunk = bytes(80_000) + wid.to_bytes(2, "little")  # what the dict keeps
        meta = {"worker": wid, "n": n, "ratio": n / count}
        with LOCK:
            RESULTS[(wid, n)] = chunk
        del meta


if __name__ == "__main__":
    threads = [threading.Thread(target=worker, args=(w, 80), name=f"worker-{w}") for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sys.audit("pycorpus.peak")
    print(f"{len(RESULTS)} chunks, {sum(map(len, RESULTS.values()))} bytes")
