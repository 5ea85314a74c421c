// SPDX-License-Identifier: MIT
// Gives glibc's and libstdc++'s own memory back before the leak check, as valgrind does
// (__gnu_cxx::__freeres, then __libc_freeres): stdio buffers, the loader's _dl_find_object
// tables, the cache of joined threads' stacks and DTVs, libstdc++'s emergency pool. Those are
// not the program's leaks. Only at a normal exit, only under --leak-check, and only when no
// other thread of the program is left: freeing stdio buffers under a running thread is unsafe.
#include "freeres.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "base/config.h"
#include "base/mt_libc.h"
#include "leak/leak_scan.h"
#include "record/recorder.h"

typedef void (*mt_freeres_fn)(void);

static void *mt_freeres_symbol(const char *name)
{
    /* dlsym of a missing symbol allocates its error text: from the early buffer, unrecorded,
     * so that the program's heap stays as it was (see mt_private_heap). */
    mt_guard++;
    mt_private_heap++;
    void *sym = dlsym(RTLD_DEFAULT, name);
    mt_private_heap--;
    mt_guard--;
    return sym;
}

static mt_freeres_fn mt_freeres_lookup(const char *name)
{
    mt_freeres_fn fn;
    void *sym = mt_freeres_symbol(name);
    memcpy(&fn, &sym, sizeof fn);
    return fn;
}

/*
 * exit() runs _IO_cleanup after every exit handler, ours included, and that pass gives each
 * stream a byte orientation; valgrind's __libc_freeres comes after it and frees the buffer of
 * every buffered stream. Ours runs before it, and __libc_freeres's own pass skips a stream
 * without an orientation as unused: one read only by large freads (they bypass __underflow,
 * which orients) keeps its buffer, "still reachable" where memcheck sees it freed. Orienting
 * the streams first frees what valgrind's frees; __libc_freeres orients every stream anyway,
 * so nothing the program does after this sees a difference. No other thread is left.
 */
static void mt_freeres_orient_streams(void)
{
    FILE **list = mt_freeres_symbol("_IO_list_all"); /* glibc's chain of open streams */
    if (!list)
        return;
    for (FILE *fp = *list; fp; fp = fp->_chain)
        if (fp->_vtable_offset == 0) /* glibc 2.0's layout: glibc leaves those alone */
            (void)fwide(fp, -1);
}

int mt_freeres_run(void)
{
    /* MEMTRACE_FREERES=0, as valgrind's --run-libc-freeres=no: a program that corrupted its
     * heap exits cleanly when nothing is freed at exit, but glibc's checks in free may abort
     * it here. */
    const char *off = getenv("MEMTRACE_FREERES");
    if ((off && off[0] == '0') || mt_leakscan_other_threads() != 0)
        return 0;
    /* Looked up now: libstdc++ may have come with a dlopen after start. */
    mt_freeres_fn cxx = mt_freeres_lookup("_ZN9__gnu_cxx9__freeresEv");
    mt_freeres_fn libc = mt_freeres_lookup("__libc_freeres");
    if (cxx)
        cxx();
    if (libc) {
        mt_freeres_orient_streams();
        libc();
    }
    return 1;
}

/* Not from _exit or quick_exit (no exit handlers run there): __libc_freeres flushes stdio,
 * which they must not do. */
static int mt_freeres_pid;

/* Only in the process that installed it: a vfork child that calls exit() shares the parent's
 * memory (its stdio buffers are the parent's), and a fork's child is left as it is. */
static void mt_freeres_on_exit(int status, void *arg)
{
    (void)status;
    (void)arg;
    if (mt_rec_active() && !mt_guard && mt_sys_getpid() == mt_freeres_pid)
        (void)mt_freeres_run();
}

void mt_freeres_install(void)
{
    if (!mt_config.leak_check)
        return;
    mt_freeres_pid = mt_sys_getpid();
    on_exit(mt_freeres_on_exit, NULL);
}
