// SPDX-License-Identifier: MIT
// Built with gcc's -fsanitize=address (its shared runtime, libasan, must be loaded first):
// spawn_sanitized runs it every way a program can. It allocates, uses and frees a block.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    char *p = malloc(64);
    if (!p)
        return 2;
    strcpy(p, argc > 1 ? argv[1] : "?");
    printf("sanitized child, run by %s\n", p);
    free(p);
    return 0;
}
