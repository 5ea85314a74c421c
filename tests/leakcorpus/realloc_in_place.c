// SPDX-License-Identifier: MIT
// A block shrunk by realloc stays where it was (glibc splits it in place), so a copy of the
// pointer the program passed to realloc still points at the block's start: reachable. mawk
// keeps such a copy (a 216-byte block of its own, which memcheck calls possibly lost).
// memtrace-vs-valgrind: known-difference: valgrind's realloc always moves the block, so under
// valgrind the copy points at freed memory and the block is lost; natively glibc returns the
// same address (checked with gdb in mawk: realloc(p, 216) returned p) and the copy holds it.
#include <stdlib.h>

static void *copy;

int main(void)
{
    char *p = malloc(300);
    copy = p;
    char *volatile q = realloc(p, 216);
    int moved = q != copy;
    q = NULL;
    return moved;
}
