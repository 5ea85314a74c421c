// SPDX-License-Identifier: MIT
// Frees glibc refuses: a double free (tcache, fastbin top), a pointer inside a block, a stack
// address, a realloc of a stack address, a page memtrace never saw, a small integer. Under
// memtrace each must end as it does plain: glibc's own message and abort, or the same fault;
// the recorder must neither crash first, nor let the program go on, nor change the message.
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

/* These frees are wrong on purpose. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"
#endif

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int mode = atoi(argv[1]);
    char *volatile p = malloc(100);
    char local[64];
    char *volatile stack = local;
    switch (mode) {
    case 0:
        free(p);
        free(p);
        break;
    case 1:
        free(p + 1);
        break;
    case 2:
        free(stack);
        break;
    case 3: {
        char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        free(m + 4096 - 16); /* its header is the page's own bytes: zeros */
        break;
    }
    case 4:
        p = realloc(stack, 10);
        break;
    case 5:
        free((void *)16);
        break;
    case 6: {
        void *volatile a[9];
        for (int i = 0; i < 9; i++)
            a[i] = malloc(100);
        for (int i = 0; i < 9; i++)
            free(a[i]);
        free(a[8]); /* the fastbin's top again */
        break;
    }
    default:
        return 2;
    }
    printf("bad_free %d: went on\n", mode);
    return 0;
}
