# SPDX-License-Identifier: MIT
# pycorpus-theme: reference cycles with __del__
"""Connections in a cycle with their session (connection -> session -> connection), each class
with a __del__: only the cyclic garbage collector frees them (PEP 442 lets it call __del__), and
Connection.__del__ hands its 64 KB buffer back to a module-level pool, which keeps it. At the
end of the script, after a last gc.collect(), the pool holds all 500 buffers (32 MB), charged to
the `bytearray` line of Connection.__init__; the sessions' small state (dicts, floats, tuples,
from CPython's free lists) is gone with them."""
import gc

POOL = []  # buffers of connections that went away, kept for reuse (and never reused)
CLOSED = 0


class Session:
    def __init__(self, conn, n):
        self.conn = conn  # the cycle
        self.state = {"n": n, "rtt": n * 0.001, "window": (n, n + 1, n + 2)}

    def __del__(self):
        global CLOSED
        CLOSED += 1


class Connection:
    def __init__(self, n):
        self.buffer = bytearray(64 * 1024)  # the pool keeps it after the connection dies
        self.session = Session(self, n)

    def __del__(self):
        POOL.append(self.buffer)


def serve(requests):
    for n in range(requests):
        conn = Connection(n)
        conn.session.state["rtt"] += 0.5
    # conn's cycles are unreachable now; the collector finds them as it runs


if __name__ == "__main__":
    serve(500)
    gc.collect()
    print(f"{CLOSED} sessions closed, {len(POOL)} buffers pooled")
