# SPDX-License-Identifier: MIT
"""memtrace sample: a generator allocates at a known line; its frame (owned by the generator
object, not the thread) must show with its consumer below it.
Prints `memtrace-pygen: gen_line=N consumer_line=M blocks=K bytes=B argtuple=T` (T: the size
of bytes(30_000)'s argument tuple)."""
import sys

LINES = {}


def produce(n):
    LINES["gen"] = sys._getframe().f_lineno + 2
    for _ in range(n):
        yield bytes(30_000)


def consume():
    LINES["consumer"] = sys._getframe().f_lineno + 1
    kept = list(produce(40))
    return kept


def main():
    kept = consume()
    b = sum(sys.getsizeof(x) for x in kept)
    print(f"memtrace-pygen: gen_line={LINES['gen']} consumer_line={LINES['consumer']} "
          f"blocks={len(kept)} bytes={b} argtuple={sys.getsizeof((0,))}")


if __name__ == "__main__":
    main()
