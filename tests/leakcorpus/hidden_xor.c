// SPDX-License-Identifier: MIT
// A pointer kept only in disguise (XOR-ed, as in XOR-linked lists): definitely lost.
#include <stdint.h>
#include <stdlib.h>

static uintptr_t disguised;

int main(void)
{
    disguised = (uintptr_t)malloc(81) ^ (uintptr_t)0xdeadbeefcafef00dULL;
    return 0;
}
