// SPDX-License-Identifier: MIT
// Stack capture: the cached-CFI walker of fast_unwind.c, or libunwind (local unwinding only)
// for the stacks it cannot do and when MEMTRACE_FAST_UNWIND=0. Called from hooks with the
// reentrancy guard set, before any memtrace lock: both may take the loader lock and mmap.
// No allocation; all state is the stack buffer the caller provides.
#include "stack/unwinder.h"

#include <link.h>
#include <string.h>

#include "base/config.h"
#include "stack/fast_unwind.h"
#include "stack/stack_hash.h"

/* Text ranges whose frames are never shown: the preload library and libunwind itself. */
static uintptr_t mt_self_lo, mt_self_hi, mt_unw_lo, mt_unw_hi;

typedef struct mt_range_query {
    uintptr_t addr, lo, hi;
} mt_range_query_t;

static int mt_unwind_range_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    mt_range_query_t *q = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (q->addr >= lo && q->addr < lo + ph->p_memsz) {
            q->lo = lo;
            q->hi = lo + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

static void mt_unwind_find_range(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
    mt_range_query_t q = {addr, 0, 0};
    dl_iterate_phdr(mt_unwind_range_cb, &q);
    *lo = q.lo;
    *hi = q.hi;
}

void mt_unwind_init(void)
{
    mt_unwind_find_range((uintptr_t)&mt_unwind_init, &mt_self_lo, &mt_self_hi);
    mt_unwind_find_range((uintptr_t)&unw_backtrace, &mt_unw_lo, &mt_unw_hi);
}

static int mt_unwind_is_own(uintptr_t ip)
{
    return (ip >= mt_self_lo && ip < mt_self_hi) || (ip >= mt_unw_lo && ip < mt_unw_hi);
}

/* libunwind from a saved context: like unw_backtrace, one return address per frame. */
static int mt_unwind_libunwind_from(unw_context_t *from, uintptr_t *buf, int max)
{
    unw_cursor_t c;
    if (unw_init_local(&c, from) < 0)
        return 0;
    int n = 0;
    while (n < max && unw_step(&c) > 0) {
        unw_word_t ip;
        if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        buf[n++] = (uintptr_t)ip;
    }
    return n;
}

static int mt_unwind_raw(uintptr_t *buf, int max, unw_context_t *from)
{
    if (from) {
        const greg_t *g = from->uc_mcontext.gregs;
        int n = mt_config.fast_unwind
                    ? mt_fastunw_capture_from((uintptr_t)g[REG_RIP], (uintptr_t)g[REG_RSP],
                                              (uintptr_t)g[REG_RBP], buf, max)
                    : -1;
        return n >= 0 ? n : mt_unwind_libunwind_from(from, buf, max);
    }
    int n = mt_config.fast_unwind ? mt_fastunw_capture(buf, max) : -1;
    return n >= 0 ? n : unw_backtrace((void **)buf, max);
}

void mt_unwind_capture(mt_stack_t *st, uintptr_t *buf, unw_context_t *from)
{
    int n = mt_unwind_raw(buf, MT_UNWIND_MAX, from);
    int skip = 0;
    while (skip < n && mt_unwind_is_own(buf[skip]))
        skip++;
    st->ip = buf + skip;
    st->n = n > skip ? (uint32_t)(n - skip) : 0;
    mt_stack_hash(st);
}

int mt_unwind_capture_until(mt_stack_t *st, uintptr_t *buf, uintptr_t lo, uintptr_t hi,
                            unw_context_t *from)
{
    int n = from ? mt_unwind_libunwind_from(from, buf, MT_UNWIND_SHORT)
                 : unw_backtrace((void **)buf, MT_UNWIND_SHORT);
    int skip = 0;
    while (skip < n && mt_unwind_is_own(buf[skip]))
        skip++;
    for (int i = skip; i < n; i++) {
        if (buf[i] - 1 >= lo && buf[i] - 1 < hi) {
            st->ip = buf + skip;
            st->n = (uint32_t)(i + 1 - skip);
            st->hash = st->hash2 = 0; /* set by the caller once the stack is final */
            return 1;
        }
    }
    if (n == MT_UNWIND_SHORT)
        mt_unwind_capture(st, buf, from);
    else {
        st->ip = buf + skip;
        st->n = n > skip ? (uint32_t)(n - skip) : 0;
        mt_stack_hash(st);
    }
    return 0;
}

uint32_t mt_unwind_own_prefix(const uintptr_t *buf, uint32_t n)
{
    uint32_t skip = 0;
    while (skip < n && mt_unwind_is_own(buf[skip]))
        skip++;
    return skip;
}

void mt_unwind_flush(void)
{
    unw_flush_cache(unw_local_addr_space, 0, 0);
    mt_fastunw_flush();
}
