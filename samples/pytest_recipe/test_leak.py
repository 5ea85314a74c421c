# SPDX-License-Identifier: MIT
# memtrace sample for the CI recipe: one test leaves 1,000,000 bytes in a module-level list,
# held until the end of the pytest session. The line marked "the leak" is the one memtrace
# must name.
CACHE = []


def test_fills_cache():
    CACHE.append(bytearray(1_000_000))  # the leak
    assert len(CACHE) == 1
