// SPDX-License-Identifier: MIT
// Issue 13.3: links ctor_lib.c, whose constructor allocates first. See there.
extern void *ctor_lib_keep;

int main(void)
{
    return ctor_lib_keep == 0;
}
