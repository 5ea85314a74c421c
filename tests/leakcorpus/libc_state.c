// SPDX-License-Identifier: MIT
// State the C library allocates and keeps for the program: setenv's copy (reachable through
// environ), an fopen'ed FILE never closed and its buffer (reachable through the list of open
// streams). valgrind has glibc release the environment copies and stream buffers first
// (__libc_freeres), so only the FILE remains.
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    if (setenv("MEMTRACE_CORPUS_VAR", "a value", 1) != 0)
        return 1;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 1;
    return getc(f) == EOF;
}
