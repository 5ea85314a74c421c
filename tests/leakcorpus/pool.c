// SPDX-License-Identifier: MIT
// A custom pool built on malloc: chunks carved out of big malloc'ed arenas. A kept pool is
// reachable (arena and everything in it); a pool whose header was dropped while objects carved
// from it are still pointed to is only possibly lost (interior pointers).
#include <stddef.h>
#include <stdlib.h>

struct pool {
    char *arena;
    size_t used, size;
};

static struct pool *kept;
static void *objects[4];

static struct pool *pool_new(size_t size)
{
    struct pool *p = malloc(sizeof *p);
    p->arena = malloc(size);
    p->used = 0;
    p->size = size;
    return p;
}

static void *pool_get(struct pool *p, size_t n)
{
    void *r = p->arena + p->used;
    p->used += (n + 15) & ~(size_t)15;
    return r;
}

int main(void)
{
    kept = pool_new(4096);
    for (int i = 0; i < 10; i++)
        *(void **)pool_get(kept, 32) = NULL;
    struct pool *volatile dropped = pool_new(2048);
    pool_get(dropped, 64); /* never handed out: offset 0 */
    for (int i = 0; i < 4; i++)
        objects[i] = pool_get(dropped, 48); /* interior pointers only */
    dropped = NULL;
    struct pool *volatile lost = pool_new(1024);
    lost = NULL;
    return 0;
}
