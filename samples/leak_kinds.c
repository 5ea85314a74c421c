// SPDX-License-Identifier: MIT
// One leak of each kind, with exact sizes, for the leak checker's tests (memtrace and valgrind
// must agree on it block for block).
//
// Ground truth, printed as the last line:
//   memtrace-leaks: definite=196/2 indirect=96/2 possible=64/1 reachable=200/1
//   definite   lost_block: malloc(100), pointer dropped                    100 bytes, 1 block
//              lost_list: head malloc(96) whose 2 nodes are only reachable from it
//              (valgrind's "192 (96 direct, 96 indirect) bytes")           96 bytes, 1 block
//   indirect   the 2 list nodes, malloc(48) each                           96 bytes, 2 blocks
//   possible   possible_block: malloc(64), only a pointer 16 bytes in is kept  64 bytes
//   reachable  reachable_block: malloc(200) held by a global              200 bytes, 1 block
//   and the usual sample line: memtrace-sample: allocations=6 frees=0 leaked_bytes=556
//   leaked_blocks=6
// No stdio: the line is formatted into a stack buffer and written with write(2), so the C
// library allocates nothing that would show up as reachable.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
    struct node *next;
    char payload[40];
};

void *volatile reachable_root;
char *volatile interior_root;

__attribute__((noinline)) static void lost_block(void)
{
    char *volatile p = malloc(100);
    memset(p, 1, 100);
}

__attribute__((noinline)) static void lost_list(void)
{
    struct node **head = malloc(96);
    memset(head, 0, 96);
    struct node *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    a->next = b;
    head[0] = a;
}

__attribute__((noinline)) static void possible_block(void)
{
    char *p = calloc(1, 64);
    interior_root = p + 16;
}

__attribute__((noinline)) static void reachable_block(void)
{
    reachable_root = malloc(200);
    memset(reachable_root, 2, 200);
}

/* Overwrites the stack where the functions above kept their pointers, so only the roots the
 * program means to keep remain (valgrind and memtrace both scan the stack conservatively). */
__attribute__((noinline)) static void clobber_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

int main(void)
{
    lost_block();
    lost_list();
    possible_block();
    reachable_block();
    clobber_stack();
    char line[160];
    int n = snprintf(line, sizeof line,
                     "memtrace-leaks: definite=%d/%d indirect=%d/%d possible=%d/%d "
                     "reachable=%d/%d\n"
                     "memtrace-sample: allocations=6 frees=0 leaked_bytes=%d leaked_blocks=6\n",
                     100 + 96, 2, 2 * 48, 2, 64, 1, 200, 1, 100 + 96 + 2 * 48 + 64 + 200);
    if (write(1, line, (size_t)n) != n)
        return 1;
    return 0;
}
