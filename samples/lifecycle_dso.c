// SPDX-License-Identifier: MIT
// The shared library of samples/lifecycle.c: its destructor allocates after main returned
// (5 blocks of 30 bytes freed, one of 77 bytes kept), when only memtrace's exit handler is left.
#include <stdlib.h>

void *lifecycle_dso_kept;
void lifecycle_dso_touch(void);

void lifecycle_dso_touch(void)
{
}

__attribute__((destructor)) static void lifecycle_dso_fini(void)
{
    for (int i = 0; i < 5; i++) {
        void *volatile p = malloc(30);
        free(p);
    }
    lifecycle_dso_kept = malloc(77);
}
