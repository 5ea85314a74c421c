// SPDX-License-Identifier: MIT
// A program that only prints: stdout's buffer belongs to the C library, which releases it
// before memcheck's check (__libc_freeres); it must not be reported.
#include <stdio.h>

int main(void)
{
    printf("hello from the corpus\n");
    return 0;
}
