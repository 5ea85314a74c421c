// SPDX-License-Identifier: MIT
// Late start: `memtrace attach PID` made the process dlopen this library (cli/cmd_attach.c).
// The settings come from a file the CLI wrote for this pid; the hooks are reached through the
// GOT (got_patch.c); a thread of ours waits for the stop (the file removed, or the CLI gone),
// then restores the GOT, ends the log (EXIT reason DETACH) and leaves the process as it was.
// The library stays loaded (a hook may still be running, or a copied pointer to one may be
// called later: they pass straight through once recording stopped). No malloc, no stdio.
#include "hooks/attach.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/mt_libc.h"
#include "hooks/got_patch.h"
#include "hooks/python_hooks.h"
#include "lifecycle.h"
#include "record/recorder.h"

/* The settings file: KEY=VALUE lines (the MEMTRACE_* variables `memtrace run` would set),
 * written by the CLI, mode 0600, owned by us or root. */
#define MT_ATTACH_CONF_FMT "/tmp/memtrace-attach."
#define MT_ATTACH_POLL_NS 20000000L /* how often the thread looks for the stop and new objects */

static char mt_attach_conf_path[64];
static char mt_attach_conf[4096];
static size_t mt_attach_conf_len;
static int mt_attach_cli_pid;
static bool mt_attach_on;

/* The functions whose GOT slots are patched: the malloc family and anonymous mmap. dlopen is
 * not (our hook must be a tail call, so it cannot patch after the load): the thread notices
 * new objects within MT_ATTACH_POLL_NS instead. */
static const char *const mt_attach_names[] = {
    "malloc",   "calloc", "realloc", "reallocarray", "free",   "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "pvalloc", "mmap",         "mmap64", "munmap",         "mremap",
};
#define MT_ATTACH_NSYMS (sizeof mt_attach_names / sizeof mt_attach_names[0])
static mt_got_sym_t mt_attach_syms[MT_ATTACH_NSYMS];

/* The file's lines, each ended by '\0' instead of '\n'. */
static const char *mt_attach_get(const char *name)
{
    size_t n = strlen(name);
    for (size_t at = 0; at < mt_attach_conf_len;) {
        const char *p = mt_attach_conf + at;
        size_t len = strlen(p);
        if (len > n && memcmp(p, name, n) == 0 && p[n] == '=')
            return p + n + 1;
        at += len + 1;
    }
    return NULL;
}

static void mt_attach_py_none(void)
{
}

/* Python's allocator domains cannot be swapped under a running interpreter (other threads are
 * inside them): no install. The interpreter is still found, so that the stacks of its native
 * allocations carry the Python frames (read from the thread state, as when preloaded). */
static const mt_life_python_t mt_attach_python = {mt_py_detect, mt_attach_py_none,
                                                  mt_py_log_started};

static int mt_attach_read_conf(void)
{
    mt_sbuf_t s;
    mt_sbuf_init(&s, mt_attach_conf_path, sizeof mt_attach_conf_path);
    mt_sbuf_add(&s, MT_ATTACH_CONF_FMT);
    mt_sbuf_u64(&s, (uint64_t)mt_sys_getpid());
    mt_sbuf_add(&s, ".conf");
    int fd = open(mt_attach_conf_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    ssize_t n = -1;
    /* /tmp is everyone's: only a file that we or root made, and nobody else can change */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_uid == geteuid() || st.st_uid == 0) &&
        !(st.st_mode & 022))
        n = read(fd, mt_attach_conf, sizeof mt_attach_conf - 1);
    mt_sys_close(fd);
    if (n <= 0)
        return -1;
    mt_attach_conf[n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if (mt_attach_conf[i] == '\n')
            mt_attach_conf[i] = '\0';
    mt_attach_conf_len = (size_t)n;
    return 0;
}

bool mt_attach_prepare(void)
{
    /* No settings file for this pid: not `memtrace attach` (almost always: preloaded). */
    if (mt_attach_read_conf() < 0)
        return false;
    /* Preloaded, the malloc every object binds to (ours too) is ours: not a late start.
     * dladdr only: dlsym is one of our hooks, unusable before mt_hooks_start resolves it. */
    Dl_info di, mi;
    struct link_map *self = NULL;
    if (!dladdr1(mt_attach_conf_path, &di, (void **)&self, RTLD_DL_LINKMAP) || !self)
        return false;
    void *(*bound)(size_t) = malloc;
    void *global;
    memcpy(&global, &bound, sizeof global);
    if (!dladdr(global, &mi) || mi.dli_fbase == di.dli_fbase)
        return false;
    /* Only glibc's malloc family is hooked: a program with its own malloc is left alone. The
     * global scope may name the executable's canonical PLT entry (an undefined symbol with a
     * value: a non-PIE program that takes malloc's address, as CPython does), which calls
     * glibc's through the executable's GOT: that is glibc's too. */
    void *next = dlsym(RTLD_NEXT, "malloc");
    if (!dlsym(self, "malloc"))
        return false;
    Dl_info gi;
    const ElfW(Sym) *gs = NULL;
    if (global != next &&
        !(dladdr1(global, &gi, (void **)&gs, RTLD_DL_SYMENT) && gs && gs->st_shndx == SHN_UNDEF)) {
        mt_msg("the process has its own malloc; memtrace attach records glibc's only: not "
               "attaching");
        return false;
    }
    for (size_t i = 0; i < MT_ATTACH_NSYMS; i++) {
        mt_attach_syms[i].name = mt_attach_names[i];
        mt_attach_syms[i].hook = dlsym(self, mt_attach_names[i]);
        mt_attach_syms[i].real = dlsym(RTLD_NEXT, mt_attach_names[i]);
        if (!mt_attach_syms[i].hook || !mt_attach_syms[i].real)
            mt_attach_syms[i].name = ""; /* matches no symbol */
    }
    const char *cli = mt_attach_get("MEMTRACE_ATTACH_CLI");
    for (; cli && *cli >= '0' && *cli <= '9'; cli++)
        mt_attach_cli_pid = mt_attach_cli_pid * 10 + (*cli - '0');
    mt_config_set_source(mt_attach_get);
    mt_life_attach = true;
    mt_life_init(&mt_attach_python);
    mt_attach_on = mt_rec_active();
    return mt_attach_on;
}

static bool mt_attach_stop_wanted(void)
{
    if (access(mt_attach_conf_path, F_OK) != 0 && errno == ENOENT)
        return true; /* the CLI removed the file: Ctrl-C, --duration */
    return mt_attach_cli_pid > 0 && kill(mt_attach_cli_pid, 0) != 0 && errno == ESRCH;
}

static void *mt_attach_thread(void *arg)
{
    (void)arg;
    mt_guard = 1; /* nothing this thread does is the program's */
    unsigned long long gen = mt_got_generation();
    for (;;) {
        struct timespec ts = {0, MT_ATTACH_POLL_NS};
        nanosleep(&ts, NULL);
        if (!mt_rec_active())
            return NULL; /* the process exited (EXIT written), or the log failed */
        if (mt_attach_stop_wanted())
            break;
        unsigned long long g = mt_got_generation();
        if (g != gen) {
            gen = g;
            unsigned changed = 0;
            if (mt_got_patch(mt_attach_syms, MT_ATTACH_NSYMS, &changed) < 0)
                mt_msg("memtrace attach: a new object's GOT could not be patched");
            __atomic_store_n(&mt_rec_dl_pending, 1, __ATOMIC_RELAXED);
        }
    }
    unsigned changed = 0;
    if (mt_got_restore(mt_attach_syms, MT_ATTACH_NSYMS, &changed) < 0)
        mt_msg("memtrace attach: some GOT slots could not be restored; their calls pass "
               "through the stopped recorder");
    mt_life_finish(MT_EXIT_DETACH, 0);
    return NULL;
}

void mt_attach_start(void)
{
    if (!mt_attach_on)
        return;
    unsigned changed = 0;
    if (mt_got_patch(mt_attach_syms, MT_ATTACH_NSYMS, &changed) < 0)
        mt_msg("memtrace attach: some GOT slots could not be made writable; calls through them "
               "are not recorded");
    /* The thread takes none of the program's signals. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = pthread_create(&th, &attr, mt_attach_thread, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        mt_msg("memtrace attach: cannot start the control thread; detaching now");
        if (mt_got_restore(mt_attach_syms, MT_ATTACH_NSYMS, &changed) < 0)
            mt_msg("memtrace attach: some GOT slots could not be restored");
        mt_life_finish(MT_EXIT_DETACH, 0);
    }
}
