// SPDX-License-Identifier: MIT
// The interposed symbols, and nothing else: each checks the reentrancy guard, calls the real
// function (found with dlsym(RTLD_NEXT)) and hands the event to the recorder. They must stay
// short, keep errno as the real call left it, and never recurse into themselves.
/* meson adds -D_FILE_OFFSET_BITS=64, which renames mmap to mmap64 in the headers; we define
 * both symbols ourselves (off_t is 64-bit on every target we support). */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/config.h"
#include "base/early_alloc.h"
#include "base/exec_link.h"
#include "base/exec_sanitizer.h"
#include "base/last_thread.h"
#include "base/log_dir.h"
#include "base/proc_dir.h"
#include "base/mt_libc.h"
#include "base/own_ranges.h"
#include "base/signal_defer.h"
#include "base/tls_extra.h"
#include "freeres.h"
#include "hooks/attach.h"
#include "hooks/hook_list.h"
#include "hooks/python_hooks.h"
#include "io/log_writer.h"
#include "leak/leak_scan.h"
#include "lifecycle.h"
#include "python/python.h"
#include "record/recorder.h"

/* The real functions (hook_list.h), and the program's main (__libc_start_main's hook). */
#define MT_REAL_FIELD(field, symbol, when, ret, params, attrs) ret(*field) params attrs;
static struct {
    MT_HOOK_LIST(MT_REAL_FIELD)
    int (*main)(int, char **, char **);
} mt_real;
#undef MT_REAL_FIELD

/* Set while dlsym() runs: allocations it makes are served from the static early buffer. */
static int mt_resolving;

/* dlsym returns an object pointer; copying it avoids a pedantic function-pointer cast. */
#define MT_SYM(field, name)                                                                        \
    do {                                                                                           \
        void *sym_ = dlsym(RTLD_NEXT, name);                                                       \
        memcpy(&mt_real.field, &sym_, sizeof sym_);                                                \
    } while (0)

void mt_hooks_find_dlsym(void);

static void mt_hooks_resolve(void)
{
    if (mt_resolving || mt_real.free)
        return;
    mt_resolving = 1;
    mt_hooks_find_dlsym();
    /* in hook_list.h's order: free last, so that a non-NULL free means everything is there */
#define MT_AT_START(field, symbol) MT_SYM(field, symbol);
#define MT_ON_USE(field, symbol)
#define MT_RESOLVE(field, symbol, when, ret, params, attrs) when(field, symbol)
    MT_HOOK_LIST(MT_RESOLVE)
#undef MT_RESOLVE
#undef MT_ON_USE
#undef MT_AT_START
    mt_resolving = 0;
}

/*
 * Recording starts with the first intercepted call that can be recorded, whenever it comes:
 * the constructors of the libraries the program links run before ours when they do not
 * depend on us (libstdc++'s emergency pool, a library's own start-up allocations), and what
 * they allocate is the program's. By then libc is initialised (it is a dependency of any
 * library that calls malloc, so its constructors ran first). Not while dlsym resolves the real
 * functions (its allocations come from the early buffer) nor from inside memtrace.
 */
static int mt_hooks_started;

/* What the lifecycle calls of the Python hooks (it sits below them). */
static const mt_life_python_t mt_hooks_python = {mt_py_detect, mt_py_install, mt_py_log_started};

static __attribute__((noinline, cold)) void mt_hooks_start(void)
{
    mt_hooks_resolve();
    if (mt_guard || mt_resolving || !mt_real.free ||
        __atomic_exchange_n(&mt_hooks_started, 1, __ATOMIC_ACQ_REL))
        return;
    int saved = errno;
    mt_life_init(&mt_hooks_python);
    mt_guard++;
    mt_tls_init();
    if (mt_rec_active())
        mt_freeres_install();
    mt_guard--;
    errno = saved;
}

__attribute__((constructor(101))) static void mt_hooks_ctor(void)
{
    /* dlopen'd by `memtrace attach` (hooks/attach.c): recording starts with its settings, and
     * the calls reach the hooks once the GOT is patched, after the real functions are known */
    bool attached = mt_attach_prepare();
    mt_hooks_start();
    if (attached)
        mt_attach_start();
}

/* True when this call should be recorded; the caller then sets the guard. */
static inline int mt_hooks_wanted(void)
{
    if (MT_LIKELY(!mt_guard))
        return mt_rec_active();
    /* A handler that interrupted memtrace and could not be held (signal_defer.h). */
    if (MT_UNLIKELY(mt_sigdefer_unrecorded) && mt_rec_active())
        mt_sigdefer_count_unrecorded();
    return 0;
}

/*
 * The end of an allocation hook. With the leak check on, the scratch registers are cleared:
 * memtrace's own code leaves the new block's address in some (r8), where the plain malloc
 * would not, and a thread that then blocks in a system call keeps it there for the exit scan
 * to find, so a block it dropped would look reachable.
 */
static inline __attribute__((always_inline)) void mt_hooks_leave_alloc(void)
{
    mt_guard_leave();
    if (MT_UNLIKELY(mt_config.leak_check))
        __asm__ volatile("xorl %%ecx, %%ecx\n\txorl %%edx, %%edx\n\t"
                         "xorl %%esi, %%esi\n\txorl %%edi, %%edi\n\t"
                         "xorl %%r8d, %%r8d\n\txorl %%r9d, %%r9d\n\t"
                         "xorl %%r10d, %%r10d\n\txorl %%r11d, %%r11d"
                         :
                         :
                         : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
}

/* Records an allocation result with the guard set and errno preserved. */
static inline void mt_hooks_alloc(enum mt_alloc_kind kind, void *p, size_t size)
{
    int saved = errno;
    if (MT_UNLIKELY(__atomic_load_n(&mt_py_domains_watch, __ATOMIC_RELAXED) == 1))
        mt_py_domains_check(); /* python_hooks.h: PYTHONMALLOC, -X dev */
    mt_rec_alloc(kind, p, size);
    errno = saved;
}

/* p is still allocated: its usable size is read before the real free or realloc. */
static inline void mt_hooks_free(enum mt_tag tag, void *p)
{
    int saved = errno;
    mt_rec_free(tag, p, mt_rec_usable_returned(p));
    errno = saved;
}

/*
 * Not recorded, but counted in the glibc heap total: malloc called by pymalloc from inside a
 * Python allocator domain (our wrapper in python_hooks.c holds the guard and records the
 * domain's event). Objects over 512 bytes are glibc blocks that way; the small ones live in
 * pymalloc's arenas and never come here. Errno as the real call left it.
 */
static __attribute__((noinline)) void mt_hooks_inner(void *released, void *added)
{
    int saved = errno;
    mt_rec_heap_inner(released ? mt_rec_usable_returned(released) : 0,
                      added ? mt_rec_usable(added) : 0);
    errno = saved;
}

/* Before the real functions are known (only while dlsym runs, or before our constructor when
 * another library's constructor allocates first); and until recording has started (see
 * mt_hooks_start), which the first call that can be recorded does. */
#define MT_ENSURE(fn)                                                                              \
    do {                                                                                           \
        if (MT_UNLIKELY(!__atomic_load_n(&mt_hooks_started, __ATOMIC_ACQUIRE)))                    \
            mt_hooks_start();                                                                      \
        if (MT_UNLIKELY(!mt_real.fn))                                                              \
            mt_hooks_resolve();                                                                    \
    } while (0)

MT_EXPORT void *malloc(size_t size)
{
    MT_ENSURE(malloc);
    if (MT_UNLIKELY(!mt_real.malloc))
        return mt_early_alloc(size, 16);
    if (!mt_hooks_wanted()) {
        if (MT_UNLIKELY(mt_private_heap))
            return mt_early_alloc(size, 16);
        void *p = mt_real.malloc(size);
        if (MT_UNLIKELY(mt_py_in_domain) && p)
            mt_hooks_inner(NULL, p);
        return p;
    }
    mt_guard = 1;
    void *p = mt_real.malloc(size);
    if (MT_LIKELY(p != NULL))
        mt_hooks_alloc(MT_ALLOC_MALLOC, p, size);
    mt_hooks_leave_alloc();
    return p;
}

MT_EXPORT void free(void *p)
{
    /* free(NULL) is not an event; early-buffer blocks never reach the real free. */
    if (!p || MT_UNLIKELY(mt_early_owns(p)))
        return;
    MT_ENSURE(free);
    if (!mt_hooks_wanted()) {
        if (MT_UNLIKELY(mt_py_in_domain))
            mt_hooks_inner(p, NULL);
        mt_real.free(p);
        return;
    }
    mt_guard = 1;
    /* Recorded before the real free: once freed, another thread may get p back and record its
     * allocation, which must come after this event in the log. */
    mt_hooks_free(MT_TAG_FREE, p);
    mt_real.free(p);
    mt_guard_leave();
}

MT_EXPORT void *calloc(size_t n, size_t size)
{
    MT_ENSURE(calloc);
    if (MT_UNLIKELY(!mt_real.calloc)) {
        size_t total;
        if (__builtin_mul_overflow(n, size, &total))
            return NULL;
        return mt_early_alloc(total, 16); /* static storage: already zero */
    }
    if (!mt_hooks_wanted()) {
        size_t total;
        if (MT_UNLIKELY(mt_private_heap) && !__builtin_mul_overflow(n, size, &total))
            return mt_early_alloc(total, 16); /* never handed out before: still zero */
        void *p = mt_real.calloc(n, size);
        if (MT_UNLIKELY(mt_py_in_domain) && p)
            mt_hooks_inner(NULL, p);
        return p;
    }
    mt_guard = 1;
    void *p = mt_real.calloc(n, size);
    /* A new thread's DTV is recorded as big as without memtrace's own TLS (tls_extra.h). */
    if (MT_UNLIKELY(size == 16 && mt_tls_extra))
        n = mt_tls_dtv_entries(n, __builtin_return_address(0));

    if (MT_LIKELY(p != NULL))
        mt_hooks_alloc(MT_ALLOC_CALLOC, p, n * size);
    mt_hooks_leave_alloc();
    return p;
}

/* realloc of a block from the early buffer: move it to the real heap (untracked origin). */
static void *mt_hooks_realloc_early(void *p, size_t size)
{
    void *q = malloc(size);
    if (q) {
        size_t old = mt_early_size(p);
        memcpy(q, p, old < size ? old : size);
    }
    return q;
}

/* realloc inside a Python allocator domain (see mt_hooks_inner): the old block's size is read
 * while it is still allocated. */
static void *mt_hooks_realloc_inner(void *p, size_t size)
{
    uint64_t old = p ? mt_rec_usable_returned(p) : 0;
    void *q = mt_real.realloc(p, size);
    int saved = errno;
    if (q || (p && size == 0)) /* moved, resized, or freed by realloc(p, 0) */
        mt_rec_heap_inner(old, q ? mt_rec_usable(q) : 0);
    errno = saved;
    return q;
}

/* realloc follows the protocol of log_format.h: RELEASE before, then ALLOC / FAILED / nothing. */
MT_EXPORT void *realloc(void *p, size_t size)
{
    if (MT_UNLIKELY(mt_early_owns(p)))
        return mt_hooks_realloc_early(p, size);
    MT_ENSURE(realloc);
    if (MT_UNLIKELY(!mt_real.realloc))
        return p ? NULL : mt_early_alloc(size, 16);
    if (!mt_hooks_wanted()) {
        if (MT_UNLIKELY(mt_private_heap && !p))
            return mt_early_alloc(size, 16);
        if (MT_UNLIKELY(mt_py_in_domain))
            return mt_hooks_realloc_inner(p, size);
        return mt_real.realloc(p, size);
    }
    mt_guard = 1;
    if (p)
        mt_hooks_free(MT_TAG_REALLOC_RELEASE, p);
    void *q = mt_real.realloc(p, size);
    if (q)
        mt_hooks_alloc(MT_ALLOC_REALLOC, q, size);
    else if (p && size != 0)
        mt_hooks_free(MT_TAG_REALLOC_FAILED, p);
    /* q == NULL with size 0: glibc freed p; RELEASE already said so. */
    mt_hooks_leave_alloc();
    return q;
}

MT_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    if (MT_UNLIKELY(mt_early_owns(p))) {
        size_t total;
        if (__builtin_mul_overflow(n, size, &total)) {
            errno = ENOMEM;
            return NULL;
        }
        return mt_hooks_realloc_early(p, total);
    }
    MT_ENSURE(reallocarray);
    if (!mt_hooks_wanted())
        return mt_real.reallocarray(p, n, size);
    size_t total;
    int overflow = __builtin_mul_overflow(n, size, &total);
    mt_guard = 1;
    if (p)
        mt_hooks_free(MT_TAG_REALLOC_RELEASE, p);
    void *q = mt_real.reallocarray(p, n, size);
    if (q)
        mt_hooks_alloc(MT_ALLOC_REALLOCARRAY, q, total);
    else if (p && (overflow || total != 0))
        mt_hooks_free(MT_TAG_REALLOC_FAILED, p);
    mt_hooks_leave_alloc();
    return q;
}

MT_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
    MT_ENSURE(posix_memalign);
    if (MT_UNLIKELY(!mt_real.posix_memalign)) {
        *out = mt_early_alloc(size, align);
        return *out ? 0 : ENOMEM;
    }
    if (!mt_hooks_wanted())
        return mt_real.posix_memalign(out, align, size);
    mt_guard = 1;
    int rc = mt_real.posix_memalign(out, align, size);
    if (rc == 0)
        mt_hooks_alloc(MT_ALLOC_POSIX_MEMALIGN, *out, size);
    mt_hooks_leave_alloc();
    return rc;
}

/* aligned_alloc, memalign, valloc, pvalloc share one shape. */
#define MT_ALIGNED_HOOK(name, kind, params, args, early)                                           \
    MT_EXPORT void *name params                                                                    \
    {                                                                                              \
        MT_ENSURE(name);                                                                           \
        if (MT_UNLIKELY(!mt_real.name))                                                            \
            return early;                                                                          \
        if (!mt_hooks_wanted())                                                                    \
            return mt_real.name args;                                                              \
        mt_guard = 1;                                                                              \
        void *p = mt_real.name args;                                                               \
        if (p)                                                                                     \
            mt_hooks_alloc(kind, p, size);                                                         \
        mt_hooks_leave_alloc();                                                                    \
        return p;                                                                                  \
    }

MT_ALIGNED_HOOK(aligned_alloc, MT_ALLOC_ALIGNED_ALLOC, (size_t align, size_t size), (align, size),
                mt_early_alloc(size, align))
MT_ALIGNED_HOOK(memalign, MT_ALLOC_MEMALIGN, (size_t align, size_t size), (align, size),
                mt_early_alloc(size, align))
MT_ALIGNED_HOOK(valloc, MT_ALLOC_VALLOC, (size_t size), (size), mt_early_alloc(size, 4096))
MT_ALIGNED_HOOK(pvalloc, MT_ALLOC_PVALLOC, (size_t size), (size), mt_early_alloc(size, 4096))

/*
 * glibc's allocator under its own names (__libc_malloc and the rest, which malloc and the
 * others are aliases of in glibc): a program may call them directly, and memcheck counts those
 * calls, so memtrace does too, through the hook of the standard name (whose frames in this
 * library are left out of the stack like the hook's own). Called inside a hooked call (a
 * malloc wrapper loaded after memtrace, forwarding to them, as libc_malloc_debug does), they
 * go straight to glibc's, so that nothing is recorded twice and no wrapper is entered again.
 */
#define MT_LIBC_NAME_HOOK(ret, name, params, args, hook)                                           \
    MT_EXPORT ret name params;                                                                     \
    MT_EXPORT ret name params                                                                      \
    {                                                                                              \
        if (MT_UNLIKELY(mt_guard)) {                                                               \
            MT_ENSURE(name);                                                                       \
            if (MT_LIKELY(mt_real.name != NULL))                                                   \
                return mt_real.name args;                                                          \
        }                                                                                          \
        return mt_local_##hook args;                                                               \
    }

/* The hooks by names bound inside this library: through the PLT, malloc would be whichever
 * comes first in the program, which may be a wrapper that called us (and round it goes). */
#if defined(__GNUC__) && !defined(__clang__)
#define MT_LOCAL_HOOK(hook)                                                                        \
    extern __typeof__(hook) mt_local_##hook __attribute__((alias(#hook), copy(hook)))
#else
#define MT_LOCAL_HOOK(hook) extern __typeof__(hook) mt_local_##hook __attribute__((alias(#hook)))
#endif
MT_LOCAL_HOOK(malloc);
MT_LOCAL_HOOK(calloc);
MT_LOCAL_HOOK(realloc);
MT_LOCAL_HOOK(free);
MT_LOCAL_HOOK(memalign);
MT_LOCAL_HOOK(valloc);
MT_LOCAL_HOOK(pvalloc);

MT_LIBC_NAME_HOOK(void *, __libc_malloc, (size_t size), (size), malloc)
MT_LIBC_NAME_HOOK(void *, __libc_calloc, (size_t n, size_t size), (n, size), calloc)
MT_LIBC_NAME_HOOK(void *, __libc_realloc, (void *p, size_t size), (p, size), realloc)
MT_LIBC_NAME_HOOK(void *, __libc_memalign, (size_t align, size_t size), (align, size), memalign)
MT_LIBC_NAME_HOOK(void *, __libc_valloc, (size_t size), (size), valloc)
MT_LIBC_NAME_HOOK(void *, __libc_pvalloc, (size_t size), (size), pvalloc)
MT_EXPORT void __libc_free(void *p);
MT_EXPORT void __libc_free(void *p)
{
    if (MT_UNLIKELY(mt_guard)) {
        MT_ENSURE(__libc_free);
        if (MT_LIKELY(mt_real.__libc_free != NULL)) {
            mt_real.__libc_free(p);
            return;
        }
    }
    mt_local_free(p);
}

/* ---- anonymous mappings ---- */

/* An anonymous mapping, recorded. */
static void *mt_hooks_mmap_recorded(void *(*real)(void *, size_t, int, int, int, off_t), void *addr,
                                    size_t len, int prot, int flags, int fd, off_t off)
{
    if (!(flags & MAP_ANONYMOUS) || !mt_hooks_wanted())
        return real(addr, len, prot, flags, fd, off);
    mt_guard = 1;
    int saved = errno;
    if (flags & MAP_FIXED) /* silently replaces whatever was mapped there */
        mt_rec_munmap(addr, len);
    errno = saved;
    void *p = real(addr, len, prot, flags, fd, off);
    saved = errno;
    if (p != MAP_FAILED)
        mt_rec_mmap(p, len, MT_MAP_MMAP);
    errno = saved;
    mt_guard_leave();
    return p;
}

/* A mapping a foreign allocator (jemalloc, tcmalloc) made for itself, mostly from inside a
 * malloc (so not recorded): no root for the leak check (own_ranges.h). Whoever else maps over
 * it takes it back. */
static __attribute__((noinline)) void *mt_hooks_allocator_mmap(void *p, size_t len, int flags,
                                                               uintptr_t caller)
{
    if (p == MAP_FAILED)
        return p;
    if (mt_own_is_allocator_code(caller))
        mt_own_allocator_mapped((uintptr_t)p, (uintptr_t)p + len);
    else if (flags & MAP_FIXED)
        mt_own_allocator_unmapped((uintptr_t)p, (uintptr_t)p + len);
    return p;
}

/* caller: the return address of the exported mmap, which tells the allocator's own calls. */
static inline void *mt_hooks_mmap_common(void *(*real)(void *, size_t, int, int, int, off_t),
                                         void *addr, size_t len, int prot, int flags, int fd,
                                         off_t off, uintptr_t caller)
{
    if (MT_UNLIKELY(!real)) /* before dlsym finished: straight to the kernel */
        return (void *)mt_syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    void *p = mt_hooks_mmap_recorded(real, addr, len, prot, flags, fd, off);
    if (MT_UNLIKELY(__atomic_load_n(&mt_own_allocator_hi, __ATOMIC_RELAXED)))
        return mt_hooks_allocator_mmap(p, len, flags, caller);
    if (MT_UNLIKELY(!__atomic_load_n(&mt_own_allocator_known, __ATOMIC_ACQUIRE)) &&
        p != MAP_FAILED && (flags & MAP_ANONYMOUS))
        mt_own_early_mapped((uintptr_t)p, (uintptr_t)p + len, caller);
    return p;
}

MT_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    MT_ENSURE(mmap);
    return mt_hooks_mmap_common(mt_real.mmap, addr, len, prot, flags, fd, off,
                                (uintptr_t)__builtin_return_address(0));
}

MT_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    MT_ENSURE(mmap64);
    return mt_hooks_mmap_common(mt_real.mmap64, addr, len, prot, flags, fd, off,
                                (uintptr_t)__builtin_return_address(0));
}

MT_EXPORT int munmap(void *addr, size_t len)
{
    MT_ENSURE(munmap);
    if (MT_UNLIKELY(!mt_real.munmap))
        return (int)mt_syscall(SYS_munmap, addr, len);
    mt_own_allocator_unmapped((uintptr_t)addr, (uintptr_t)addr + len);
    if (!mt_hooks_wanted())
        return mt_real.munmap(addr, len);
    mt_guard = 1;
    /* Before the real call, like free: the range may be handed out again at once. File
     * mappings are recorded too; the analyzer ignores ranges it never saw mapped. */
    int saved = errno;
    mt_rec_munmap(addr, len);
    errno = saved;
    int rc = mt_real.munmap(addr, len);
    mt_guard_leave();
    return rc;
}

MT_EXPORT void *mremap(void *old, size_t old_size, size_t new_size, int flags, ...)
{
    void *new_addr = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        new_addr = va_arg(ap, void *);
        va_end(ap);
    }
    MT_ENSURE(mremap);
    if (MT_UNLIKELY(!mt_real.mremap))
        return (void *)mt_syscall(SYS_mremap, old, old_size, new_size, flags, new_addr);
    if (!mt_hooks_wanted())
        return mt_real.mremap(old, old_size, new_size, flags, new_addr);
    mt_guard = 1;
    int saved = errno;
    mt_rec_munmap(old, old_size);
    errno = saved;
    void *p = mt_real.mremap(old, old_size, new_size, flags, new_addr);
    saved = errno;
    if (p != MAP_FAILED)
        mt_rec_mmap(p, new_size, MT_MAP_MREMAP);
    else
        mt_rec_mmap(old, old_size, MT_MAP_MMAP); /* failed: the old range is still mapped */
    errno = saved;
    mt_guard_leave();
    return p;
}

/* ---- the malloc family looked up by handle ----
 *
 * dlsym(libc_handle, "malloc") (ctypes.CDLL("libc.so.6").malloc, plugin loaders) finds libc's
 * own malloc, not the interposed one, and its calls would go unseen. The lookup of any of the
 * functions hooked here through a handle returns the hook instead. RTLD_DEFAULT and
 * RTLD_NEXT already find the hooks where they should (and glibc resolves RTLD_NEXT from its
 * caller's address): those go straight to libc's dlsym with a jump, so that the caller's
 * address is the program's.
 */
void *(*mt_hooks_real_dlsym)(void *, const char *);

/* The hook standing for real, or real itself when it is none of ours. */
static void *mt_hooks_own(void *real)
{
    if (!real)
        return NULL;
#define MT_OWN(field, hook)                                                                        \
    do {                                                                                           \
        void *r_, *h_;                                                                             \
        __typeof__(&hook) f_ = &hook;                                                              \
        memcpy(&r_, &mt_real.field, sizeof r_);                                                    \
        memcpy(&h_, &f_, sizeof h_);                                                               \
        if (r_ == real)                                                                            \
            return h_;                                                                             \
    } while (0)
    MT_OWN(malloc, malloc);
    MT_OWN(free, free);
    MT_OWN(calloc, calloc);
    MT_OWN(realloc, realloc);
    MT_OWN(reallocarray, reallocarray);
    MT_OWN(posix_memalign, posix_memalign);
    MT_OWN(aligned_alloc, aligned_alloc);
    MT_OWN(memalign, memalign);
    MT_OWN(valloc, valloc);
    MT_OWN(pvalloc, pvalloc);
    MT_OWN(mmap, mmap);
    MT_OWN(mmap64, mmap64);
    MT_OWN(munmap, munmap);
    MT_OWN(mremap, mremap);
#undef MT_OWN
    return real;
}

/* dlsym with a real handle (the asm entry below sends RTLD_DEFAULT and RTLD_NEXT past it). */
void *mt_hooks_dlsym_handle(void *handle, const char *name);
void *mt_hooks_dlsym_handle(void *handle, const char *name)
{
    void *p = mt_hooks_real_dlsym(handle, name);
    int saved = errno;
    void *own = mt_hooks_own(p);
    errno = saved;
    return own;
}

/* RTLD_DEFAULT is 0 and RTLD_NEXT is -1 in glibc. A library's constructor may look a symbol
 * up before ours has run: libc's dlsym is found first then, with the arguments kept. */
__asm__(".text\n"
        ".p2align 4\n"
        ".globl dlsym\n"
        ".type dlsym, @function\n"
        "dlsym:\n"
        "    .cfi_startproc\n"
        "    cmpq $0, mt_hooks_real_dlsym(%rip)\n"
        "    jne 2f\n"
        "    pushq %rdi\n"
        "    .cfi_adjust_cfa_offset 8\n"
        "    pushq %rsi\n"
        "    .cfi_adjust_cfa_offset 8\n"
        "    subq $8, %rsp\n"
        "    .cfi_adjust_cfa_offset 8\n"
        "    call mt_hooks_find_dlsym\n"
        "    addq $8, %rsp\n"
        "    .cfi_adjust_cfa_offset -8\n"
        "    popq %rsi\n"
        "    .cfi_adjust_cfa_offset -8\n"
        "    popq %rdi\n"
        "    .cfi_adjust_cfa_offset -8\n"
        "2:  testq %rdi, %rdi\n"
        "    je 1f\n"
        "    cmpq $-1, %rdi\n"
        "    je 1f\n"
        "    jmp mt_hooks_dlsym_handle\n"
        "1:  jmp *mt_hooks_real_dlsym(%rip)\n"
        "    .cfi_endproc\n"
        ".size dlsym, .-dlsym\n");

/* libc's dlsym, from libc's dlvsym (which is not interposed): before anything else looks a
 * symbol up, since every dlsym call comes through the entry above. */
void mt_hooks_find_dlsym(void);
void mt_hooks_find_dlsym(void)
{
    if (mt_hooks_real_dlsym)
        return;
    void *p = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    if (!p)
        p = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
    memcpy(&mt_hooks_real_dlsym, &p, sizeof p);
}

/* ---- modules ---- */

/* RTLD_DEEPBIND puts a library's own scope, and its C library's, before the preloads: its
 * calls to malloc and free go to glibc's directly. Said once per library, in the log (the
 * reports' allocator notice) and on stderr, since its blocks' counts cannot be right. Patching
 * its GOT as `memtrace attach` does would need the library's constructors to wait, and the
 * dlopen below must stay a tail call. */
static void mt_hooks_deepbind_notice(const char *file)
{
    if (!mt_hooks_wanted())
        return;
    mt_guard = 1;
    char buf[PATH_MAX + 256];
    mt_sbuf_t s;
    mt_sbuf_init(&s, buf, sizeof buf);
    mt_sbuf_add(&s, file ? file : "the program");
    mt_sbuf_add(&s, " is loaded with RTLD_DEEPBIND: its malloc and free calls bypass memtrace "
                    "(blocks it allocates are not seen; blocks it frees look not freed)");
    mt_rec_notice(MT_NOTICE_ALLOCATOR, buf);
    mt_msg(buf);
    mt_guard_leave();
}

MT_EXPORT void *dlopen(const char *file, int mode)
{
    MT_ENSURE(dlopen);
    if (MT_UNLIKELY(mode & RTLD_DEEPBIND))
        mt_hooks_deepbind_notice(file);
    /* Must stay a tail call: glibc's dlopen searches the DT_RUNPATH/RPATH of the object its
     * return address lies in, which has to be the caller's, not ours. The new module is
     * picked up by the allocations that follow (mt_rec_dl_pending, timer.c) or the writer's
     * tick. */
    __atomic_store_n(&mt_rec_dl_pending, MT_REC_DL_WATCH, __ATOMIC_RELAXED);
    return mt_real.dlopen(file, mode);
}

MT_EXPORT int dlclose(void *handle)
{
    MT_ENSURE(dlclose);
    if (!mt_hooks_wanted())
        return mt_real.dlclose(handle);
    mt_guard = 1;
    mt_rec_modules_changed(); /* modules loaded since the last scan, before they vanish */
    mt_guard_leave();
    int rc = mt_real.dlclose(handle); /* its destructors' frees are recorded */
    int saved = errno;
    mt_guard = 1;
    mt_rec_modules_changed();
    mt_guard_leave();
    errno = saved;
    return rc;
}

/* ---- process end and image replacement ---- */

/* _exit and _Exit: the program has chosen its status, and a plain _exit is one system call, so
 * a signal sent after it finds no process. Writing the end of the log takes longer: a signal
 * that arrives meanwhile (a pool's terminate() racing a worker's own exit) is held by the
 * guard and must never be delivered, or the exit would become a death by that signal. The
 * guard stays set until the real _exit. */
static void mt_hooks_finish_for_good(int status)
{
    if (!mt_hooks_wanted())
        return;
    mt_guard = 1;
    mt_life_finish(MT_EXIT_NORMAL, status);
}

MT_EXPORT void _exit(int status)
{
    MT_ENSURE(exit_);
    mt_hooks_finish_for_good(status);
    if (mt_real.exit_)
        mt_real.exit_(status);
    for (;;)
        mt_syscall(SYS_exit_group, status);
}

/*
 * The leak check scans the exiting thread's stack from the frame that called exit(): the
 * frames of exit's own machinery below it (our handler included) sit where the program's
 * dead frames were, and stale pointers there would make lost blocks look reachable. The
 * caller's callee-saved registers are the program's, though: a pointer kept only in one of
 * them at the call is still held (memcheck finds it where exit's frames saved it). So exit()
 * is entered in assembly, which pushes those six registers and hands their address on: the
 * scan starts there, at the registers, then the caller's frame. CFI keeps the frame
 * unwindable for the stacks of what exit handlers allocate.
 */
__attribute__((noreturn, used)) void mt_hooks_exit(int status, const uintptr_t *saved);

__asm__(".text\n"
        ".globl exit\n"
        ".type exit, @function\n"
        "exit:\n"
        ".cfi_startproc\n"
#if defined(__CET__)
        "endbr64\n"
#endif
        "push %rbx\n"
        ".cfi_adjust_cfa_offset 8\n"
        ".cfi_rel_offset %rbx, 0\n"
        "push %rbp\n"
        ".cfi_adjust_cfa_offset 8\n"
        ".cfi_rel_offset %rbp, 0\n"
        "push %r12\n"
        ".cfi_adjust_cfa_offset 8\n"
        ".cfi_rel_offset %r12, 0\n"
        "push %r13\n"
        ".cfi_adjust_cfa_offset 8\n"
        ".cfi_rel_offset %r13, 0\n"
        "push %r14\n"
        ".cfi_adjust_cfa_offset 8\n"
        ".cfi_rel_offset %r14, 0\n"
        "push %r15\n"
        ".cfi_adjust_cfa_offset 8\n"
        ".cfi_rel_offset %r15, 0\n"
        "mov %rsp, %rsi\n"
        "sub $8, %rsp\n" /* the call's 16-byte alignment */
        ".cfi_adjust_cfa_offset 8\n"
        "call mt_hooks_exit\n"
        "ud2\n"
        ".cfi_endproc\n"
        ".size exit, .-exit\n");

void mt_hooks_exit(int status, const uintptr_t *saved)
{
    if (!mt_real.exit)
        MT_SYM(exit, "exit");
    mt_leakscan_set_stack_start((uintptr_t)saved);
    mt_real.exit(status);
    for (;;)
        mt_syscall(SYS_exit_group, status);
}

/* main's return reaches exit() inside libc, not through the hook above: wrap main to learn
 * where its caller's frame begins. */
static int mt_main_wrapper(int argc, char **argv, char **envp)
{
    int rc = mt_real.main(argc, argv, envp);
    mt_leakscan_set_stack_start((uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *));
    return rc;
}

/* glibc declares no prototype for it: it is the ABI between crt1.o and libc. */
MT_EXPORT int __libc_start_main(int (*main_fn)(int, char **, char **), int argc, char **argv,
                                void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
                                void *stack_end);

MT_EXPORT int __libc_start_main(int (*main_fn)(int, char **, char **), int argc, char **argv,
                                void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
                                void *stack_end)
{
    MT_SYM(libc_start_main, "__libc_start_main");
    mt_real.main = main_fn;
    return mt_real.libc_start_main(mt_main_wrapper, argc, argv, init, fini, rtld_fini, stack_end);
}

MT_EXPORT void _Exit(int status)
{
    MT_ENSURE(Exit_);
    mt_hooks_finish_for_good(status);
    if (mt_real.Exit_)
        mt_real.Exit_(status);
    for (;;)
        mt_syscall(SYS_exit_group, status);
}

/*
 * daemon(3): glibc's forks, and its parent leaves by libc's internal _exit, which no hook
 * sees: the parent's log lost every event since its last chunk, the FORK record and its EXIT
 * (the daemon's own log could not tell what it inherited). Done here with the same steps as
 * glibc's (misc/daemon.c), through the hooked fork handlers and _exit, so that the parent's
 * log ends complete. When memtrace is not recording, glibc's own.
 */
static int mt_hooks_daemon_devnull(void)
{
    int fd = open("/dev/null", O_RDWR);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    /* glibc refuses a /dev/null that is not the null device (a file left by a broken
     * container image): ENODEV, with the descriptors untouched. */
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
        close(fd);
        errno = ENODEV;
        return -1;
    }
    (void)dup2(fd, STDIN_FILENO);
    (void)dup2(fd, STDOUT_FILENO);
    (void)dup2(fd, STDERR_FILENO);
    if (fd > 2)
        close(fd);
    return 0;
}

MT_EXPORT int daemon(int nochdir, int noclose)
{
    if (!mt_real.daemon)
        MT_SYM(daemon, "daemon");
    if (!mt_hooks_wanted())
        return mt_real.daemon(nochdir, noclose);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return -1;
    if (!nochdir)
        (void)chdir("/");
    return noclose ? 0 : mt_hooks_daemon_devnull();
}

/* main leaving by pthread_exit leaves the writer thread behind: last_thread.h. */
MT_EXPORT void pthread_exit(void *ret)
{
    MT_ENSURE(pthread_exit);
    mt_last_thread_main_left();
    mt_real.pthread_exit(ret);
}

/* quick_exit runs the at_quick_exit handlers, then glibc's internal _exit: the status is kept
 * here for the recorder's own at_quick_exit handler, the first registered and so the last run. */
MT_EXPORT void quick_exit(int status)
{
    MT_ENSURE(quick_exit);
    mt_life_quick_exit_status = status;
    mt_real.quick_exit(status);
}

/* ---- thread names ----
 *
 * A rename is recorded (THREAD_NAME) after the real call succeeded; the program gets the
 * call's own result and errno. glibc's pthread_setname_np renames its own thread through an
 * internal prctl and another thread through /proc/self/task/TID/comm, neither of which comes
 * back here, so each rename is recorded once. A name written to that file directly is not
 * seen (it is when set before the thread's first allocation: the recorder reads each thread's
 * name then).
 */

/* Lock-free and allocation-free: the name as the kernel keeps it (cut at 15 bytes). */
static void mt_hooks_self_named(void)
{
    if (!mt_hooks_wanted())
        return;
    int saved = errno;
    mt_guard = 1;
    char name[17] = {0};
    if (mt_syscall(SYS_prctl, PR_GET_NAME, name, 0, 0, 0) == 0)
        mt_rec_thread_name((uint32_t)mt_sys_gettid(), name, strnlen(name, 16));
    mt_guard_leave();
    errno = saved;
}

/* The tid of a thread, this one or another (mt_sys_tid_of); 0 when it cannot be had. */
static uint32_t mt_hooks_tid_of(pthread_t th)
{
    if (pthread_equal(th, pthread_self()))
        return (uint32_t)mt_sys_gettid();
    return (uint32_t)mt_sys_tid_of(th);
}

/*
 * The program is about to confine itself with seccomp: what the recorder would ask the kernel
 * later is asked now (mt_libc.h, mt_sys_confine). A filter that fails to go on leaves the
 * caches right all the same.
 */
static void mt_hooks_confine(bool every_thread)
{
    int saved = errno;
    if (mt_hooks_wanted())
        mt_rec_thread_prime();
    mt_sys_confine(every_thread);
    errno = saved;
}

MT_EXPORT int prctl(int option, ...)
{
    /* glibc's prctl reads four more arguments whatever the option: so does this one, and
     * passes them on as they came. */
    va_list ap;
    va_start(ap, option);
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
    unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    MT_ENSURE(prctl);
    if (MT_UNLIKELY(option == PR_SET_SECCOMP))
        mt_hooks_confine(false);
    int rc = mt_real.prctl ? mt_real.prctl(option, a2, a3, a4, a5)
                           : (int)mt_syscall(SYS_prctl, option, a2, a3, a4, a5);
    if (option == PR_SET_NAME && rc == 0)
        mt_hooks_self_named();
    return rc;
}

MT_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
    MT_ENSURE(pthread_setname_np);
    if (MT_UNLIKELY(!mt_real.pthread_setname_np))
        return ENOSYS;
    int rc = mt_real.pthread_setname_np(th, name);
    if (rc != 0 || !mt_hooks_wanted())
        return rc;
    int saved = errno;
    mt_guard = 1;
    uint32_t tid = mt_hooks_tid_of(th);
    if (tid) /* it succeeded: name is a string of at most 15 bytes */
        mt_rec_thread_name(tid, name, strnlen(name, 16));
    mt_guard_leave();
    errno = saved;
    return rc;
}

/*
 * unshare and setns into a user namespace: the kernel refuses them (EINVAL) to a process with
 * more than one thread, so memtrace's writer thread would make a single-threaded program fail
 * where it works without memtrace (unshare -U, bubblewrap, rootless containers). The writer
 * is parked for the call (log_writer.h). A program with threads of its own gets the kernel's
 * refusal, as without memtrace.
 */
#define MT_NS_GET_NSTYPE 0xb703 /* _IO(0xb7, 0x3) */
#define MT_HOOKS_ALONE_FLAGS (CLONE_NEWUSER | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)

static bool mt_hooks_setns_alone(int fd, int nstype)
{
    if (nstype & CLONE_NEWUSER)
        return true;
    if (nstype != 0)
        return false;
    /* 0: any kind; ask the namespace file which (NS_GET_NSTYPE, linux/nsfs.h) */
    return mt_syscall(SYS_ioctl, fd, MT_NS_GET_NSTYPE) == CLONE_NEWUSER;
}

static long mt_hooks_alone(long nr, long a0, long a1)
{
    int saved = errno;
    bool parked = mt_hooks_wanted() && mt_writer_park();
    errno = saved;
    long r = mt_syscall(nr, a0, a1);
    saved = errno;
    if (parked)
        mt_writer_unpark();
    errno = saved;
    return r;
}

MT_EXPORT int unshare(int flags)
{
    MT_ENSURE(unshare);
    if (!(flags & MT_HOOKS_ALONE_FLAGS))
        return mt_real.unshare(flags);
    return (int)mt_hooks_alone(SYS_unshare, flags, 0);
}

MT_EXPORT int setns(int fd, int nstype)
{
    MT_ENSURE(setns);
    if (!mt_hooks_setns_alone(fd, nstype))
        return mt_real.setns(fd, nstype);
    return (int)mt_hooks_alone(SYS_setns, fd, nstype);
}

/* chroot into a directory without /proc (a daemon that confines itself, as sshd, ntpd and bind
 * do) would leave memtrace without /proc/self: no RSS samples, and the writer thread could not
 * tell that a main thread gone by pthread_exit had no other thread left, so the process never
 * ended. /proc is kept open from just before the call (base/proc_dir.h); and so are the log's
 * directory and the manifest, outside the new root, for the children it forks
 * (base/log_dir.h). */
static void mt_hooks_before_chroot(void)
{
    mt_proc_keep();
    mt_logdir_keep(mt_writer.path, false);
}

MT_EXPORT int chroot(const char *path)
{
    MT_ENSURE(chroot);
    if (mt_hooks_wanted())
        mt_hooks_before_chroot();
    return mt_real.chroot(path);
}

/* A program built with a sanitizer whose shared runtime must be loaded first (gcc's
 * -fsanitize=address, thread, leak) aborts or crashes with memtrace's library ahead of it: it
 * is run without memtrace, and the user told why it has no log. */
static void mt_hooks_exec_sanitized(const char *file, const char *sanitizer)
{
    char buf[PATH_MAX + 200];
    mt_sbuf_t s;
    mt_sbuf_init(&s, buf, sizeof buf);
    mt_sbuf_add(&s, file);
    mt_sbuf_add(&s, " is built with ");
    mt_sbuf_add(&s, sanitizer);
    mt_sbuf_add(&s, ", whose runtime must be loaded before memtrace's library: it runs without "
                    "memtrace and is not recorded");
    mt_msg(buf);
}

/*
 * A daemon started as root that gives it up (setuid to nobody, usually after closing every
 * descriptor) could no longer open its log again once the program took its descriptor: the
 * log is root's, mode 0600, maybe in a directory the new user cannot search, and the whole
 * log was lost. Before the change the log is opened again if it must be, and its directory
 * and the manifest are kept open (base/log_dir.h). The log stays root's (log_writer.h).
 */
static void mt_hooks_before_setuid(void)
{
    mt_logdir_keep(mt_writer.path, true);
    mt_writer_user_change();
}

/* What the setuid-family hook (call) returns, with the log prepared (above). */
#define MT_SETUID_CALL(call)                                                                       \
    do {                                                                                           \
        if (!mt_hooks_wanted())                                                                    \
            return call;                                                                           \
        int saved_ = errno;                                                                        \
        mt_guard = 1; /* the recorder lock: a handler's malloc must not come in meanwhile */       \
        mt_hooks_before_setuid();                                                                  \
        mt_guard_leave();                                                                          \
        errno = saved_;                                                                            \
        return call;                                                                               \
    } while (0)

MT_EXPORT int setuid(uid_t uid)
{
    MT_ENSURE(setuid);
    MT_SETUID_CALL(mt_real.setuid(uid));
}

MT_EXPORT int seteuid(uid_t uid)
{
    MT_ENSURE(seteuid);
    MT_SETUID_CALL(mt_real.seteuid(uid));
}

MT_EXPORT int setreuid(uid_t ruid, uid_t euid)
{
    MT_ENSURE(setreuid);
    MT_SETUID_CALL(mt_real.setreuid(ruid, euid));
}

MT_EXPORT int setresuid(uid_t ruid, uid_t euid, uid_t suid)
{
    MT_ENSURE(setresuid);
    MT_SETUID_CALL(mt_real.setresuid(ruid, euid, suid));
}

/* A process that changed its root (chroot) or its user runs a program, and memtrace's library
 * is not there or not readable for it: the loader would print "ERROR: ld.so: object ...
 * cannot be preloaded" on the program's standard error. */
static void mt_hooks_exec_rootless(const char *file, const char *lib)
{
    char buf[2 * PATH_MAX + 200];
    mt_sbuf_t s;
    mt_sbuf_init(&s, buf, sizeof buf);
    mt_sbuf_add(&s, file);
    mt_sbuf_add(&s, " is run by a process that changed its root or its user, and memtrace's "
                    "library ");
    mt_sbuf_add(&s, lib);
    mt_sbuf_add(&s, " cannot be opened from there: it runs without memtrace and is not recorded");
    mt_msg(buf);
}

/* For an exec or spawn of file whose environment envp preloads memtrace: when file needs a
 * sanitizer runtime loaded first, or when memtrace's library cannot be loaded from the root
 * the process changed to, says so and returns true, with *env the environment without
 * memtrace (NULL if it could not be made; *mapped its size). False otherwise. */
static bool mt_hooks_sanitized(const char *file, bool search, char *const *envp, char **env[],
                               size_t *mapped)
{
    char lib[PATH_MAX];
    const char *san = mt_exec_sanitizer(file, search);
    if (san)
        mt_hooks_exec_sanitized(file, san);
    else if (mt_logdir_kept() && mt_exec_preload_missing(envp, lib, sizeof lib))
        mt_hooks_exec_rootless(file, lib);
    else
        return false;
    *env = mt_exec_unpreload_env(envp, mapped);
    return true;
}

/*
 * The writer thread counts against the user's RLIMIT_NPROC and the cgroup's pids.max: a
 * program that starts threads or processes up to its limit would get EAGAIN one early. When
 * the kernel refuses one for that reason, the writer thread is given up for the rest of the
 * run (records are written inline from then on, as when it cannot start) and the program's
 * call is made again. memtrace's own threads are started under the guard and go straight
 * through. True when the call is worth making again.
 */
static bool mt_hooks_give_way(int err)
{
    if (err != EAGAIN || mt_guard || !mt_hooks_wanted())
        return false;
    int saved = errno;
    bool parked = mt_writer_park();
    if (parked)
        mt_msg("the program reached its limit of threads or processes: memtrace's writer thread "
               "gives way, and the program's threads write the log from now on");
    errno = saved;
    return parked;
}

MT_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                             void *arg)
{
    MT_ENSURE(pthread_create);
    int rc = mt_real.pthread_create(thread, attr, start, arg);
    if (mt_hooks_give_way(rc))
        rc = mt_real.pthread_create(thread, attr, start, arg);
    return rc;
}

MT_EXPORT pid_t fork(void)
{
    MT_ENSURE(fork);
    pid_t pid = mt_real.fork();
    if (pid < 0 && mt_hooks_give_way(errno))
        pid = mt_real.fork();
    return pid;
}

/* posix_spawn execs inside glibc, past the exec hooks: a program built with a sanitizer
 * that must be loaded first gets the environment without memtrace here (the exec hooks'
 * mt_hooks_exec_sanitized). *mapped: what to release after the call. */
static char *const *mt_hooks_spawn_env(const char *file, bool search, char *const envp[],
                                       size_t *mapped)
{
    *mapped = 0;
    char **env = NULL;
    if (!mt_guard && mt_hooks_wanted() && mt_exec_link_wanted(envp))
        (void)mt_hooks_sanitized(file, search, envp, &env, mapped);
    return env ? env : envp;
}

typedef int (*mt_spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                           const posix_spawnattr_t *, char *const[], char *const[]);

/* posix_spawn and posix_spawnp (search: file is looked up in PATH). */
static int mt_hooks_spawn(mt_spawn_fn real, bool search, pid_t *pid, const char *file,
                          const posix_spawn_file_actions_t *acts, const posix_spawnattr_t *attr,
                          char *const argv[], char *const envp[])
{
    int saved = errno;
    size_t mapped;
    char *const *env = mt_hooks_spawn_env(file, search, envp, &mapped);
    errno = saved;
    int rc = real(pid, file, acts, attr, argv, env);
    if (mt_hooks_give_way(rc))
        rc = real(pid, file, acts, attr, argv, env);
    mt_exec_link_env_free((char **)(mapped ? env : NULL), mapped);
    return rc;
}

MT_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *acts,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    MT_ENSURE(posix_spawn);
    return mt_hooks_spawn(mt_real.posix_spawn, false, pid, path, acts, attr, argv, envp);
}

MT_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *acts,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    MT_ENSURE(posix_spawnp);
    return mt_hooks_spawn(mt_real.posix_spawnp, true, pid, file, acts, attr, argv, envp);
}

/*
 * syscall(): a process made by a raw clone (or fork) syscall gets no fork handlers, so its
 * copy of the recorder would wait for a writer thread that is not there; and exit_group ends
 * the process without exit's handlers. Everything else passes straight through. A clone with
 * CLONE_VM shares our memory (a thread, or vfork) and a clone with a new stack cannot return
 * through this function: both are left alone.
 */
static bool mt_hooks_is_fork(long nr, const long *a)
{
    if (nr == SYS_fork)
        return true;
    if (nr == SYS_clone)
        return !(a[0] & (CLONE_VM | CLONE_THREAD)) && a[1] == 0;
    if (nr == SYS_clone3 && a[0]) {
        const struct clone_args *ca = (const struct clone_args *)a[0];
        return !(ca->flags & (CLONE_VM | CLONE_THREAD)) && ca->stack == 0;
    }
    return false;
}

static int mt_hooks_sys_execve(const long *a);
static int mt_hooks_sys_execveat(const long *a);

/* After a fork made without the atfork handlers (mt_life_fork_prepare before it), what the
 * handlers do in the child (r 0) and in the parent; errno is the fork's. */
static void mt_hooks_forked(long r)
{
    int saved = errno;
    if (r == 0)
        mt_life_fork_child();
    else
        mt_life_fork_parent();
    errno = saved;
}

MT_EXPORT long syscall(long nr, ...)
{
    long a[6];
    va_list ap;
    va_start(ap, nr);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (nr == SYS_exit_group)
        mt_hooks_finish_for_good((int)a[0]); /* guard kept: the call below ends the process */
    if (MT_UNLIKELY(nr == SYS_prctl && a[0] == PR_SET_NAME)) {
        long r = mt_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        if (r == 0)
            mt_hooks_self_named();
        return r;
    }
    if (MT_UNLIKELY(nr == SYS_prctl && a[0] == PR_SET_SECCOMP))
        mt_hooks_confine(false);
    if (MT_UNLIKELY(nr == SYS_seccomp &&
                    (a[0] == SECCOMP_SET_MODE_STRICT || a[0] == SECCOMP_SET_MODE_FILTER)))
        mt_hooks_confine(a[0] == SECCOMP_SET_MODE_FILTER && (a[1] & SECCOMP_FILTER_FLAG_TSYNC));
    /* pivot_root (no libc wrapper) moves the root as chroot does, container runtimes' way */
    if (MT_UNLIKELY(nr == SYS_chroot || nr == SYS_pivot_root) && mt_hooks_wanted())
        mt_hooks_before_chroot();
    if (nr == SYS_execve)
        return mt_hooks_sys_execve(a);
    if (nr == SYS_execveat)
        return mt_hooks_sys_execveat(a);
    if ((nr == SYS_unshare && (a[0] & MT_HOOKS_ALONE_FLAGS)) ||
        (nr == SYS_setns && mt_hooks_setns_alone((int)a[0], (int)a[1])))
        return mt_hooks_alone(nr, a[0], a[1]);
    if (!mt_hooks_is_fork(nr, a) || !mt_hooks_wanted())
        return mt_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    mt_life_fork_prepare();
    long r = mt_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    mt_hooks_forked(r);
    return r;
}

/* glibc's _Fork (2.34 on): fork without the atfork handlers, which are where memtrace readies
 * a forked child (its own log and writer; without them the child wrote into its parent's log
 * and broke it). fork itself calls glibc's internal _Fork, never this. */
MT_EXPORT pid_t _Fork(void)
{
    if (!mt_real.Fork_)
        MT_SYM(Fork_, "_Fork");
    if (!mt_real.Fork_) {
        errno = ENOSYS;
        return -1;
    }
    if (!mt_hooks_wanted())
        return mt_real.Fork_();
    mt_life_fork_prepare();
    pid_t r = mt_real.Fork_();
    mt_hooks_forked(r);
    return r;
}

/* An exec whose environment leaves memtrace's library out of LD_PRELOAD (`env -i`, a script
 * that sets LD_PRELOAD to another library): the new image is not recorded, which the user
 * running `memtrace run` on a script would not otherwise learn. Said before the call: after
 * a successful one nothing of ours runs. */
static void mt_hooks_exec_untraced(const char *file)
{
    char buf[PATH_MAX + 160];
    mt_sbuf_t s;
    mt_sbuf_init(&s, buf, sizeof buf);
    mt_sbuf_add(&s, file ? file : "a program");
    mt_sbuf_add(&s, " is run with an environment whose LD_PRELOAD leaves memtrace out (env -i, or "
                    "LD_PRELOAD set anew): it is not recorded");
    mt_msg(buf);
}

/*
 * exec: the old image's log ends with NEXT_LOG and EXIT(EXEC), and the new image loads the
 * library again and writes its own log, whose ORIGIN names the old one (the environment of the
 * exec carries its name, exec_link.h). The recorder stays held across the call, so that no
 * other thread's event lands after the EXIT; if exec fails, the EXIT is taken back and
 * recording goes on. execv and execvp are execve and execvpe with environ, as in glibc.
 * call uses env_, the environment to pass. Arguments that fit only without the link's
 * variable are passed without it: the program's exec must not fail because it is recorded
 * (the new image's log then has no ORIGIN).
 */
#define MT_EXEC_CALL(file, search, envp, call)                                                     \
    do {                                                                                           \
        off_t size_;                                                                               \
        char *const *env_ = (envp);                                                                \
        if (!mt_hooks_wanted())                                                                    \
            return call;                                                                           \
        int saved_ = errno;                                                                        \
        mt_guard = 1;                                                                              \
        size_t mapped_ = 0;                                                                        \
        char **own_ = NULL; /* an environment of ours to pass instead */                           \
        bool link_ = mt_exec_link_wanted(env_);                                                    \
        if (!link_)                                                                                \
            mt_hooks_exec_untraced(file);                                                          \
        else if (mt_hooks_sanitized(file, search, env_, &own_, &mapped_))                          \
            link_ = false;                                                                         \
        bool held_ = mt_life_exec_begin(&size_, link_ ? (file) : NULL);                            \
        errno = saved_;                                                                            \
        if (!held_) { /* a vfork child shares this TLS: leave the guard as it was */               \
            mt_guard_leave();                                                                      \
            /* own_ stays mapped in the parent if the exec succeeds */                             \
            if (own_)                                                                              \
                env_ = own_;                                                                       \
            int rc_ = call;                                                                        \
            saved_ = errno;                                                                        \
            mt_exec_link_env_free(own_, mapped_);                                                  \
            errno = saved_;                                                                        \
            return rc_;                                                                            \
        }                                                                                          \
        if (link_)                                                                                 \
            own_ = mt_exec_link_env(env_, mt_sys_getpid(), mt_writer.path, &mapped_);              \
        if (own_)                                                                                  \
            env_ = own_;                                                                           \
        errno = saved_;                                                                            \
        int rc_ = call;                                                                            \
        if (rc_ < 0 && errno == E2BIG && link_ && own_) { /* our variable was one too many */      \
            env_ = (envp);                                                                         \
            errno = saved_;                                                                        \
            rc_ = call;                                                                            \
        }                                                                                          \
        saved_ = errno;                                                                            \
        mt_exec_link_env_free(own_, mapped_);                                                      \
        mt_life_exec_failed(size_);                                                                \
        mt_guard_leave();                                                                          \
        errno = saved_;                                                                            \
        return rc_;                                                                                \
    } while (0)

MT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    MT_ENSURE(execve);
    MT_EXEC_CALL(path, false, envp, mt_real.execve(path, argv, env_));
}

MT_EXPORT int execv(const char *path, char *const argv[])
{
    MT_ENSURE(execve);
    MT_EXEC_CALL(path, false, environ, mt_real.execve(path, argv, env_));
}

MT_EXPORT int execvp(const char *file, char *const argv[])
{
    MT_ENSURE(execvpe);
    MT_EXEC_CALL(file, true, environ, mt_real.execvpe(file, argv, env_));
}

MT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    MT_ENSURE(execvpe);
    MT_EXEC_CALL(file, true, envp, mt_real.execvpe(file, argv, env_));
}

MT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    MT_ENSURE(fexecve);
    /* The kernel starts the image as /dev/fd/N, which is the name it sees (AT_EXECFN). */
    char file[32];
    mt_sbuf_t s;
    mt_sbuf_init(&s, file, sizeof file);
    mt_sbuf_add(&s, "/dev/fd/");
    mt_sbuf_u64(&s, (uint64_t)(unsigned)fd);
    MT_EXEC_CALL(file, false, envp, mt_real.fexecve(fd, argv, env_));
}

/* exec without execve's symbol: syscall(SYS_execve or SYS_execveat, ...), as runtimes and
 * hand-written wrappers make it, and glibc's execveat, which is that system call. The image
 * is replaced all the same, so the log ends as for execve (before, every event of the old
 * image was lost with its log left without an end). */
static int mt_hooks_sys_execve(const long *a)
{
    MT_EXEC_CALL((const char *)a[0], false, (char *const *)a[2],
                 (int)mt_syscall(SYS_execve, a[0], a[1], (long)env_, 0L, 0L, 0L));
}

/* The name the kernel starts an execveat image as: its path, or /dev/fd/N for the file of
 * descriptor N itself (an empty path with AT_EMPTY_PATH). */
static void mt_hooks_execveat_name(int fd, const char *path, char *out, size_t cap)
{
    mt_sbuf_t s;
    mt_sbuf_init(&s, out, cap);
    if (path && path[0]) {
        mt_sbuf_add(&s, path);
        return;
    }
    mt_sbuf_add(&s, "/dev/fd/");
    mt_sbuf_u64(&s, (uint64_t)(unsigned)fd);
}

static int mt_hooks_sys_execveat(const long *a)
{
    char file[PATH_MAX];
    mt_hooks_execveat_name((int)a[0], (const char *)a[1], file, sizeof file);
    MT_EXEC_CALL(file, false, (char *const *)a[3],
                 (int)mt_syscall(SYS_execveat, a[0], a[1], a[2], (long)env_, a[4], 0L));
}

MT_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                       int flags)
{
    const long a[6] = {dirfd, (long)path, (long)argv, (long)envp, flags, 0};
    return mt_hooks_sys_execveat(a);
}

/* The execl family is variadic; glibc implements it with internal calls that bypass the
 * hooks above, so collect the arguments and go through execve/execvp. The array is on the
 * stack, as glibc's own execl puts it: a mapping could fail under a tight RLIMIT_AS where the
 * plain exec succeeds. */
static int mt_hooks_execl(int which, const char *path, const char *arg0, va_list ap)
{
    va_list count;
    va_copy(count, ap);
    size_t argc = 1;
    while (arg0 && va_arg(count, char *) != NULL)
        argc++;
    va_end(count);
    char **argv = __builtin_alloca((argc + 1) * sizeof(char *));
    argv[0] = (char *)arg0;
    for (size_t i = 1; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    argv[argc] = NULL;
    if (arg0)
        (void)va_arg(ap, char *); /* the terminating NULL */
    if (which == 'e') {
        char *const *envp = va_arg(ap, char *const *);
        return execve(path, argv, envp);
    }
    if (which == 'p')
        return execvp(path, argv);
    return execv(path, argv);
}

MT_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = mt_hooks_execl('l', path, arg, ap);
    va_end(ap);
    return rc;
}

MT_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = mt_hooks_execl('p', file, arg, ap);
    va_end(ap);
    return rc;
}

MT_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = mt_hooks_execl('e', path, arg, ap);
    va_end(ap);
    return rc;
}
