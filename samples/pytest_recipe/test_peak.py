# SPDX-License-Identifier: MIT
# memtrace sample for the CI recipe: one test allocates 48,000,000 bytes at once and frees them,
# so the heap's peak is above a 32 MiB limit. The line marked "the peak" is the one memtrace
# must name.
def test_big_buffer():
    data = bytearray(48_000_000)  # the peak
    assert len(data) == 48_000_000
