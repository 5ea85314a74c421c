# SPDX-License-Identifier: MIT
"""memtrace sample: samples/stress.c in Python. 16 threading.Thread workers call the C library's
malloc, realloc and free through ctypes (the calls release the GIL, so they run at once), hand
blocks to each other through queue.Queue to be freed there, and build and drop Python objects
between the calls.

    python3 py_stress.py [OPS_PER_THREAD]      (default 4000)

Ground truth, counted by the script and printed as its last lines:
  memtrace-sample: allocations=A frees=F leaked_bytes=B leaked_blocks=K
    the native calls made here (realloc of a live block counts as an allocation and a free, as
    memtrace counts it), and the LEAK_SLOTS blocks per thread kept on purpose at the end;
  memtrace-pystress: cross_frees=C reused=R
    C blocks freed by another thread than the one that allocated them, R addresses that malloc
    or realloc returned to a thread while another thread had freed them last (address reuse
    across threads: the log must order that free before this allocation).
"""
import ctypes
import queue
import random
import sys
import threading

THREADS = 16
SLOTS = 256
LEAK_SLOTS = 4

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.realloc.restype = ctypes.c_void_p
libc.realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.free.restype = None
libc.free.argtypes = [ctypes.c_void_p]

queues = [queue.Queue() for _ in range(THREADS)]
# The last thread that freed each address; dict updates are atomic under the GIL. Written before
# the free, so that whoever gets the address back from malloc sees it.
last_freer = {}
done = threading.Barrier(THREADS)


class Worker:
    def __init__(self, tid, ops):
        self.tid = tid
        self.ops = ops
        self.rng = random.Random(1000 + tid)
        self.slots = [None] * SLOTS  # (address, size)
        self.objects = []
        self.allocations = self.frees = self.cross_frees = self.reused = 0
        self.leaked_bytes = self.leaked_blocks = 0

    def got(self, p):
        if not p:
            raise MemoryError("malloc failed")
        who = last_freer.get(p)
        if who is not None and who != self.tid:
            self.reused += 1

    def release(self, p):
        last_freer[p] = self.tid
        libc.free(p)
        self.frees += 1

    def drain(self, block):
        q = queues[self.tid]
        while True:
            try:
                p = q.get(block)
            except queue.Empty:
                return
            if p is None:
                return
            self.release(p)
            self.cross_frees += 1
            block = False

    def size(self):
        r = self.rng.random()
        return self.rng.randint(1, 16384) if r < 0.125 else self.rng.randint(1, 256)

    def one_op(self):
        i = self.rng.randrange(SLOTS)
        op = self.rng.randrange(100)
        s = self.slots[i]
        if s is None:
            n = self.size()
            p = libc.malloc(n)
            self.got(p)
            self.allocations += 1
            self.slots[i] = (p, n)
        elif op < 30:
            n = self.size()
            last_freer[s[0]] = self.tid
            p = libc.realloc(s[0], n)
            self.got(p)
            self.allocations += 1
            self.frees += 1
            self.slots[i] = (p, n)
        elif op < 70:
            self.release(s[0])
            self.slots[i] = None
        else:
            to = self.rng.randrange(THREADS)
            if to == self.tid:
                self.release(s[0])
            else:
                queues[to].put(s[0])
            self.slots[i] = None
        # Python objects too: memtrace sees them through the interpreter's allocator hooks.
        self.objects.append([op, str(i) * (op % 7), bytes(op)])
        if len(self.objects) > 64:
            del self.objects[: self.rng.randrange(64)]

    def run(self):
        for k in range(self.ops):
            self.one_op()
            if k % 16 == 0:
                self.drain(False)
        done.wait()  # nobody hands anything over after this
        queues[self.tid].put(None)
        self.drain(True)
        kept = 0
        for i, s in enumerate(self.slots):
            if s is None:
                continue
            if kept < LEAK_SLOTS:
                kept += 1
                self.leaked_bytes += s[1]
                self.leaked_blocks += 1
            else:
                self.release(s[0])
                self.slots[i] = None


def main():
    ops = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    workers = [Worker(t, ops) for t in range(THREADS)]
    ts = [threading.Thread(target=w.run, name=f"stress-{w.tid}") for w in workers]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    total = {k: sum(getattr(w, k) for w in workers)
             for k in ("allocations", "frees", "leaked_bytes", "leaked_blocks", "cross_frees",
                       "reused")}
    print(f"memtrace-sample: allocations={total['allocations']} frees={total['frees']} "
          f"leaked_bytes={total['leaked_bytes']} leaked_blocks={total['leaked_blocks']}")
    print(f"memtrace-pystress: cross_frees={total['cross_frees']} reused={total['reused']}")


if __name__ == "__main__":
    main()
