# SPDX-License-Identifier: MIT
# pycorpus-theme: signal handlers that allocate
"""A SIGUSR1 handler that records a state dump of 80 KB each time it runs; the script sends
itself the signal 400 times with os.kill (each handled before the next is sent, as CPython runs
a handler at the next instruction of the main thread). 32 MB held at the end, at the handler's
`dump` line; the handler's count is printed, so a signal lost or merged under memtrace changes
the output."""
import os
import signal

DUMPS = []


def on_usr1(signum, frame):
    dump = bytes(80_000) + frame.f_lineno.to_bytes(4, "little")  # the state dump, kept
    DUMPS.append(dump)


if __name__ == "__main__":
    signal.signal(signal.SIGUSR1, on_usr1)
    for _ in range(400):
        os.kill(os.getpid(), signal.SIGUSR1)
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    print(f"{len(DUMPS)} dumps")
