// SPDX-License-Identifier: MIT
// memcheck's stdstring heuristic, matched: a pointer 3 words into a block laid out as the old
// std::string rep {length, capacity, refcount, chars..., '\0'} with length <= capacity and
// block size == 3 words + capacity + 1: reachable, not possibly lost.
#include <stdlib.h>
#include <string.h>

static char *str;

int main(void)
{
    size_t cap = 20, *rep = malloc(3 * sizeof(size_t) + cap + 1);
    rep[0] = 11;
    rep[1] = cap;
    rep[2] = 0;
    str = (char *)(rep + 3);
    memcpy(str, "hello world", 12);
    return 0;
}
