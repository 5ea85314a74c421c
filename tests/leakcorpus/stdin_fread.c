// SPDX-License-Identifier: MIT
// A stream read only with large freads (compressors, grep tools read so): glibc allocates its
// buffer, but no read goes through __underflow, so the stream never gets a byte orientation.
// exit's _IO_cleanup orients it, and memcheck's __libc_freeres, which runs after that, frees
// its buffer; it must not be reported.
#include <stdio.h>

static char big[1 << 16];

int main(void)
{
    if (!freopen("/dev/null", "r", stdin))
        return 1;
    size_t n = fread(big, 1, sizeof big, stdin);
    printf("read %zu bytes\n", n);
    return 0;
}
