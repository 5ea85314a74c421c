// SPDX-License-Identifier: MIT
// Static buffer that serves allocations made while the real malloc family is being resolved
// with dlsym(). Blocks are never freed or reused; free() and realloc() recognise them by
// address. No locks (atomics only) and no calls out: this runs before anything is set up.
#include "base/early_alloc.h"

#include <stdatomic.h>
#include <stdint.h>

/* 64 KiB for start-up and memtrace's Python objects, and room for the log writer's four
 * libdeflate compressors (io/deflater.c: levels 6 and 9, for the writer and a helping
 * producer, 653 KiB each). bss: pages never used cost nothing. */
#define MT_EARLY_SIZE ((64 + 4 * 656) * 1024)
#define MT_EARLY_HDR 16 /* size header keeps the payload 16-byte aligned */

static _Alignas(64) unsigned char mt_early_buf[MT_EARLY_SIZE];
static atomic_size_t mt_early_used;

void *mt_early_alloc(size_t size, size_t align)
{
    if (align < MT_EARLY_HDR)
        align = MT_EARLY_HDR;
    if (size > MT_EARLY_SIZE || align > 4096)
        return NULL;
    size_t need = (size + MT_EARLY_HDR + align - 1 + 15) & ~(size_t)15;
    size_t start = atomic_fetch_add(&mt_early_used, need);
    if (start + need > MT_EARLY_SIZE)
        return NULL;
    uintptr_t base = (uintptr_t)mt_early_buf + start + MT_EARLY_HDR;
    uintptr_t p = (base + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = size;
    return (void *)p;
}

bool mt_early_owns(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    return a >= (uintptr_t)mt_early_buf && a < (uintptr_t)mt_early_buf + MT_EARLY_SIZE;
}

size_t mt_early_size(const void *p)
{
    return ((const size_t *)p)[-1];
}
