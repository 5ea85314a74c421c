// SPDX-License-Identifier: MIT
// memcheck's length64 heuristic, matched: a pointer 8 bytes into a block whose first 8 bytes
// hold the size of the rest (sqlite3's allocator does this): reachable.
#include <stdint.h>
#include <stdlib.h>

static char *payload;

int main(void)
{
    uint64_t *b = malloc(8 + 120);
    b[0] = 120;
    payload = (char *)(b + 1);
    return 0;
}
