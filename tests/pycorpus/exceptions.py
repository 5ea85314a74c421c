# SPDX-License-Identifier: MIT
# pycorpus-theme: exceptions that keep their frames
"""Requests that fail are remembered with their exception, and an exception keeps its traceback,
which keeps the frame that raised it, which keeps that frame's locals: here the 120 KB request
body of each of the 300 failed requests (36 MB), charged to the `body` line of parse(), though
only the messages are ever read."""

FAILURES = []


def parse(i):
    body = bytearray(120_000)  # the request body, a local of the frame that raises
    body[:4] = i.to_bytes(4, "little")
    if i % 4:
        raise ValueError(f"request {i}: bad header")
    return len(body)


def handle(requests):
    ok = 0
    for i in range(requests):
        try:
            ok += parse(i) > 0
        except ValueError as e:
            FAILURES.append(e)  # e.__traceback__ holds parse's frame, and its body
    return ok


if __name__ == "__main__":
    ok = handle(400)
    print(f"{ok} ok, {len(FAILURES)} failed: {FAILURES[0]}")
