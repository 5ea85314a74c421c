// SPDX-License-Identifier: MIT
// Allocation-free libc subset for the preload library (cf. mimalloc's libc.c): raw syscalls,
// page mappings and a truncating formatter. Never call malloc, stdio or strerror from here:
// these run inside hooks, in the writer thread and in fatal-signal handlers.
#include "base/mt_libc.h"

#include "base/own_ranges.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "the preload library supports x86-64 only (this file and fast_unwind.c)"
#endif

long mt_syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    long a[6] = {a0, a1, a2, a3, a4, a5};
    register long r10 __asm__("r10") = a[3];
    register long r8 __asm__("r8") = a[4];
    register long r9 __asm__("r9") = a[5];
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "0"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    if ((unsigned long)ret > -4096ul) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}

/* mt_syscall() sets errno; callers of these helpers are hooks that must leave the target's errno
 * untouched, so every helper restores it. */
static long mt_syscall_ret(long r, int saved)
{
    long out = r < 0 ? -(long)errno : r;
    errno = saved;
    return out;
}

long mt_sys_write(int fd, const void *buf, size_t len)
{
    int saved = errno;
    return mt_syscall_ret(mt_syscall(SYS_write, fd, buf, len), saved);
}

long mt_sys_read(int fd, void *buf, size_t len)
{
    int saved = errno;
    return mt_syscall_ret(mt_syscall(SYS_read, fd, buf, len), saved);
}

long mt_sys_open(const char *path, int flags, int mode)
{
    int saved = errno;
    return mt_syscall_ret(mt_syscall(SYS_openat, AT_FDCWD, path, flags, mode), saved);
}

long mt_sys_close(int fd)
{
    int saved = errno;
    return mt_syscall_ret(mt_syscall(SYS_close, fd), saved);
}

/* Confinement (mt_libc.h): 0 none, 1 the threads that confined themselves and their
 * children, 2 every thread (seccomp's TSYNC). Set once, never cleared: a filter cannot be
 * lifted. */
static int mt_sys_confined;
static int mt_sys_pid_cache;
static __thread int mt_sys_tid_cache __attribute__((tls_model("initial-exec")));

/*
 * glibc keeps a thread's tid in its descriptor, and pthread_getcpuclockid hands it out as the
 * kernel's per-thread CPU clock id, ((~tid) << 3) | 6 (the clock_gettime ABI's encoding,
 * CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED), with no system call. 0 when it cannot be had (a
 * thread that ended meanwhile has tid 0).
 */
int mt_sys_tid_of(pthread_t th)
{
    clockid_t c;
    if (pthread_getcpuclockid(th, &c) != 0 || (c & 7) != 6)
        return 0;
    long tid = ~((long)c >> 3); /* arithmetic shift: c is negative */
    return tid > 0 && tid <= INT32_MAX ? (int)tid : 0;
}

int mt_sys_gettid(void)
{
    if (MT_UNLIKELY(mt_sys_tid_cache))
        return mt_sys_tid_cache;
    /* A thread started inside a sandbox: its tid from glibc, not from the kernel. */
    if (MT_UNLIKELY(__atomic_load_n(&mt_sys_confined, __ATOMIC_ACQUIRE)) &&
        (mt_sys_tid_cache = mt_sys_tid_of(pthread_self())) != 0)
        return mt_sys_tid_cache;
    int saved = errno;
    int tid = (int)mt_syscall(SYS_gettid);
    errno = saved;
    return tid;
}

int mt_sys_getpid(void)
{
    if (MT_UNLIKELY(__atomic_load_n(&mt_sys_confined, __ATOMIC_ACQUIRE)))
        return mt_sys_pid_cache;
    int saved = errno;
    int pid = (int)mt_syscall(SYS_getpid);
    errno = saved;
    return pid;
}

void mt_sys_confine(bool every_thread)
{
    if (!__atomic_load_n(&mt_sys_confined, __ATOMIC_ACQUIRE))
        mt_sys_pid_cache = mt_sys_getpid();
    if (!mt_sys_tid_cache)
        mt_sys_tid_cache = mt_sys_gettid();
    int level = every_thread ? 2 : 1;
    if (level > __atomic_load_n(&mt_sys_confined, __ATOMIC_RELAXED))
        __atomic_store_n(&mt_sys_confined, level, __ATOMIC_RELEASE);
}

bool mt_sys_confined_here(bool writer_thread)
{
    int level = __atomic_load_n(&mt_sys_confined, __ATOMIC_ACQUIRE);
    return level == 2 || (level == 1 && !writer_thread);
}

void mt_sys_yield(void)
{
    if (MT_UNLIKELY(mt_sys_confined_here(false))) {
        mt_sys_nap(20000);
        return;
    }
    (void)mt_syscall(SYS_sched_yield);
}

void mt_sys_nap(long ns)
{
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    if (MT_UNLIKELY(mt_sys_confined_here(false))) {
        int never = 0; /* a wait on a word nobody wakes: the timeout is the sleep */
        (void)mt_syscall(SYS_futex, &never, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
        return;
    }
    (void)mt_syscall(SYS_nanosleep, &ts, NULL);
}

void mt_sys_confined_child(void)
{
    if (!__atomic_load_n(&mt_sys_confined, __ATOMIC_ACQUIRE))
        return;
    /* The filter is inherited. One getpid, which every filter seen allows (OpenSSH's, for
     * one): the child's only thread has the process's id as its own. */
    mt_sys_pid_cache = (int)mt_syscall(SYS_getpid);
    mt_sys_tid_cache = mt_sys_pid_cache;
}

int mt_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        long n = mt_sys_write(fd, p, len);
        if (n == -EINTR)
            continue;
        if (n < 0)
            return (int)n;
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

bool mt_kept_fd_open(mt_kept_fd_t *k, const char *path, int flags)
{
    int saved = errno;
    long fd = mt_sys_open(path, flags | O_CLOEXEC, 0);
    if (fd < 0) {
        errno = saved;
        return false;
    }
    long hi = mt_syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 100);
    if (hi >= 0) {
        mt_sys_close((int)fd);
        fd = hi;
    }
    struct stat st;
    bool ok = mt_syscall(SYS_fstat, fd, (long)&st) == 0;
    if (ok)
        *k = (mt_kept_fd_t){(int)fd, st.st_dev, st.st_ino};
    else
        mt_sys_close((int)fd);
    errno = saved;
    return ok;
}

int mt_kept_fd_get(const mt_kept_fd_t *k)
{
    int fd = __atomic_load_n(&k->fd, __ATOMIC_ACQUIRE);
    if (fd < 0)
        return -1;
    struct stat st;
    int saved = errno;
    bool same =
        mt_syscall(SYS_fstat, fd, (long)&st) == 0 && st.st_dev == k->dev && st.st_ino == k->ino;
    errno = saved;
    return same ? fd : -1;
}

/* The mappings made since mt_map_journal_begin by the thread that called it. */
#define MT_MAP_JOURNAL_MAX 64
static struct {
    void *p[MT_MAP_JOURNAL_MAX];
    size_t size[MT_MAP_JOURNAL_MAX];
    unsigned count;
} mt_map_journal;
static __thread bool mt_map_journal_on __attribute__((tls_model("initial-exec")));

void mt_map_journal_begin(void)
{
    mt_map_journal.count = 0;
    mt_map_journal_on = true;
}

void mt_map_journal_end(void)
{
    mt_map_journal_on = false;
}

void mt_map_journal_undo(void)
{
    mt_map_journal_on = false;
    for (unsigned i = mt_map_journal.count; i-- > 0;)
        mt_unmap(mt_map_journal.p[i], mt_map_journal.size[i]);
    mt_map_journal.count = 0;
}

void *mt_map_unlisted(size_t size)
{
    int saved = errno;
    long r = mt_syscall(SYS_mmap, NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    errno = saved;
    if (r == -1)
        return NULL;
    /* start-up maps a dozen: one beyond the journal's room would only stay mapped */
    if (MT_UNLIKELY(mt_map_journal_on) && mt_map_journal.count < MT_MAP_JOURNAL_MAX) {
        mt_map_journal.p[mt_map_journal.count] = (void *)r;
        mt_map_journal.size[mt_map_journal.count++] = size;
    }
    return (void *)r;
}

/* A mapping given back during start-up is no longer the journal's to undo. */
static void mt_map_journal_forget(void *p)
{
    for (unsigned i = 0; i < mt_map_journal.count; i++)
        if (mt_map_journal.p[i] == p) {
            mt_map_journal.count--;
            mt_map_journal.p[i] = mt_map_journal.p[mt_map_journal.count];
            mt_map_journal.size[i] = mt_map_journal.size[mt_map_journal.count];
            return;
        }
}

void mt_unmap_unlisted(void *p, size_t size)
{
    int saved = errno;
    if (p)
        mt_syscall(SYS_munmap, p, size);
    if (MT_UNLIKELY(mt_map_journal_on))
        mt_map_journal_forget(p);
    errno = saved;
}

void *mt_map(size_t size)
{
    void *p = mt_map_unlisted(size);
    /* memtrace's own memory (tables, log buffers) is never a root for the leak check. */
    if (p)
        mt_own_add((uintptr_t)p, (uintptr_t)p + size);
    return p;
}

void mt_unmap(void *p, size_t size)
{
    if (p) {
        mt_unmap_unlisted(p, size);
        mt_own_remove((uintptr_t)p, (uintptr_t)p + size);
    }
}

void mt_pages_release(void *p, size_t len)
{
    size_t n = (len + 4095) & ~(size_t)4095; /* madvise's granularity; larger pages round up */
    int saved = errno;
    if (n)
        (void)mt_syscall(SYS_madvise, p, n, MADV_DONTNEED);
    errno = saved;
}

void *mt_remap(void *p, size_t old_size, size_t new_size)
{
    int saved = errno;
    long r = mt_syscall(SYS_mremap, p, old_size, new_size, MREMAP_MAYMOVE);
    errno = saved;
    if (r == -1)
        return NULL;
    mt_own_remove((uintptr_t)p, (uintptr_t)p + old_size);
    mt_own_add((uintptr_t)r, (uintptr_t)r + new_size);
    return (void *)r;
}

void mt_sbuf_init(mt_sbuf_t *s, char *buf, size_t cap)
{
    s->buf = buf;
    s->cap = cap;
    s->len = 0;
    if (cap)
        buf[0] = '\0';
}

void mt_sbuf_addn(mt_sbuf_t *s, const char *text, size_t n)
{
    if (s->cap == 0)
        return;
    size_t room = s->cap - 1 - s->len;
    if (n > room)
        n = room;
    memcpy(s->buf + s->len, text, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

void mt_sbuf_add(mt_sbuf_t *s, const char *text)
{
    mt_sbuf_addn(s, text, strlen(text));
}

void mt_sbuf_u64(mt_sbuf_t *s, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    mt_sbuf_addn(s, tmp + i, sizeof tmp - i);
}

const char *mt_errno_text(int err)
{
    /* strerror() may translate (and allocate) through the locale machinery; this table covers
     * what a log write or open can realistically return. */
    switch (err) {
    case ENOSPC:
        return "No space left on device";
    case EDQUOT:
        return "Disk quota exceeded";
    case EBADF:
        return "Bad file descriptor";
    case EIO:
        return "Input/output error";
    case EFBIG:
        return "File too large";
    case EPIPE:
        return "Broken pipe";
    case EROFS:
        return "Read-only file system";
    case EACCES:
        return "Permission denied";
    case ENOENT:
        return "No such file or directory";
    case EEXIST:
        return "File exists";
    case ELOOP:
        return "Too many levels of symbolic links";
    case EMFILE:
        return "Too many open files";
    case ENAMETOOLONG:
        return "File name too long";
    case ENOMEM:
        return "Cannot allocate memory";
    case EINVAL:
        return "Invalid argument";
    default:
        return "Unknown error";
    }
}

/*
 * Where mt_msg writes. A program may close its standard error and open a file of its own,
 * which then takes descriptor 2 (the lowest free one): a message written to 2 would go into
 * the program's file (a disk-full message into its database). So the standard error of the
 * recorder's start is kept as a copy above the program's usual descriptors, and every message
 * checks, by device and inode, that the copy (or else 2) is still that file; when neither is,
 * the message is dropped: `memtrace run` reports a log cut short on its own.
 */
static int mt_msg_fd = 2;
static bool mt_msg_known; /* mt_msg_init found a standard error; dev and ino are its */
static dev_t mt_msg_dev;
static ino_t mt_msg_ino;

void mt_msg_init(void)
{
    int saved = errno;
    struct stat st;
    mt_msg_known = fstat(2, &st) == 0;
    if (mt_msg_known) {
        mt_msg_dev = st.st_dev;
        mt_msg_ino = st.st_ino;
        int fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
        mt_msg_fd = fd >= 0 ? fd : 2;
    } else {
        mt_msg_fd = -1; /* started without one: nothing to write to */
    }
    errno = saved;
}

static bool mt_msg_is_stderr(int fd)
{
    struct stat st;
    return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == mt_msg_dev && st.st_ino == mt_msg_ino;
}

/* The descriptor of the start's standard error, or -1. Before mt_msg_init: 2. */
static int mt_msg_target(void)
{
    if (!mt_msg_known)
        return mt_msg_fd;
    int saved = errno;
    int fd = mt_msg_is_stderr(mt_msg_fd) ? mt_msg_fd : mt_msg_is_stderr(2) ? 2 : -1;
    errno = saved;
    return fd;
}

void mt_msg(const char *msg)
{
    int fd = mt_msg_target();
    if (fd < 0)
        return;
    char buf[512];
    mt_sbuf_t s;
    mt_sbuf_init(&s, buf, sizeof buf - 1);
    mt_sbuf_add(&s, "memtrace: ");
    mt_sbuf_add(&s, msg);
    buf[s.len++] = '\n';
    int rc = mt_write_all(fd, buf, s.len);
    (void)rc; /* nowhere left to report a failure to report */
}

uint64_t mt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

__thread int mt_guard __attribute__((tls_model("initial-exec")));
__thread int mt_private_heap __attribute__((tls_model("initial-exec")));
