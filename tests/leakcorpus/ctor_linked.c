// SPDX-License-Identifier: MIT
// Constructors of a linked library allocate before main: 111 bytes lost, 222 reachable.
// corpus-lib: ctor_linked_lib.c link
extern void *ctor_keep;

int main(void)
{
    return ctor_keep == 0;
}
