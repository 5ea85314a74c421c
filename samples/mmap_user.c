// SPDX-License-Identifier: MIT
// Anonymous mappings with known sizes: mmap, a partial munmap, a full munmap, an mremap that
// grows a mapping, and one file mapping that must be ignored. The heap is not used.
//
// Ground truth (printed as the last two lines):
//   memtrace-sample: allocations=0 frees=0 leaked_bytes=0 leaked_blocks=0
//   memtrace-sample-mmap: mmaps=4 munmaps=2 mremaps=1 mapped_bytes=2367488
//   map_buffers   mmap 64 KiB, 1 MiB, 12 KiB and 256 KiB (4 anonymous mmaps)
//   grow_buffer   mremap of the 1 MiB mapping to 2 MiB
//   release       munmap of the 64 KiB mapping, munmap of the last 4 KiB page of the 12 KiB one
//   still mapped at exit: 2048 + 8 + 256 KiB = 2367488 bytes.
// In the log, mremap appears as MUNMAP(old) + MMAP kind MREMAP(new), and the program's own
// munmap of a file mapping appears as a MUNMAP of a range that was never recorded as mapped.
// The file mapping of /proc/self/exe is not anonymous and is not counted.
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KIB 1024ul

static void *anon(size_t len)
{
    return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static char *small, *big, *pages, *quarter;

__attribute__((noinline)) static void map_buffers(void)
{
    small = anon(64 * KIB);
    big = anon(1024 * KIB);
    pages = anon(12 * KIB);
    quarter = anon(256 * KIB);
    memset(small, 1, 64 * KIB);
    memset(big, 2, 4096);
}

__attribute__((noinline)) static void grow_buffer(void)
{
    big = mremap(big, 1024 * KIB, 2048 * KIB, MREMAP_MAYMOVE);
}

__attribute__((noinline)) static void release(void)
{
    munmap(small, 64 * KIB);
    munmap(pages + 8 * KIB, 4 * KIB); /* the last page only */
}

int main(void)
{
    map_buffers();
    grow_buffer();
    release();
    int fd = open("/proc/self/exe", O_RDONLY);
    void *file = fd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    if (file != MAP_FAILED)
        munmap(file, 4096); /* a file mapping: memtrace records the munmap, never the mmap */
    if (fd >= 0)
        close(fd);
    unsigned long mapped = 2048 * KIB + 8 * KIB + 256 * KIB;
    char out[256];
    int n = snprintf(out, sizeof out,
                     "memtrace-sample: allocations=0 frees=0 leaked_bytes=0 leaked_blocks=0\n"
                     "memtrace-sample-mmap: mmaps=4 munmaps=2 mremaps=1 mapped_bytes=%lu\n",
                     mapped);
    return write(1, out, (size_t)n) == n && big != MAP_FAILED ? 0 : 1;
}
