# SPDX-License-Identifier: MIT
# memtrace sample, a pytest suite for the CI recipe (README, "Python in CI"): tests that allocate,
# print, log and use the standard library's caches, and keep nothing. Under
# `memtrace run --error-exitcode 3 --fail-leaked-above 64K -- python3 -m pytest` it must pass
# with pytest's own output unchanged.
import json
import logging
import re


def test_temporary_buffer():
    data = bytearray(8_000_000)  # freed when the test returns
    assert len(data) == 8_000_000


def test_prints_and_logs():
    print("some output " * 100)
    logging.getLogger("memtrace.sample").warning("a warning")


def test_standard_library():
    assert re.match(r"(\d+)-(\w+)", "12-ab")
    assert json.loads('{"a": [1, 2, 3]}')["a"] == [1, 2, 3]
    assert sorted({i % 7 for i in range(1000)}) == list(range(7))
