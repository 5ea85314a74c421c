// SPDX-License-Identifier: MIT
// memcheck's vtable test for the multipleinheritance heuristic (see leak_vtable.h). Runs in
// the target with the other threads stopped: static memory and raw system calls only. A
// candidate address can be anything a heap word held, so memory is never loaded directly:
// process_vm_readv on ourselves answers EFAULT where a load would raise SIGSEGV or SIGBUS.
#include "leak/leak_vtable.h"

#include "leak/proc_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Up to this many file mappings are known; past it, addresses above the last are "not a file
 * mapping" and the heuristic fails closed (possibly lost, never a false "reachable"). */
#define MAX_FILE_MAPS 4096
/* memcheck looks at the word addressed and at most 20 more for two function pointers. */
#define VTABLE_WORDS 21
#define CACHE_SLOTS 1024

enum { MAP_R = 1, MAP_X = 2 };

typedef struct file_map {
    uintptr_t begin, end;
    unsigned prot;
} file_map_t;

/* Static: the scan runs once per process (a fork child re-attaches), in one thread. */
static file_map_t maps[MAX_FILE_MAPS];
static size_t map_count;
static int maps_loaded;

typedef struct cache_slot {
    uintptr_t addr; /* 0: empty (0 is never a candidate) */
    int answer;
} cache_slot_t;

static cache_slot_t cache[CACHE_SLOTS];

/* "begin-end perms offset dev inode path": keeps mappings of files (inode != 0), which is
 * what memcheck's file segments are. */
static void note_maps_line(const char *p, void *ctx)
{
    (void)ctx;
    uintptr_t begin = mt_proc_hex(&p);
    if (*p++ != '-')
        return;
    uintptr_t end = mt_proc_hex(&p);
    if (*p++ != ' ' || !p[0] || !p[1] || !p[2])
        return;
    unsigned prot = (p[0] == 'r' ? MAP_R : 0) | (p[2] == 'x' ? MAP_X : 0);
    for (int field = 0; field < 3 && *p; field++) { /* perms offset dev */
        while (*p && *p != ' ')
            p++;
        while (*p == ' ')
            p++;
    }
    int inode = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        inode |= *p != '0';
    if (!inode || map_count == MAX_FILE_MAPS || begin >= end)
        return;
    maps[map_count++] = (file_map_t){begin, end, prot};
}

static void load_maps(void)
{
    static char buf[8192];
    maps_loaded = 1;
    map_count = 0;
    (void)mt_proc_lines("/proc/self/maps", buf, sizeof buf, note_maps_line, NULL);
}

/* The file mapping holding addr; the kernel lists mappings in address order. */
static const file_map_t *find_map(uintptr_t addr)
{
    size_t lo = 0, hi = map_count; /* first mapping with begin > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (maps[mid].begin <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && addr < maps[lo - 1].end ? &maps[lo - 1] : NULL;
}

/* Copies len bytes from our own address src; returns the bytes copied (a prefix up to the
 * first unreadable page), never faults. */
static size_t safe_read(void *dst, uintptr_t src, size_t len)
{
    struct iovec local = {dst, len}, remote = {(void *)src, len};
    long n = syscall(SYS_process_vm_readv, syscall(SYS_getpid), &local, 1UL, &remote, 1UL, 0UL);
    if (n >= 0)
        return (size_t)n;
    if (errno == EFAULT)
        return 0;
    /* process_vm_readv refused (seccomp, old kernel): a pipe's write copies from our memory
     * with the same fault handling. */
    int fds[2];
    if (syscall(SYS_pipe2, fds, O_CLOEXEC) != 0)
        return 0;
    long w = syscall(SYS_write, fds[1], (const void *)src, len);
    long r = w > 0 ? syscall(SYS_read, fds[0], dst, (size_t)w) : 0;
    syscall(SYS_close, fds[0]);
    syscall(SYS_close, fds[1]);
    return r > 0 ? (size_t)r : 0;
}

static int looks_like_vtable(uintptr_t addr)
{
    const file_map_t *m = find_map(addr);
    if (!m || !(m->prot & MAP_R) || m->end - addr < 8)
        return 0;
    size_t n = (m->end - addr) / 8;
    if (n > VTABLE_WORDS)
        n = VTABLE_WORDS;
    uintptr_t words[VTABLE_WORDS];
    n = safe_read(words, addr, n * 8) / 8;
    int functions = 0;
    for (size_t i = 0; i < n; i++) {
        if (words[i] == 0)
            continue; /* an empty slot (pure virtual, or not yet resolved) */
        const file_map_t *f = find_map(words[i]);
        if (!f || !(f->prot & MAP_X))
            return 0;
        if (++functions == 2)
            return 1;
    }
    return 0;
}

int mt_leakvtable_check(void *ctx, uintptr_t addr)
{
    (void)ctx;
    if (!maps_loaded)
        load_maps();
    /* Objects of one class share a vtable: most tests repeat an earlier one. */
    cache_slot_t *c = &cache[(addr >> 3) % CACHE_SLOTS];
    if (c->addr == addr)
        return c->answer;
    int answer = looks_like_vtable(addr);
    *c = (cache_slot_t){addr, answer};
    return answer;
}

void mt_leakvtable_attach(mt_leak_graph_t *g)
{
    maps_loaded = 0;
    memset(cache, 0, sizeof cache);
    mt_leakgraph_set_vtable_check(g, mt_leakvtable_check, NULL);
}
