# SPDX-License-Identifier: MIT
# Python sample: objects that CPython would take from its free lists (floats, tuples, lists,
# dicts and dict key tables). scratch() makes and drops temporaries of each type; remember()
# keeps one of each per call, on a line of its own. Without care the kept objects reuse the
# temporaries' memory and are charged to scratch()'s lines (issue 17, item 1). Prints
# "memtrace-pyfreelist: n=N float=L tuple=L list=L dict=L scratch=L" (the lines).
import sys

KEEP = []


def line():
    return sys._getframe(1).f_lineno


def scratch(i):
    tmp = [(float(j) * 1.5, (j, i), [j], {"j": j}) for j in range(50)]; LINES["scratch"] = line()
    return len(tmp)


def remember(i):
    f = float(i) + 0.25; LINES["float"] = line()
    t = (f, f); LINES["tuple"] = line()
    lst = [f]; LINES["list"] = line()
    d = {"k": f}; LINES["dict"] = line()
    KEEP.append((f, t, lst, d))


LINES = {}
N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
for i in range(N):
    scratch(i)
    remember(i)
print("memtrace-pyfreelist: n=%d %s" % (N, " ".join("%s=%d" % kv for kv in sorted(LINES.items()))))
