# SPDX-License-Identifier: MIT
# pycorpus-theme: ctypes buffers and libc's malloc
"""32 ctypes string buffers of 1 MiB (their memory comes from Python's allocator: 32 MiB at the
BUFFERS line, which tracemalloc sees), and 12 blocks of 1 MiB from libc's own malloc, called
through ctypes.CDLL("libc.so.6") (12 MiB at the NATIVE line, outside Python's allocators: memtrace
sees them, tracemalloc cannot). Both are held to the end of the script."""
import ctypes
import sys

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]

if __name__ == "__main__":
    BUFFERS = [ctypes.create_string_buffer(1 << 20) for _ in range(32)]
    NATIVE = [libc.malloc(1 << 20) for _ in range(12)]  # pycorpus-untraced: 12582912
    for p in NATIVE:
        ctypes.memset(p, 0x5A, 1 << 20)
    sys.audit("pycorpus.peak")
    print(f"{len(BUFFERS)} buffers, {len(NATIVE)} native blocks, "
          f"{sum(ctypes.string_at(p, 4) == b'ZZZZ' for p in NATIVE)} filled")
