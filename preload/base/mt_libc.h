// SPDX-License-Identifier: MIT
// Allocation-free helpers for the preload library: raw syscalls, mmap-backed memory, a tiny
// string formatter and the one-line error message. Everything here is async-signal-safe and
// must never call malloc, stdio or anything that can re-enter the hooks.
#ifndef MT_LIBC_H
#define MT_LIBC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MT_HIDDEN __attribute__((visibility("hidden")))
#define MT_EXPORT __attribute__((visibility("default")))
#define MT_WUR __attribute__((warn_unused_result))
#define MT_LIKELY(x) __builtin_expect(!!(x), 1)
#define MT_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* syscall(2) for memtrace's own use: the program's calls to syscall() come to the hook in
 * hooks.c, memtrace's never do. -1 and errno on failure, like syscall(). mt_syscall(nr, ...)
 * takes up to six arguments and passes 0 for those left out: a variadic function would read
 * six whatever the call, the missing ones from the caller's stack frame (ASan flags it). */
long mt_syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5);
#define mt_syscall(...) MT_SYSCALL_PAD(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)
#define MT_SYSCALL_PAD(nr, a0, a1, a2, a3, a4, a5, ...)                                            \
    mt_syscall6((long)(nr), (long)(a0), (long)(a1), (long)(a2), (long)(a3), (long)(a4), (long)(a5))

/* Raw syscalls: they bypass our own mmap/munmap hooks and never touch errno-based state that
 * the target could observe (the caller saves errno where it matters). Return -errno on failure. */
long mt_sys_write(int fd, const void *buf, size_t len);
long mt_sys_read(int fd, void *buf, size_t len);
long mt_sys_open(const char *path, int flags, int mode);
long mt_sys_close(int fd);
int mt_sys_gettid(void);
int mt_sys_getpid(void);
/* Thread th's tid, read from glibc without a system call; 0 when it cannot be had. */
int mt_sys_tid_of(pthread_t th);

/*
 * A process that confines itself with seccomp (sshd's pre-authentication child, a sandboxed
 * worker) may be killed by any system call its filter does not list. The hooks call
 * mt_sys_confine just before the filter is installed (prctl(PR_SET_SECCOMP) or the seccomp
 * system call), from the thread that installs it: getpid and gettid are read then, and
 * answered from that from then on. every_thread: the filter covers every thread (TSYNC), the
 * writer thread too.
 */
void mt_sys_confine(bool every_thread);
/* True when the calling thread may be confined: then memtrace makes no system call it can do
 * without (the /proc reads of a sample, the log's close at exit). writer_thread: the caller
 * is memtrace's writer thread, started before a filter that did not cover every thread. */
bool mt_sys_confined_here(bool writer_thread);
/* In a forked child (its only thread): the caches hold the child's ids again. */
void mt_sys_confined_child(void);
/* Gives the processor up for a moment to a thread this one waits for (sched_yield), and sleeps
 * about ns nanoseconds (nanosleep); inside a sandbox both are a timed futex wait instead, as
 * futex is allowed wherever threads are. Errors are ignored: both are only waits. */
void mt_sys_yield(void);
void mt_sys_nap(long ns);

/* Writes all of buf, retrying on EINTR and short writes; 0 or -errno. */
MT_WUR int mt_write_all(int fd, const void *buf, size_t len);

/* Page-granular memory straight from the kernel; NULL on failure. */
void *mt_map(size_t size);
void mt_unmap(void *p, size_t size);
/* Gives the pages of [p, p + len) of a private anonymous mapping back to the kernel: they read
 * as zero and cost nothing until written again. Page-aligned p. */
void mt_pages_release(void *p, size_t len);
/* The same for per-thread memory that never holds a heap address (unwind rule caches): not
 * listed as excluded from the leak scan, whose table of ranges is small and would overflow
 * with hundreds of threads (then memtrace's own tables would become roots). */
void *mt_map_unlisted(size_t size);
void mt_unmap_unlisted(void *p, size_t size);
void *mt_remap(void *p, size_t old_size, size_t new_size);

/* A descriptor memtrace keeps open across what the program does (a chroot, a change of user):
 * at 100 or above, close-on-exec, with the identity of what it opened, since the program may
 * close it and reuse the number. fd -1: none. */
typedef struct mt_kept_fd {
    int fd;
    dev_t dev;
    ino_t ino;
} mt_kept_fd_t;

/* Opens path (flags gain O_CLOEXEC) into k. False, k untouched, when it cannot be opened. */
bool mt_kept_fd_open(mt_kept_fd_t *k, const char *path, int flags);
/* k's descriptor while it is still what was opened, else -1. errno is kept. */
int mt_kept_fd_get(const mt_kept_fd_t *k);

/* Start-up that fails part way gives back what it mapped: between begin and end, this
 * thread's mt_map and mt_map_unlisted calls are noted (the first 64), and undo unmaps them
 * (a program under `ulimit -v` that memtrace cannot record keeps its address space). */
void mt_map_journal_begin(void);
void mt_map_journal_end(void);
void mt_map_journal_undo(void);

/* A bounded string builder over a caller buffer; it truncates, never overflows, and keeps
 * the buffer NUL-terminated. */
typedef struct mt_sbuf {
    char *buf;
    size_t cap, len;
} mt_sbuf_t;

void mt_sbuf_init(mt_sbuf_t *s, char *buf, size_t cap);
void mt_sbuf_add(mt_sbuf_t *s, const char *text);
void mt_sbuf_addn(mt_sbuf_t *s, const char *text, size_t n);
void mt_sbuf_u64(mt_sbuf_t *s, uint64_t v);

/* English text for an errno value without locale lookups or allocation. */
const char *mt_errno_text(int err);

/* "memtrace: " + msg + "\n" on the standard error the process had when mt_msg_init ran, in
 * one write(2); dropped when that file is gone (see mt_libc.c). */
void mt_msg(const char *msg);
/* At the recorder's start: remembers the standard error of the moment for mt_msg. */
void mt_msg_init(void);

/* Monotonic microseconds from the vDSO clock (no lock, no allocation). */
uint64_t mt_now_us(void);

/* Reentrancy guard: non-zero while this thread is inside memtrace (hooks, writer thread).
 * initial-exec TLS so reading it never calls into the TLS allocator (__tls_get_addr). */
extern __thread int mt_guard __attribute__((tls_model("initial-exec")));
/* Set around memtrace's own start-up lookups (dlsym, dladdr): glibc allocates and frees small
 * blocks there (a failed dlsym's error string), which would leave holes in the program's heap
 * and change where its blocks land. While set, this thread's allocations made with the guard
 * held come from the static early buffer instead; python_hooks.c also makes memtrace's own
 * Python objects there, unguarded. Start-up only: the buffer is small. */
extern __thread int mt_private_heap __attribute__((tls_model("initial-exec")));
#endif
