# SPDX-License-Identifier: MIT
# Python sample: a module-level list that still holds N bytes objects when the script ends.
# Interpreter finalization frees them, so "not freed at exit" says little; what the script
# held at its end is the figure a user means (issue 17, item 2). Prints its own numbers:
# "memtrace-pyheld: n=N objects_bytes=B line=L" (B: the objects' allocated sizes, their sum).
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
KEEP = [bytes(1000) for _ in range(N)]  # the line that holds the memory
LINE = sys._getframe().f_lineno - 1
print(f"memtrace-pyheld: n={N} objects_bytes={sum(sys.getsizeof(b) for b in KEEP)} line={LINE}")
