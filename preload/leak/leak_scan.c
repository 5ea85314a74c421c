// SPDX-License-Identifier: MIT
// Leak check at exit (see leak_scan.h). Runs in the target with the recorder lock held: only
// raw system calls and static or caller-provided memory; no stdio, no malloc, no dl_* calls
// (a stopped thread may hold the loader or malloc locks).
#include "leak/leak_scan.h"

#include "base/mt_libc.h"
#include "base/own_ranges.h"
#include "leak/leak_vtable.h"
#include "leak/proc_text.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define MAX_THREADS 4096
#define STACK_RED_ZONE 128         /* x86-64 ABI: leaf functions may use it below SP */
#define GLIBC_HEAP_MAX (64u << 20) /* glibc's HEAP_MAX_SIZE for secondary arenas, 64-bit */
#define STOP_TIMEOUT_MS 500

/* SLOT_ASLEEP: blocked in the kernel and left there, unsignalled (see choose_stop). */
enum { SLOT_SIGNALLED = 0, SLOT_STOPPED = 1, SLOT_GONE = 2, SLOT_MISSED = 3, SLOT_ASLEEP = 4 };

#define SYSCALL_LINE 160 /* "nr a0 a1 a2 a3 a4 a5 sp pc" in hex */

typedef struct thread_slot {
    pid_t tid;
    int state; /* futex word */
    uintptr_t sp;
    greg_t regs[NGREG];         /* asleep: the system call's arguments */
    char syscall[SYSCALL_LINE]; /* asleep: /proc's line, to tell whether it woke meanwhile */
} thread_slot_t;

static thread_slot_t *slots; /* mmap'd once, excluded from the roots */
static int skipped_tid;      /* memtrace's writer thread */
static uintptr_t exit_sp;    /* where the exiting thread's live stack begins */
static pid_t exit_tid;
static size_t slot_count;
static int release_word; /* futex word: 1 once the scan is over */

static long futex(int *word, int op, int val, const struct timespec *timeout)
{
    return syscall(SYS_futex, word, op, val, timeout, NULL, 0);
}

static pid_t current_tid(void)
{
    return (pid_t)mt_sys_gettid(); /* no system call inside a seccomp sandbox (mt_libc.h) */
}

void mt_leakscan_set_stack_start(uintptr_t sp)
{
    if (exit_sp)
        return;
    exit_tid = current_tid();
    exit_sp = sp;
}

static uintptr_t (*sp_map)(uintptr_t sp);

void mt_leakscan_set_sp_map(uintptr_t (*map)(uintptr_t sp))
{
    __atomic_store_n(&sp_map, map, __ATOMIC_RELEASE);
}

void mt_leakscan_skip_thread(int tid)
{
    __atomic_store_n(&skipped_tid, tid, __ATOMIC_RELEASE);
}

static int note_own_segments(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t self = (uintptr_t)data;
    int ours = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t b = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && self >= b && self < b + ph->p_memsz)
            ours = 1;
    }
    if (!ours)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W)) {
            uintptr_t b = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)4095;
            uintptr_t e = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + 4095) & ~(uintptr_t)4095;
            mt_own_add(b, e);
        }
    }
    return 1;
}

void mt_leakscan_init(void)
{
    dl_iterate_phdr(note_own_segments, (void *)(uintptr_t)&mt_own_add);
}

/* size bytes of fresh zeroed memory for the scan, memtrace's own (mt_own_add: never a root);
 * NULL when mmap fails. */
static void *own_map(size_t size)
{
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    mt_own_add((uintptr_t)m, (uintptr_t)m + size);
    return m;
}

/* ---- holding the other threads still ---- */

/* Calls fn(tid, arg) for each thread in /proc/self/task but self and the skipped one: the sum
 * of what fn returned, or -1 when the directory cannot be read. Raw syscalls only. */
static int for_other_threads(pid_t self, int (*fn)(pid_t tid, void *arg), void *arg)
{
    char buf[4096];
    int sum = 0;
    int fd =
        (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (long off = 0; off < n;) {
            const char *name = buf + off + 19; /* d_ino, d_off, d_reclen, d_type */
            off += *(const unsigned short *)(buf + off + 16);
            pid_t tid = 0;
            for (const char *c = name; *c >= '0' && *c <= '9'; c++)
                tid = tid * 10 + (*c - '0');
            if (tid > 0 && tid != self && tid != __atomic_load_n(&skipped_tid, __ATOMIC_ACQUIRE))
                sum += fn(tid, arg);
        }
    }
    syscall(SYS_close, fd);
    return sum;
}

static int count_thread(pid_t tid, void *arg)
{
    (void)tid;
    (void)arg;
    return 1;
}

/* Threads in /proc/self/task other than self and the skipped one. */
static int count_other_threads(pid_t self)
{
    return for_other_threads(self, count_thread, NULL);
}

int mt_leakscan_other_threads(void)
{
    pid_t self = current_tid();
    int n = count_other_threads(self);
    for (int tries = 0; n > 0 && tries < 10; tries++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        n = count_other_threads(self);
    }
    return n;
}

static thread_slot_t *slot_of(pid_t tid)
{
    size_t n = __atomic_load_n(&slot_count, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < n; i++)
        if (slots[i].tid == tid)
            return &slots[i];
    return NULL;
}

static void stop_handler(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)info;
    int saved_errno = errno;
    thread_slot_t *s =
        __atomic_load_n(&release_word, __ATOMIC_ACQUIRE) ? NULL : slot_of(current_tid());
    if (s) {
        const ucontext_t *uc = context;
        memcpy(s->regs, uc->uc_mcontext.gregs, sizeof s->regs);
        uintptr_t (*map)(uintptr_t) = __atomic_load_n(&sp_map, __ATOMIC_ACQUIRE);
        s->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        if (map)
            s->sp = map(s->sp);
        __atomic_store_n(&s->state, SLOT_STOPPED, __ATOMIC_RELEASE);
        futex(&s->state, FUTEX_WAKE, 1, NULL);
        while (!__atomic_load_n(&release_word, __ATOMIC_ACQUIRE))
            futex(&release_word, FUTEX_WAIT, 0, NULL);
    }
    errno = saved_errno;
}

/*
 * Holding a thread still must be invisible to the program (issue 19.6). A signal is seen by a
 * thread that sigwait()s for it (sigwait takes blocked signals, and while it waits the kernel
 * takes any signal of its set, blocked or not), by signalfd, and, once a handler ran, by every
 * system call that fails with EINTR instead of restarting (sigsuspend, pause, poll, epoll_wait,
 * nanosleep, timed futex waits, reads with socket timeouts...). So, per thread, from what the
 * kernel says in /proc/self/task/TID/syscall and status:
 *  - a thread blocked in the kernel is left there, unsignalled: it runs no code while the scan
 *    reads its stack from the stack pointer the kernel reports up, and the system call's
 *    arguments stand for its registers. Its callee-saved registers are not seen (memcheck
 *    sees them); a value kept only there is the one thing this can miss. Except:
 *  - blocked in a system call that the kernel restarts transparently after a handler with
 *    SA_RESTART (an untimed futex wait: mutexes, condition variables, joins; wait4, waitid),
 *    and running threads: sent a real-time signal that the thread does not block and the
 *    program leaves at its default action (so it waits for none of them, and none is its own),
 *    chosen per thread; the handler saves the registers and waits for the scan's end. A thread
 *    blocking every such signal is not signalled at all: scanned like a blocked one, or, when
 *    it runs, whole (its stack pointer is unknown), and counted as missed.
 * The signal is never one the program installed a handler for, blocked or waits for.
 */
static int sig_state[65]; /* per signal, this scan: 0 unknown, 1 usable, 2 ours, -1 not */

static int install_stop_handler(int sig)
{
    if (sig_state[sig] == 0) {
        struct sigaction old;
        sig_state[sig] = sigaction(sig, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
                                 old.sa_handler == SIG_DFL
                             ? 1
                             : -1;
        if (sig_state[sig] < 0 && sigaction(sig, NULL, &old) == 0 && (old.sa_flags & SA_SIGINFO) &&
            old.sa_sigaction == stop_handler)
            sig_state[sig] = 2; /* ours, from an earlier scan (a fork's parent) */
    }
    if (sig_state[sig] == 1) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = stop_handler;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigfillset(&sa.sa_mask);
        /* Our handler stays installed after the scan: a late signal then finds release_word
         * set and returns at once, where the default action would kill the process. */
        sig_state[sig] = sigaction(sig, &sa, NULL) == 0 ? 2 : -1;
    }
    return sig_state[sig] == 2;
}

/* Reads /proc/self/task/TID/NAME into buf (NUL-terminated); its length, or -1. */
static long read_task_file(pid_t tid, const char *name, char *buf, size_t size)
{
    char path[64] = "/proc/self/task/";
    size_t n = strlen(path);
    char digits[16];
    size_t d = 0;
    for (unsigned v = (unsigned)tid; v || !d; v /= 10)
        digits[d++] = (char)('0' + v % 10);
    while (d)
        path[n++] = digits[--d];
    path[n++] = '/';
    for (const char *c = name; *c && n < sizeof path - 1; c++)
        path[n++] = *c;
    path[n] = 0;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    long len = syscall(SYS_read, fd, buf, size - 1);
    syscall(SYS_close, fd);
    if (len < 0)
        return -1;
    buf[len] = 0;
    return len;
}

/* The thread's blocked signals (SigBlk in its status), or all when unknown. */
static uint64_t blocked_signals(pid_t tid)
{
    char buf[2048];
    if (read_task_file(tid, "status", buf, sizeof buf) < 0)
        return ~(uint64_t)0;
    const char *p = strstr(buf, "\nSigBlk:");
    if (!p)
        return ~(uint64_t)0;
    p += 8;
    while (*p == ' ' || *p == '\t')
        p++;
    return mt_proc_hex(&p);
}

/* System calls a handler with SA_RESTART interrupts invisibly (the kernel restarts them). */
static int restarts_invisibly(long nr, const uintptr_t *arg)
{
    if (nr == SYS_futex) {
        int op = (int)(arg[1] & 127); /* without FUTEX_PRIVATE_FLAG and the clock flag */
        /* A timed wait ends in EINTR instead (its restart block is not restarted). */
        return (op == FUTEX_WAIT || op == FUTEX_WAIT_BITSET) && arg[3] == 0;
    }
    return nr == SYS_wait4 || nr == SYS_waitid;
}

/* Decides how to hold s->tid: returns the signal to send, or 0 when s->state says what to do
 * instead (SLOT_ASLEEP: left blocked; SLOT_MISSED: running and nothing can stop it). */
static int choose_stop(thread_slot_t *s)
{
    long len = read_task_file(s->tid, "syscall", s->syscall, sizeof s->syscall);
    int running = len < 0 || !strncmp(s->syscall, "running", 7);
    if (!running) {
        const char *p = s->syscall;
        long nr = 0;
        uintptr_t arg[6] = {0};
        if (*p == '-') { /* "-1 sp pc": blocked, not in a system call */
            nr = -1;
            p += 2;
        } else {
            for (; *p >= '0' && *p <= '9'; p++) /* the number is decimal, the rest hex */
                nr = nr * 10 + (*p - '0');
            for (int i = 0; i < 6; i++) {
                while (*p == ' ')
                    p++;
                if (p[0] == '0' && p[1] == 'x')
                    p += 2;
                arg[i] = mt_proc_hex(&p);
            }
        }
        while (*p == ' ')
            p++;
        if (p[0] == '0' && p[1] == 'x')
            p += 2;
        s->sp = mt_proc_hex(&p);
        for (int i = 0; i < 6; i++)
            s->regs[i] = (greg_t)arg[i];
        if (nr < 0 || !restarts_invisibly(nr, arg)) {
            s->state = SLOT_ASLEEP;
            return 0;
        }
    }
    uint64_t blocked = blocked_signals(s->tid);
    for (int sig = SIGRTMAX - 1; sig >= SIGRTMIN; sig--)
        if (!(blocked & ((uint64_t)1 << (sig - 1))) && install_stop_handler(sig))
            return sig;
    s->state = running ? SLOT_MISSED : SLOT_ASLEEP;
    return 0;
}

/* Takes tid into a new slot and stops it, unless it has one or the slots are full: 1 when it
 * was added, else 0. */
static int add_thread(pid_t tid, void *arg)
{
    (void)arg;
    if (slot_of(tid) || slot_count >= MAX_THREADS)
        return 0;
    thread_slot_t *s = &slots[slot_count];
    *s = (thread_slot_t){.tid = tid, .state = SLOT_SIGNALLED};
    int sig = choose_stop(s);
    /* Publish the slot before the signal: the handler may run at once on another core and
     * must find it. */
    __atomic_store_n(&slot_count, slot_count + 1, __ATOMIC_RELEASE);
    if (sig && syscall(SYS_tgkill, getpid(), tid, sig) != 0)
        s->state = SLOT_GONE;
    return 1;
}

/* Adds every thread of the process not seen yet; returns how many were added. */
static size_t enumerate_threads(pid_t self)
{
    int added = for_other_threads(self, add_thread, NULL);
    return added < 0 ? 0 : (size_t)added;
}

/* A thread left asleep that woke during the scan ran beside it: counted as missed. */
static void check_sleepers(void)
{
    char now[SYSCALL_LINE];
    for (size_t i = 0; i < slot_count; i++) {
        thread_slot_t *s = &slots[i];
        if (s->state == SLOT_ASLEEP &&
            (read_task_file(s->tid, "syscall", now, sizeof now) < 0 || strcmp(now, s->syscall)))
            s->state = SLOT_MISSED;
    }
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void wait_for_stops(void)
{
    uint64_t deadline = now_ms() + STOP_TIMEOUT_MS;
    for (size_t i = 0; i < slot_count; i++) {
        thread_slot_t *s = &slots[i];
        while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_SIGNALLED) {
            uint64_t now = now_ms();
            if (now >= deadline) {
                s->state = SLOT_MISSED;
                break;
            }
            struct timespec ts = {0, 10 * 1000000};
            futex(&s->state, FUTEX_WAIT, SLOT_SIGNALLED, &ts);
        }
    }
}

static int stop_world(pid_t self)
{
    if (!slots && !(slots = own_map(MAX_THREADS * sizeof *slots)))
        return -ENOMEM;
    memset(sig_state, 0, sizeof sig_state);
    slot_count = 0;
    release_word = 0;
    /* New threads may be created by threads not stopped yet: repeat until none appears. */
    for (int pass = 0; pass < 8; pass++) {
        size_t added = enumerate_threads(self);
        wait_for_stops();
        if (added == 0)
            break;
    }
    return 0;
}

static void resume_world(void)
{
    __atomic_store_n(&release_word, 1, __ATOMIC_RELEASE);
    futex(&release_word, FUTEX_WAKE, 0x7fffffff, NULL);
}

/* ---- roots ---- */

/* Moves b[root] down the max-heap b[0..n) until both children are smaller. */
static void sift_down(mt_leak_block_t *b, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && b[child + 1].addr > b[child].addr)
            child++;
        if (b[root].addr >= b[child].addr)
            return;
        mt_leak_block_t t = b[root];
        b[root] = b[child];
        b[child] = t;
        root = child;
    }
}

static void sort_blocks(mt_leak_block_t *b, size_t n)
{
    /* Heap sort: in place, no allocation, O(n log n) even for millions of blocks. */
    for (size_t start = n / 2; start-- > 0;)
        sift_down(b, start, n);
    for (size_t end = n; end-- > 1;) {
        mt_leak_block_t t = b[0];
        b[0] = b[end];
        b[end] = t;
        sift_down(b, 0, end);
    }
}

/* Index of the first block that ends after addr (blocks are sorted and do not overlap). */
static size_t first_block_ending_after(const mt_leak_graph_t *g, uintptr_t addr)
{
    size_t lo = 0, hi = g->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->blocks[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && g->blocks[lo - 1].addr + g->blocks[lo - 1].size > addr)
        lo--;
    return lo;
}

/* ---- what can be read: the mappings, from /proc/self/smaps ----
 *
 * The scan must never fault, whatever the program did to its memory, and its exit status under
 * --leak-check must stay the plain run's. The kernel's view decides: a page is read only when
 * it lies in a mapping with read permission that is none of
 *  - a device mapping (VM_IO / VM_PFNMAP, or a character or block device other than
 *    /dev/zero, as memcheck skips them): reading may have side effects or hang;
 *  - a userfaultfd-registered range: reading a missing page waits for the program's fault
 *    handler thread, which is held still by the scan;
 *  - [vvar] and [vsyscall];
 * and, for file-backed mappings, where the page is actually backed: a private mapping longer
 * than its file raises SIGBUS past the end. Those pages are probed with process_vm_readv on
 * ourselves, which returns EFAULT where a load would fault (no signal handler to install or
 * race with); where the system forbids it (seccomp), with write(2) into a pipe, which fails
 * the same way; without a free descriptor for the pipe, the file's size from stat decides.
 * Anonymous memory (heap, stacks) needs no probe: with read permission it is readable,
 * MADV_DONTNEED'd pages included (they read as zeros). */

enum {
    MP_R = 1,
    MP_W = 2,
    MP_FILE = 4,    /* backed by a file: pages may lie past its end */
    MP_SKIP = 8,    /* never read (device, userfaultfd, vvar) */
    MP_NOROOT = 16, /* readable but not a root ([heap]: malloc's, scanned as blocks) */
};

typedef struct mapping {
    uintptr_t begin, end;
    uintptr_t file_end; /* without probes: first address past the file's last page */
    uint32_t flags;
} mapping_t;

#define MAX_MAPPINGS 65536 /* vm.max_map_count's default is 65530 */

static mapping_t *maps;
static size_t map_count;
static size_t map_hint;
static int probe_state; /* 0 unknown, 1 process_vm_readv works, -1 it does not */

#define PROBE_CACHE 1024
static uintptr_t probe_page[PROBE_CACHE]; /* page | 1 when readable, page when not, 0 empty */

static const mapping_t *mapping_of(uintptr_t addr)
{
    if (map_hint < map_count && addr >= maps[map_hint].begin && addr < maps[map_hint].end)
        return &maps[map_hint];
    size_t lo = 0, hi = map_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (maps[mid].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == map_count || addr < maps[lo].begin)
        return NULL;
    map_hint = lo;
    return &maps[lo];
}

/* Reads one byte of page through the kernel: 1 readable, 0 not, -1 the probe is unavailable
 * (a seccomp policy may forbid process_vm_readv). */
static int probe_vm_readv(uintptr_t page)
{
    char byte;
    struct iovec local = {&byte, 1}, remote = {(void *)page, 1};
    long n = syscall(SYS_process_vm_readv, getpid(), &local, 1UL, &remote, 1UL, 0UL);
    if (n == 1)
        return 1;
    return errno == EFAULT ? 0 : -1;
}

/* The same through a pipe: write(2) copies from the page and fails with EFAULT where a load
 * would fault; the byte is read back at once, so the pipe never fills. */
static int probe_pipe[2] = {-1, -1};

static int probe_write(uintptr_t page)
{
    if (probe_pipe[0] < 0 && syscall(SYS_pipe2, probe_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        probe_pipe[0] = probe_pipe[1] = -1;
        return -1;
    }
    long n = syscall(SYS_write, probe_pipe[1], (void *)page, 1UL);
    if (n == 1) {
        char byte;
        (void)syscall(SYS_read, probe_pipe[0], &byte, 1UL);
        return 1;
    }
    return n < 0 && errno == EFAULT ? 0 : -1;
}

static void probe_done(void)
{
    if (probe_pipe[0] >= 0) {
        syscall(SYS_close, probe_pipe[0]);
        syscall(SYS_close, probe_pipe[1]);
        probe_pipe[0] = probe_pipe[1] = -1;
    }
}

static int probe(uintptr_t page)
{
    int ok = probe_state >= 0 ? probe_vm_readv(page) : -1;
    if (ok >= 0) {
        probe_state = 1;
        return ok;
    }
    probe_state = -1;
    return probe_write(page);
}

static int page_ok(uintptr_t page)
{
    const mapping_t *m = mapping_of(page);
    if (!m || (m->flags & MP_SKIP) || !(m->flags & MP_R))
        return 0;
    if (!(m->flags & MP_FILE))
        return 1;
    uintptr_t *slot = &probe_page[(page >> 12) % PROBE_CACHE];
    if ((*slot & ~(uintptr_t)1) == page)
        return (int)(*slot & 1);
    int ok = probe(page);
    if (ok < 0) /* no probe at all (no fd left for the pipe): the file's size decides */
        ok = page < m->file_end;
    *slot = page | (uintptr_t)ok;
    return ok;
}

/* The addresses up to which a file mapping is backed, when no probe can tell: from the file's
 * size (stat on the path; a deleted file is not looked at). */
static uintptr_t file_backed_end(const mapping_t *m, uint64_t offset, const char *path)
{
    struct stat st;
    if (path[0] != '/' || strstr(path, " (deleted)") ||
        syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0 || (uint64_t)st.st_size <= offset)
        return m->begin;
    uint64_t backed = ((uint64_t)st.st_size - offset + 4095) & ~(uint64_t)4095;
    return backed < m->end - m->begin ? m->begin + backed : m->end;
}

static int is_device(const char *path)
{
    struct stat st;
    if (strncmp(path, "/dev/", 5) || !strncmp(path, "/dev/zero", 9))
        return 0; /* device nodes live in /dev; /dev/zero is memory (memcheck scans it too) */
    if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0)
        return !!strncmp(path, "/dev/shm/", 9); /* unknown: leave it alone */
    return S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode);
}

static const char *next_field(const char *p)
{
    while (*p && *p != ' ')
        p++;
    while (*p == ' ')
        p++;
    return p;
}

/* A mapping's first line: "begin-end perms offset dev inode   path". */
static void add_mapping(const char *line)
{
    const char *p = line;
    uintptr_t begin = mt_proc_hex(&p);
    if (*p++ != '-' || map_count >= MAX_MAPPINGS)
        return;
    uintptr_t end = mt_proc_hex(&p);
    if (*p++ != ' ')
        return;
    mapping_t *m = &maps[map_count++];
    *m = (mapping_t){.begin = begin, .end = end, .file_end = end};
    m->flags = (p[0] == 'r' ? MP_R : 0) | (p[1] == 'w' ? MP_W : 0);
    p = next_field(p);
    uint64_t offset = mt_proc_hex(&p);
    p = next_field(next_field(p)); /* dev */
    int inode = *p && *p != '0';
    const char *path = next_field(p);
    if (!strncmp(path, "[vvar]", 6) || !strncmp(path, "[vsyscall]", 10))
        m->flags |= MP_SKIP;
    if (!strncmp(path, "[heap]", 6))
        m->flags |= MP_NOROOT;
    if (inode && path[0] == '/' && (m->flags & MP_R)) {
        if (is_device(path))
            m->flags |= MP_SKIP;
        m->flags |= MP_FILE;
        m->file_end = file_backed_end(m, offset, path);
    }
}

/* "VmFlags: rd wr mr mw me ac um" for the mapping just added. */
static void add_vmflags(const char *line)
{
    if (!map_count)
        return;
    for (const char *p = next_field(line); p[0] && p[1]; p = next_field(p)) {
        int two = p[2] == ' ' || p[2] == 0;
        if (two && ((p[0] == 'u' && (p[1] == 'm' || p[1] == 'w' || p[1] == 'i')) ||
                    (p[0] == 'i' && p[1] == 'o') || (p[0] == 'p' && p[1] == 'f')))
            maps[map_count - 1].flags |= MP_SKIP;
    }
}

static void read_line(const char *line, void *ctx)
{
    (void)ctx;
    if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f'))
        add_mapping(line);
    else if (!strncmp(line, "VmFlags:", 8))
        add_vmflags(line);
}

/* Fills maps[] from /proc/self/smaps (its headers are /proc/self/maps's lines); 0 or -errno. */
static int load_mappings(void)
{
    static char buf[1 << 16]; /* static: the scan runs once, in one thread */
    if (!maps && !(maps = own_map(MAX_MAPPINGS * sizeof *maps)))
        return -ENOMEM;
    map_count = map_hint = 0;
    memset(probe_page, 0, sizeof probe_page);
    return mt_proc_lines("/proc/self/smaps", buf, sizeof buf, read_line, NULL);
}

/* A secondary glibc arena: 64 MiB aligned, starting with heap_info {ar_ptr, prev, size, ...}. */
static int is_glibc_arena_heap(uintptr_t begin, uintptr_t end)
{
    if (begin & (GLIBC_HEAP_MAX - 1) || end - begin > GLIBC_HEAP_MAX || !page_ok(begin))
        return 0;
    const uint64_t *w = (const uint64_t *)begin;
    return w[0] != 0 && w[2] <= GLIBC_HEAP_MAX && w[3] <= GLIBC_HEAP_MAX;
}

typedef struct scan_ctx {
    mt_leak_graph_t *graph;
    mt_leakscan_stats_t *stats;
    uintptr_t own_sp; /* the scanning thread's stack is a root from here up */
} scan_ctx_t;

/* Root memory never includes a block's own bytes: a block is scanned once it is reached. A
 * block malloc mapped by itself may share a mapping with other memory (the kernel merges
 * neighbouring anonymous mappings), or be split by an mprotect inside it: its pieces are cut
 * out wherever they lie. */
static void scan_outside_blocks(scan_ctx_t *c, uintptr_t begin, uintptr_t end)
{
    const mt_leak_graph_t *g = c->graph;
    for (size_t i = first_block_ending_after(g, begin); i < g->count && begin < end; i++) {
        const mt_leak_block_t *b = &g->blocks[i];
        if (b->addr >= end)
            break;
        if (b->addr > begin) {
            mt_leakgraph_scan_root(c->graph, begin, b->addr);
            c->stats->root_bytes += b->addr - begin;
        }
        if (b->addr + b->size > begin)
            begin = b->addr + b->size;
    }
    if (begin < end) {
        mt_leakgraph_scan_root(c->graph, begin, end);
        c->stats->root_bytes += end - begin;
    }
}

/* [begin, end) less the ranges of list (in no order), then less the ranges of the lists after
 * it (own_ranges.h: memtrace's own, then a foreign allocator's mappings). */
static void scan_range_less(scan_ctx_t *c, uintptr_t begin, uintptr_t end, int list)
{
    size_t excluded_count = 0;
    const mt_own_range_t *excluded = list == 0   ? mt_own_ranges(&excluded_count)
                                     : list == 1 ? mt_own_allocator_ranges(&excluded_count)
                                                 : NULL;
    if (!excluded) {
        scan_outside_blocks(c, begin, end);
        return;
    }
    for (size_t i = 0; i < excluded_count && begin < end; i++) {
        const mt_own_range_t *x = &excluded[i];
        if (x->end <= begin || x->begin >= end)
            continue;
        if (x->begin > begin)
            scan_range_less(c, begin, x->begin, list);
        begin = x->end;
    }
    if (begin < end)
        scan_range_less(c, begin, end, list + 1);
}

static void scan_range(scan_ctx_t *c, uintptr_t begin, uintptr_t end)
{
    scan_range_less(c, begin, end, 0);
}

/* A stack mapping is scanned from its thread's stack pointer up, as memcheck does. */
static uintptr_t live_part_start(const scan_ctx_t *c, uintptr_t begin, uintptr_t end)
{
    if (c->own_sp >= begin && c->own_sp < end)
        return c->own_sp;
    for (size_t i = 0; i < slot_count; i++) {
        const thread_slot_t *s = &slots[i];
        if ((s->state == SLOT_STOPPED || s->state == SLOT_ASLEEP) && s->sp >= begin && s->sp < end)
            return s->sp - STACK_RED_ZONE > begin ? s->sp - STACK_RED_ZONE : begin;
    }
    return begin;
}

/* Roots: every readable, writable mapping that is not malloc's (blocks are scanned as
 * reached) nor memtrace's own (excluded). */
static void scan_mappings(scan_ctx_t *c)
{
    for (size_t i = 0; i < map_count; i++) {
        const mapping_t *m = &maps[i];
        if ((m->flags & (MP_R | MP_W | MP_SKIP | MP_NOROOT)) != (MP_R | MP_W) ||
            is_glibc_arena_heap(m->begin, m->end))
            continue;
        scan_range(c, live_part_start(c, m->begin, m->end), m->end);
    }
}

static void scan_registers(scan_ctx_t *c)
{
    for (size_t i = 0; i < slot_count; i++)
        if (slots[i].state == SLOT_STOPPED || slots[i].state == SLOT_ASLEEP)
            mt_leakgraph_scan_root(c->graph, (uintptr_t)slots[i].regs,
                                   (uintptr_t)(slots[i].regs + NGREG));
}

/* A state no graph block has: a pool's slab, set aside (set_aside_slabs). */
#define SLAB_STATE 0xff

/*
 * A malloc block that holds the start of a block of another allocator's (a custom block,
 * reported through memtrace.h) is the slab of the program's pool: the blocks in it are the
 * ones checked, the slab itself is not (memcheck treats a mempool's superblock so). The graph
 * needs blocks that do not overlap, so the slabs move to the end of the sorted array, the
 * others keeping their order; returns how many blocks stay in front. Sorted blocks, O(n):
 * a block that is no slab ends before the next one starts.
 */
static size_t set_aside_slabs(mt_leak_block_t *blocks, size_t count)
{
    size_t slabs = 0;
    for (size_t i = 0; i < count; i++) {
        if (blocks[i].not_glibc)
            continue;
        uintptr_t end = blocks[i].addr + blocks[i].size;
        for (size_t j = i + 1; j < count && blocks[j].addr < end; j++) {
            if (blocks[j].not_glibc) {
                blocks[i].state = SLAB_STATE;
                slabs++;
                break;
            }
        }
    }
    if (!slabs)
        return count;
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        if (blocks[i].state == SLAB_STATE)
            continue;
        mt_leak_block_t t = blocks[k];
        blocks[k++] = blocks[i];
        blocks[i] = t;
    }
    return k;
}

static void mark_allocator_metadata(mt_leak_block_t *blocks, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        /* pymalloc's objects have no chunk header: malloc_usable_size would read garbage as
         * a size and follow it (a fault in every Python program's leak check). */
        if (blocks[i].not_glibc) {
            blocks[i].meta_offset = 0;
            continue;
        }
        /* malloc_usable_size reads the chunk's header, 8 bytes before the block, and the
         * next chunk's, less than 32 bytes past the requested size: the program may have made
         * either page unreadable (a guard page at a block's start or end). */
        uintptr_t head = blocks[i].addr - 8, next = blocks[i].addr + blocks[i].size + 32;
        if (!page_ok(head & ~(uintptr_t)4095) || !page_ok(next & ~(uintptr_t)4095)) {
            blocks[i].meta_offset = 0;
            continue;
        }
        /* glibc: the next chunk's header begins 8 bytes before the end of the usable area. */
        size_t usable = malloc_usable_size((void *)blocks[i].addr);
        blocks[i].meta_offset = usable >= 16 ? usable - 8 : 0;
    }
}

/* glibc's descriptor at tcb is that of a thread that ended: the kernel cleared its tid at the
 * exit (CLONE_CHILD_CLEARTID), which pthread_getcpuclockid reads, with no system call, about
 * 720 bytes in. The descriptor's first words were checked (leak_graph.c, cached_dtv); it lies
 * whole in its stack's mapping, but its pages are checked before anything is read. A thread
 * that ended without being joined counts too: its descriptor still holds its DTV. */
static int tcb_ended(uintptr_t tcb)
{
    return page_ok(tcb & ~(uintptr_t)4095) && page_ok((tcb + 2047) & ~(uintptr_t)4095) &&
           mt_sys_tid_of((pthread_t)tcb) == 0;
}

/* A thread running on a stack that is a heap block (a coroutine's): below its stack pointer
 * (less the red zone) lie dead frames, which memcheck knows hold nothing. Such a block is
 * scanned from there up once reached, as a stack mapping is. */
static void mark_stack_block(mt_leak_graph_t *g, uintptr_t sp)
{
    long i = mt_leakgraph_find(g, sp);
    if (i < 0)
        return;
    mt_leak_block_t *b = &g->blocks[i];
    uintptr_t from = sp - STACK_RED_ZONE > b->addr ? sp - STACK_RED_ZONE : b->addr;
    b->live_from = (from - b->addr) & ~(uint64_t)7;
}

static void mark_dead_frames(mt_leak_graph_t *g, uintptr_t own_sp)
{
    mark_stack_block(g, own_sp);
    for (size_t i = 0; i < slot_count; i++)
        if (slots[i].state == SLOT_STOPPED || slots[i].state == SLOT_ASLEEP)
            mark_stack_block(g, slots[i].sp);
}

__attribute__((noinline)) static int classify(mt_leak_block_t *blocks, size_t count,
                                              uint32_t *stack, mt_leakscan_stats_t *stats,
                                              uintptr_t own_sp)
{
    pid_t self = current_tid();
    /* Frames between the exit() call and this one are exit's machinery, standing where the
     * program's dead frames were: start at the caller of exit() when we know it. */
    if (exit_sp && exit_tid == self && exit_sp > own_sp)
        own_sp = exit_sp;
    int rc = stop_world(self);
    if (rc != 0)
        return rc;
    rc = load_mappings();
    if (rc != 0) {
        resume_world();
        return rc;
    }
    sort_blocks(blocks, count);
    size_t checked = set_aside_slabs(blocks, count);
    mark_allocator_metadata(blocks, checked);
    mt_leak_graph_t graph;
    mt_leakgraph_init(&graph, blocks, checked, stack);
    mt_leakvtable_attach(&graph);
    graph.page_ok = page_ok;
    graph.tcb_ended = tcb_ended;
    mark_dead_frames(&graph, own_sp);
    scan_ctx_t ctx = {.graph = &graph, .stats = stats, .own_sp = own_sp};
    scan_registers(&ctx);
    scan_mappings(&ctx);
    mt_leakgraph_finish(&graph);
    for (size_t i = checked; i < count; i++) /* the slabs: never listed as leaks */
        blocks[i].state = MT_LEAK_REACHABLE;
    probe_done();
    check_sleepers();
    for (size_t i = 0; i < slot_count; i++) {
        stats->threads_stopped += slots[i].state == SLOT_STOPPED || slots[i].state == SLOT_ASLEEP;
        stats->threads_missed += slots[i].state == SLOT_MISSED;
    }
    resume_world();
    return 0;
}

int mt_leakscan_run(mt_leak_block_t *blocks, size_t count, uint32_t *stack,
                    mt_leakscan_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    /* The arrays list every block: scanned as roots they would make everything reachable. */
    mt_own_add((uintptr_t)blocks, (uintptr_t)(blocks + count));
    mt_own_add((uintptr_t)stack, (uintptr_t)(stack + 2 * count));
    /* Spill callee-saved registers into this frame so values the caller kept in registers
     * are on the stack we scan; the scan's own deeper frames (below own_sp) are not roots. */
    __builtin_unwind_init();
    volatile uintptr_t marker = 0;
    return classify(blocks, count, stack, stats, (uintptr_t)&marker);
}
