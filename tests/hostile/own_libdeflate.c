// SPDX-License-Identifier: MIT
// A program that uses libdeflate itself, as memtrace's log writer does (io/deflater.c): its
// compressors and decompressors come from its own allocator wrappers, which count them, and a
// kept buffer leaks on purpose. Under memtrace, the writer's compressor must stay memtrace's
// (not in these counts, not in the program's heap) and the program's must all be recorded.
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long mallocs, frees, leaked;

static void *counted_malloc(size_t n)
{
    void *p = malloc(n);
    if (p)
        mallocs++;
    return p;
}

static void counted_free(void *p)
{
    if (p)
        frees++;
    free(p);
}

int main(void)
{
    libdeflate_set_memory_allocator(counted_malloc, counted_free);
    enum { N = 1 << 20 };
    unsigned char *in = counted_malloc(N), *out = counted_malloc(N + 4096);
    unsigned char *back = counted_malloc(N);
    if (!in || !out || !back)
        return 2;
    for (size_t i = 0; i < N; i++)
        in[i] = (unsigned char)((i * 2654435761u) >> 13 & 0x3f);
    unsigned long sum = 0;
    for (int level = 1; level <= 12; level += 3) {
        struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        if (!c || !d)
            return 3;
        size_t n = libdeflate_deflate_compress(c, in, N, out, N + 4096);
        size_t got = 0;
        if (n == 0 || libdeflate_deflate_decompress(d, out, n, back, N, &got) != 0 || got != N ||
            memcmp(in, back, N) != 0)
            return 4;
        sum = sum * 31 + n;
        libdeflate_free_compressor(c);
        libdeflate_free_decompressor(d);
    }
    counted_free(back);
    counted_free(out);
    leaked = N; /* in, kept on purpose */
    printf("deflated sizes' sum %lu\n", sum);
    printf("hostile: mallocs=%lu frees=%lu leaked=%lu\n", mallocs, frees, leaked);
    return 0;
}
