// SPDX-License-Identifier: MIT
// A pointer only in a live stack frame when exit() is called is still reachable; memcheck scans
// the stack from the stack pointer up, and so must memtrace.
#include <stdlib.h>

static void deep(int n)
{
    void *volatile on_stack = malloc(300);
    if (n > 0)
        deep(n - 1);
    else
        exit(0);
    (void)on_stack;
}

int main(void)
{
    void *volatile in_main = malloc(77);
    void *volatile gone = malloc(33);
    gone = NULL;
    deep(3); /* 4 frames, each holding a 300-byte block */
    (void)in_main;
    return 0;
}
