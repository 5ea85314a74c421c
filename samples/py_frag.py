# SPDX-License-Identifier: MIT
# Python sample: a script that frees every other one of its big objects, leaving holes in
# glibc's heap that only the end of the script shows (finalization frees the rest), and a line
# that churns the allocator with short-lived objects. Prints
# "memtrace-pyfrag: kept=K kept_bytes=B freed=F freed_bytes=G churn_line=L churn=C".
import sys

BIG = [bytes(3000) for _ in range(30_000)]  # malloc'd by pymalloc's fallback: glibc's heap
FREED = BIG[::2]
del BIG[::2]
freed, freed_bytes = len(FREED), sum(sys.getsizeof(b) for b in FREED)
del FREED

CHURN = 20_000
for i in range(CHURN):
    n = len(bytearray(100)); churn_line = sys._getframe().f_lineno

print(f"memtrace-pyfrag: kept={len(BIG)} kept_bytes={sum(sys.getsizeof(b) for b in BIG)} "
      f"freed={freed} freed_bytes={freed_bytes} churn_line={churn_line} churn={CHURN}")
