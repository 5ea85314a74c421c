// SPDX-License-Identifier: MIT
// `memtrace attach PID`: records a process that was started without memtrace, until Ctrl-C,
// --duration or its exit. With ptrace (no debugger needed) it makes one thread of the target,
// one that waits in a system call or runs its own code, call dlopen(recorder, RTLD_NOW), then
// resumes it exactly where it was; the recorder reads its settings from
// /tmp/memtrace-attach.PID.conf, patches the GOT (preload/hooks/attach.c) and stops when that
// file is removed (docs/attach.md). x86_64 only. It must never leave the target stopped,
// traced, or with registers other than its own.
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"
#include "commands.h"
#include "run_live.h"
#include "run_sanitizer.h"

#define MT_ATTACH_DEFAULT_TEMPLATE "memtrace.%e.%p.mtr"
#define MT_ATTACH_CONF_FMT "/tmp/memtrace-attach.%d.conf"
#define MT_ATTACH_PICK_TRIES 300 /* x 10 ms: how long to wait for a thread to wait */
#define MT_ATTACH_STOP_WAIT_MS 10000

static void mt_attach_usage(FILE *out)
{
    fputs("usage: memtrace attach [options] PID\n"
          "\n"
          "Record the process PID, which was started without memtrace, from now until Ctrl-C,\n"
          "--duration or its exit; the process then runs on unchanged. Blocks it allocated\n"
          "before the attach are unknown: their frees are counted apart (\"freed, allocated\n"
          "before attach\"), never as errors or leaks. A Python process is recorded through\n"
          "its native allocations (with Python frames), not pymalloc's small objects.\n"
          "\n"
          "options:\n"
          "  -o, --output PATH        log file (default memtrace.%e.%p.mtr in the current\n"
          "                           directory; %p is the pid, %e the process's name). The\n"
          "                           process itself writes it: it needs write access there\n"
          "      --duration SECONDS   stop after SECONDS (default: at Ctrl-C)\n"
          "      --sample-interval MS sample RSS and allocator statistics every MS ms (default\n"
          "                           10; 0 turns sampling off)\n"
          "  -q, --quiet              no message when recording starts and stops\n"
          "      --live               show the heap full screen while recording, as 'run\n"
          "                           --live' does; q stops the recording (and detaches)\n"
          "  -h, --help               show this help\n"
          "\n"
          "It needs the right to trace PID: the same user (or root), and where the Yama LSM is\n"
          "on, kernel.yama.ptrace_scope 0 (or root, or CAP_SYS_PTRACE). Statically linked\n"
          "programs, and processes that memtrace already records, are refused.\n"
          "Exit status: 0 recorded, 1 could not attach, 2 usage.\n",
          out);
}

__attribute__((format(printf, 1, 2))) static int mt_attach_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("memtrace: attach: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

/* ---- what /proc says about the target ---- */

/* The text of /proc/PID/FILE into buf (NUL-terminated); bytes read, or -errno. */
static ssize_t mt_attach_proc_read(int pid, const char *file, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        if (len == cap - 1)
            break;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

static long mt_attach_status_field(int pid, const char *field)
{
    char buf[4096];
    if (mt_attach_proc_read(pid, "status", buf, sizeof buf) < 0)
        return -1;
    size_t n = strlen(field);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            return strtol(line + n + 1, NULL, 10);
    return -1;
}

static int mt_attach_yama(void)
{
    char buf[16];
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    if (!f)
        return -1;
    int v = fgets(buf, sizeof buf, f) ? atoi(buf) : -1;
    fclose(f);
    return v;
}

/* One line saying why the kernel refused to let us trace pid, and how to allow it. */
static int mt_attach_denied(int pid, const char *name)
{
    long uid = mt_attach_status_field(pid, "Uid");
    int yama = mt_attach_yama();
    long tracer = mt_attach_status_field(pid, "TracerPid");
    if (uid >= 0 && (uid_t)uid != geteuid() && geteuid() != 0) {
        struct passwd *pw = getpwuid((uid_t)uid);
        return mt_attach_fail("cannot trace pid %d (%s): it belongs to %s%s(uid %ld), and only "
                              "root or CAP_SYS_PTRACE may trace another user's process; run "
                              "memtrace attach as that user or as root",
                              pid, name, pw ? pw->pw_name : "", pw ? " " : "", uid);
    }
    if (tracer > 0)
        return mt_attach_fail("cannot trace pid %d (%s): it is already traced by pid %ld (a "
                              "debugger, strace, or another memtrace attach)",
                              pid, name, tracer);
    if (yama == 1)
        return mt_attach_fail("cannot trace pid %d (%s): kernel.yama.ptrace_scope is 1 (only "
                              "a process's ancestors may trace it); allow it with 'sudo sysctl "
                              "kernel.yama.ptrace_scope=0', or run memtrace attach as root",
                              pid, name);
    if (yama == 2)
        return mt_attach_fail("cannot trace pid %d (%s): kernel.yama.ptrace_scope is 2 (only "
                              "root may trace); run memtrace attach as root, or allow it with "
                              "'sudo sysctl kernel.yama.ptrace_scope=0'",
                              pid, name);
    if (yama == 3)
        return mt_attach_fail("cannot trace pid %d (%s): kernel.yama.ptrace_scope is 3 (no "
                              "process may be traced until the next reboot)",
                              pid, name);
    return mt_attach_fail("cannot trace pid %d (%s): operation not permitted (a container or "
                          "seccomp policy may forbid ptrace: CAP_SYS_PTRACE allows it)",
                          pid, name);
}

/* The mapped file whose name ends in /BASE (BASE a prefix: "libc.so." or "libc-"); its
 * load address and end (the mapping at file offset 0) and path. */
static bool mt_attach_find_map(int pid, const char *base, uint64_t *load, uint64_t *end, char *path,
                               size_t cap)
{
    char file[32];
    snprintf(file, sizeof file, "/proc/%d/maps", pid);
    FILE *f = fopen(file, "re");
    if (!f)
        return false;
    char line[PATH_MAX + 128];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, off;
        int name_at = 0;
        if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &lo, &hi, &off, &name_at) < 3 || !name_at)
            continue;
        char *name = line + name_at;
        name[strcspn(name, "\n")] = '\0';
        const char *slash = strrchr(name, '/');
        if (!slash || strncmp(slash + 1, base, strlen(base)) != 0 || off != 0)
            continue;
        *load = lo;
        *end = hi;
        snprintf(path, cap, "%s", name);
        found = true;
    }
    fclose(f);
    return found;
}

/* st_value of the defined function sym in the ELF file's .dynsym, or 0. */
static uint64_t mt_attach_elf_sym(const char *path, const char *sym)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    uint64_t value = 0;
    void *map = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size > sizeof(Elf64_Ehdr))
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return 0;
    const unsigned char *b = map;
    size_t size = (size_t)st.st_size;
    const Elf64_Ehdr *eh = map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shoff == 0 || eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size)
        goto out;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(b + eh->e_shoff);
    for (unsigned i = 0; i < eh->e_shnum && !value; i++) {
        if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
            continue;
        const Elf64_Shdr *str = &sh[sh[i].sh_link];
        if (sh[i].sh_offset + sh[i].sh_size > size || str->sh_offset + str->sh_size > size)
            continue;
        const Elf64_Sym *syms = (const Elf64_Sym *)(b + sh[i].sh_offset);
        size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
        const char *strs = (const char *)(b + str->sh_offset);
        for (size_t k = 0; k < n; k++) {
            if (syms[k].st_name >= str->sh_size || syms[k].st_shndx == SHN_UNDEF ||
                ELF64_ST_TYPE(syms[k].st_info) != STT_FUNC)
                continue;
            if (strcmp(strs + syms[k].st_name, sym) == 0) {
                value = syms[k].st_value;
                break;
            }
        }
    }
out:
    munmap(map, size);
    return value;
}

/* The address of sym in the target: in libc (glibc 2.34 and later), else in libdl. */
static uint64_t mt_attach_target_sym(int pid, const char *sym)
{
    static const char *const libs[] = {"libc.so.", "libc-", "libdl.so.", "libdl-"};
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        uint64_t load, end;
        char path[PATH_MAX], rooted[PATH_MAX + 32];
        if (!mt_attach_find_map(pid, libs[i], &load, &end, path, sizeof path))
            continue;
        /* The very file mapped (map_files: also when an upgrade replaced it on disk since),
         * else by its path through the target's root (a container's, a chroot's). */
        snprintf(rooted, sizeof rooted, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, load, end);
        uint64_t v = mt_attach_elf_sym(rooted, sym);
        if (!v && !strstr(path, " (deleted)")) {
            snprintf(rooted, sizeof rooted, "/proc/%d/root%s", pid, path);
            v = mt_attach_elf_sym(rooted, sym);
        }
        if (v)
            return load + v; /* a shared library's first PT_LOAD is at vaddr 0 */
    }
    return 0;
}

/* ---- ptrace ---- */

/* System calls a thread waits in without holding a lock that dlopen or malloc would take. */
static bool mt_attach_safe_syscall(long nr)
{
    switch (nr) {
    case SYS_read:
    case SYS_poll:
    case SYS_select:
    case SYS_pselect6:
    case SYS_ppoll:
    case SYS_nanosleep:
    case SYS_clock_nanosleep:
    case SYS_wait4:
    case SYS_waitid:
    case SYS_pause:
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
    case SYS_futex:
    case SYS_accept:
    case SYS_accept4:
    case SYS_recvfrom:
    case SYS_recvmsg:
    case SYS_rt_sigsuspend:
    case SYS_rt_sigtimedwait:
        return true;
    default:
        return false;
    }
}

/* The address ranges of the C library and the dynamic loader (and libpthread, libdl), where a
 * thread may hold a lock that dlopen or malloc takes: malloc's arena lock, the loader's lock. */
typedef struct mt_attach_ranges {
    uint64_t lo[64], hi[64];
    size_t n;
} mt_attach_ranges_t;

static void mt_attach_lock_ranges(int pid, mt_attach_ranges_t *r)
{
    static const char *const libs[] = {"libc.so.", "libc-",      "ld-linux",
                                       "ld-",      "libpthread", "libdl"};
    char file[32];
    snprintf(file, sizeof file, "/proc/%d/maps", pid);
    r->n = 0;
    FILE *f = fopen(file, "re");
    if (!f)
        return;
    char line[PATH_MAX + 128];
    while (r->n < 64 && fgets(line, sizeof line, f)) {
        unsigned long long lo, hi;
        char perms[8];
        int name_at = 0;
        if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &lo, &hi, perms, &name_at) < 3 ||
            !name_at || perms[2] != 'x')
            continue;
        char *name = line + name_at;
        name[strcspn(name, "\n")] = '\0';
        const char *slash = strrchr(name, '/');
        for (size_t i = 0; slash && i < sizeof libs / sizeof libs[0]; i++) {
            if (strncmp(slash + 1, libs[i], strlen(libs[i])) == 0) {
                r->lo[r->n] = lo;
                r->hi[r->n++] = hi;
                break;
            }
        }
    }
    fclose(f);
}

/* A stopped thread we may borrow: waiting in a safe system call, or running code of its own
 * (outside the C library and the loader, where it holds none of their locks). */
static bool mt_attach_borrowable(const struct user_regs_struct *g, const mt_attach_ranges_t *r)
{
    if (mt_attach_safe_syscall((long)g->orig_rax))
        return true;
    if ((long)g->orig_rax != -1)
        return false; /* another system call: it may hold a lock (mmap inside malloc) */
    for (size_t i = 0; i < r->n; i++)
        if (g->rip >= r->lo[i] && g->rip < r->hi[i])
            return false;
    return true;
}

/* The thread of pid to borrow: the main thread if it waits in a safe system call, else the
 * first other that does; 0 when none does now, -errno when /proc refuses. */
static int mt_attach_pick_thread(int pid)
{
    char buf[256];
    ssize_t n = mt_attach_proc_read(pid, "syscall", buf, sizeof buf);
    if (n < 0)
        return (int)n;
    if (mt_attach_safe_syscall(strtol(buf, NULL, 10)) && strncmp(buf, "running", 7) != 0)
        return pid;
    char dir[32];
    snprintf(dir, sizeof dir, "/proc/%d/task", pid);
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    int pick = 0;
    struct dirent *e;
    while (!pick && (e = readdir(d)) != NULL) {
        int tid = atoi(e->d_name);
        if (tid <= 0 || tid == pid)
            continue;
        char file[64];
        snprintf(file, sizeof file, "task/%d/syscall", tid);
        if (mt_attach_proc_read(pid, file, buf, sizeof buf) > 0 && strncmp(buf, "running", 7) &&
            mt_attach_safe_syscall(strtol(buf, NULL, 10)))
            pick = tid;
    }
    closedir(d);
    return pick;
}

/* The thread's whole register state: general registers and the FPU/SSE/AVX area, which the
 * borrowed call may change (the interrupted code may keep values there across the call). */
typedef struct mt_attach_regs {
    struct user_regs_struct gp;
    unsigned char xstate[16384];
    struct iovec xv;
} mt_attach_regs_t;

static int mt_attach_get_regs(int tid, mt_attach_regs_t *r)
{
    if (ptrace(PTRACE_GETREGS, tid, NULL, &r->gp) != 0)
        return -errno;
    r->xv.iov_base = r->xstate;
    r->xv.iov_len = sizeof r->xstate;
    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &r->xv) != 0) {
        r->xv.iov_len = sizeof(struct user_fpregs_struct);
        if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRFPREG, &r->xv) != 0)
            r->xv.iov_len = 0;
    }
    return 0;
}

static int mt_attach_set_regs(int tid, const mt_attach_regs_t *r)
{
    if (r->xv.iov_len) {
        struct iovec v = r->xv;
        long type = r->xv.iov_len == sizeof(struct user_fpregs_struct) ? NT_PRFPREG : NT_X86_XSTATE;
        (void)ptrace(PTRACE_SETREGSET, tid, (void *)type, &v);
    }
    return ptrace(PTRACE_SETREGS, tid, NULL, &r->gp) == 0 ? 0 : -errno;
}

static int mt_attach_write_mem(int pid, uint64_t addr, const void *data, size_t len)
{
    char path[32];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = pwrite(fd, data, len, (off_t)addr);
    int err = errno;
    close(fd);
    return n == (ssize_t)len ? 0 : -(n < 0 ? err : EIO);
}

static int mt_attach_read_mem(int pid, uint64_t addr, void *data, size_t len)
{
    char path[32];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = pread(fd, data, len, (off_t)addr);
    close(fd);
    return n == (ssize_t)len ? 0 : -EIO;
}

/* Waits for tid's next stop; its status, or -1 when the process is gone. */
static int mt_attach_wait(int tid)
{
    int st;
    for (;;) {
        pid_t r = waitpid(tid, &st, __WALL);
        if (r == tid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
    }
    return WIFSTOPPED(st) ? st : -1;
}

/* Stops the seized tid with PTRACE_INTERRUPT; signals that come first are passed on. */
static int mt_attach_interrupt(int tid)
{
    if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0)
        return -errno;
    for (;;) {
        int st = mt_attach_wait(tid);
        if (st < 0)
            return -ESRCH;
        if (st >> 16 == PTRACE_EVENT_STOP)
            return 0; /* the interrupt (or a group-stop: stopped all the same) */
        /* a signal-delivery stop: deliver it, and interrupt again */
        if (ptrace(PTRACE_CONT, tid, NULL, (void *)(long)WSTOPSIG(st)) != 0 ||
            ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) != 0)
            return -errno;
    }
}

/*
 * Calls fn(a0, a1) on the stopped tid, from the state saved, with a return address of 0: the
 * fault on return stops the thread with the result in rax. orig_rax = -1, so that the kernel's
 * restart of an interrupted system call (rip - 2) is not applied to our call; it is applied to
 * the restored registers when the thread resumes, as if it had never been stopped. Signals
 * that arrive meanwhile are delivered (handlers run on the stack below our frame).
 */
static int mt_attach_call(int tid, const mt_attach_regs_t *saved, uint64_t sp, uint64_t fn,
                          uint64_t a0, uint64_t a1, uint64_t *ret)
{
    mt_attach_regs_t call = *saved;
    call.gp.rip = fn;
    call.gp.rdi = a0;
    call.gp.rsi = a1;
    call.gp.rax = 0;
    call.gp.orig_rax = (unsigned long long)-1;
    call.gp.rsp = sp;
    int rc = mt_attach_set_regs(tid, &call);
    if (rc < 0)
        return rc;
    long sig = 0;
    for (;;) {
        if (ptrace(PTRACE_CONT, tid, NULL, (void *)sig) != 0)
            return -errno;
        int st = mt_attach_wait(tid);
        if (st < 0)
            return -ESRCH;
        sig = 0;
        if (st >> 16 == PTRACE_EVENT_STOP)
            continue; /* group-stop (SIGSTOP): go on, the call must finish */
        if (WSTOPSIG(st) == SIGSEGV) {
            struct user_regs_struct r;
            if (ptrace(PTRACE_GETREGS, tid, NULL, &r) != 0)
                return -errno;
            if (r.rip == 0) {
                *ret = r.rax;
                return 0;
            }
            return -EFAULT; /* a real fault in the call: left to the caller to report */
        }
        sig = WSTOPSIG(st);
    }
}

/* ---- the settings file and the log ---- */

static void mt_attach_expand(const char *tmpl, int pid, const char *name, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = tmpl; *p && len + 1 < cap; p++) {
        int n;
        if (p[0] == '%' && p[1] == 'p')
            n = snprintf(out + len, cap - len, "%d", pid), p++;
        else if (p[0] == '%' && p[1] == 'e')
            n = snprintf(out + len, cap - len, "%s", name), p++;
        else if (p[0] == '%' && p[1] == '%')
            n = snprintf(out + len, cap - len, "%%%%"), p++; /* the recorder expands again */
        else
            n = snprintf(out + len, cap - len, "%c", *p);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
}

/* True when the target has the file path (or path.N, the recorder's choice when path is
 * taken) open; its name in found. */
static bool mt_attach_log_open(int pid, const char *path, char *found, size_t cap)
{
    char dir[32];
    snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
    DIR *d = opendir(dir);
    if (!d)
        return false;
    size_t plen = strlen(path);
    bool open_ = false;
    struct dirent *e;
    while (!open_ && (e = readdir(d)) != NULL) {
        char link[PATH_MAX + 64], target[PATH_MAX];
        snprintf(link, sizeof link, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strncmp(target, path, plen) != 0)
            continue;
        const char *rest = target + plen;
        if (*rest == '.')
            rest += 1 + strspn(rest + 1, "0123456789");
        if (*rest == '\0' && (target[plen] == '\0' || target[plen + 1] != '\0')) {
            snprintf(found, cap, "%s", target);
            open_ = true;
        }
    }
    closedir(d);
    return open_;
}

static bool mt_attach_alive(int pid)
{
    char st[64];
    if (mt_attach_proc_read(pid, "stat", st, sizeof st) < 0)
        return false;
    const char *p = strrchr(st, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

static uint64_t mt_attach_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct mt_attach_opts {
    const char *output;
    double duration; /* seconds, 0: until Ctrl-C */
    unsigned long sample_ms;
    bool quiet;
    bool live; /* the full-screen view while recording (run_live.h) */
    int pid;
} mt_attach_opts_t;

static int mt_attach_parse(int argc, char **argv, mt_attach_opts_t *o)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"duration", required_argument, NULL, 'd'},
        {"sample-interval", required_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},
        {"live", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->sample_ms = 10;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (!optarg[0] || strcmp(optarg, "-") == 0) {
                fprintf(stderr, "memtrace: attach: -o needs a file name (not '-') (try "
                                "'memtrace attach --help')\n");
                return 2;
            }
            o->output = optarg;
            break;
        case 'd': {
            char *end;
            errno = 0;
            o->duration = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o->duration > 0) || o->duration > 1e7) {
                fprintf(stderr,
                        "memtrace: attach: --duration needs a number of seconds above "
                        "0, not '%s' (try 'memtrace attach --help')\n",
                        optarg);
                return 2;
            }
            break;
        }
        case 's': {
            size_t ms;
            if (mt_cli_number("attach", "--sample-interval", optarg, 60000, &ms) != 0)
                return 2;
            o->sample_ms = ms;
            break;
        }
        case 'q':
            o->quiet = true;
            break;
        case 'l':
            o->live = true;
            break;
        case 'h':
            mt_attach_usage(stdout);
            return 0;
        default:
            return mt_cli_bad_option("attach", c, argv, longopts);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "memtrace: attach: %s (try 'memtrace attach --help')\n",
                optind >= argc ? "which process? give its PID" : "one PID only");
        return 2;
    }
    char *end;
    errno = 0;
    long pid = strtol(argv[optind], &end, 10);
    if (errno || end == argv[optind] || *end || pid <= 0 || pid > INT_MAX) {
        fprintf(stderr,
                "memtrace: attach: '%s' is not a process id (try 'memtrace attach "
                "--help')\n",
                argv[optind]);
        return 2;
    }
    o->pid = (int)pid;
    if (o->live && mt_run_live_check("attach") != 0)
        return 2;
    return -1;
}

/* The process's name: the last part of argv[0] (what %e stands for), else comm. */
static void mt_attach_name(int pid, char *name, size_t cap)
{
    char buf[PATH_MAX];
    ssize_t n = mt_attach_proc_read(pid, "cmdline", buf, sizeof buf);
    if (n > 0 && buf[0]) {
        const char *slash = strrchr(buf, '/');
        snprintf(name, cap, "%.*s", (int)cap - 1, slash ? slash + 1 : buf);
        return;
    }
    if (mt_attach_proc_read(pid, "comm", buf, sizeof buf) > 0) {
        buf[strcspn(buf, "\n")] = '\0';
        snprintf(name, cap, "%.*s", (int)cap - 1, buf);
        return;
    }
    snprintf(name, cap, "unknown");
}

static int mt_attach_write_conf(const char *conf, const mt_attach_opts_t *o, const char *log)
{
    (void)unlink(conf); /* a stale one of ours; another user's is not ours to remove */
    int fd = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    char buf[PATH_MAX + 512];
    int n = snprintf(buf, sizeof buf,
                     "MEMTRACE_OUTPUT=%s\nMEMTRACE_SAMPLE_MS=%lu\nMEMTRACE_FOLLOW_FORK=0\n"
                     "MEMTRACE_ROOT_PID=%d\nMEMTRACE_RUN_ID=attach.%d.%lld\n"
                     "MEMTRACE_LEAK_CHECK=0\nMEMTRACE_ATTACH_CLI=%d\n",
                     log, o->sample_ms, o->pid, o->pid, (long long)time(NULL), (int)getpid());
    int rc = write(fd, buf, (size_t)n) == n ? 0 : -EIO;
    close(fd);
    return rc;
}

/* The injection itself: seize the thread, call dlopen(lib) in it, restore, detach. */
static int mt_attach_inject(int pid, int tid, const char *name, const char *lib, uint64_t dlopen_at,
                            uint64_t dlerror_at)
{
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
        if (errno == EPERM || errno == EACCES)
            return mt_attach_denied(pid, name);
        if (errno == ESRCH)
            return mt_attach_fail("pid %d (%s) exited", pid, name);
        return mt_attach_fail("cannot trace pid %d (%s): %s", pid, name, strerror(errno));
    }
    static mt_attach_regs_t saved;
    static mt_attach_ranges_t ranges;
    mt_attach_lock_ranges(pid, &ranges);
    int rc = mt_attach_interrupt(tid);
    /* Borrow it only while it waits in a safe system call or runs its own code: a thread
     * stopped inside malloc holds the arena lock that dlopen would wait for. Else let it run
     * and look again. */
    for (int tries = 0; rc == 0; tries++) {
        rc = mt_attach_get_regs(tid, &saved);
        if (rc < 0 || mt_attach_borrowable(&saved.gp, &ranges))
            break;
        if (tries == MT_ATTACH_PICK_TRIES) {
            rc = -EBUSY;
            break;
        }
        if (ptrace(PTRACE_CONT, tid, NULL, NULL) != 0) {
            rc = -errno;
            break;
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        rc = mt_attach_interrupt(tid);
    }
    if (rc < 0) {
        if (rc != -ESRCH)
            (void)ptrace(PTRACE_DETACH, tid, NULL, NULL);
        if (rc == -EBUSY)
            return mt_attach_fail("pid %d (%s) was inside the C library for 3 s (it "
                                  "allocates all the time, or waits where memtrace cannot "
                                  "interrupt it safely); try again when it waits for input, "
                                  "a timer or a lock",
                                  pid, name);
        return mt_attach_fail("pid %d (%s): %s", pid, name,
                              rc == -ESRCH ? "exited while memtrace attached" : strerror(-rc));
    }
    /* The path below the red zone of the borrowed stack, then the fake return address. */
    size_t len = strlen(lib) + 1;
    uint64_t path_at = (saved.gp.rsp - 128 - 256 - len) & ~(uint64_t)15;
    uint64_t sp = ((path_at - 64) & ~(uint64_t)15) - 8;
    uint64_t zero = 0, handle = 0;
    rc = mt_attach_write_mem(pid, path_at, lib, len);
    if (rc == 0)
        rc = mt_attach_write_mem(pid, sp, &zero, sizeof zero);
    if (rc == 0)
        rc = mt_attach_call(tid, &saved, sp, dlopen_at, path_at, RTLD_NOW, &handle);
    char why[512] = "";
    if (rc == 0 && handle == 0 && dlerror_at) {
        uint64_t msg = 0;
        if (mt_attach_call(tid, &saved, sp, dlerror_at, 0, 0, &msg) == 0 && msg &&
            mt_attach_read_mem(pid, msg, why, sizeof why - 1) == 0)
            why[sizeof why - 1] = '\0';
        else
            snprintf(why, sizeof why, "dlopen failed");
    }
    int restored = rc == -ESRCH ? -ESRCH : mt_attach_set_regs(tid, &saved);
    if (restored == 0)
        (void)ptrace(PTRACE_DETACH, tid, NULL, NULL);
    if (rc == -ESRCH)
        return mt_attach_fail("pid %d (%s) exited while memtrace attached", pid, name);
    if (rc == -EFAULT)
        return mt_attach_fail("pid %d (%s) faulted while it loaded the recorder", pid, name);
    if (rc < 0 || restored < 0)
        return mt_attach_fail("pid %d (%s): cannot run the recorder's loader in it: %s", pid, name,
                              strerror(rc < 0 ? -rc : -restored));
    if (handle == 0)
        return mt_attach_fail("pid %d (%s) could not load the recorder: %s", pid, name, why);
    return 0;
}

int mt_cmd_attach(int argc, char **argv)
{
    mt_attach_opts_t o;
    int rc = mt_attach_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    int pid = o.pid;
    if (pid == getpid())
        return mt_attach_fail("pid %d is memtrace itself", pid);
    char name[256];
    if (!mt_attach_alive(pid))
        return mt_attach_fail("no process with pid %d", pid);
    mt_attach_name(pid, name, sizeof name);
    uint64_t load, end;
    char path[PATH_MAX];
    if (mt_attach_find_map(pid, "libmemtrace_preload.so", &load, &end, path, sizeof path))
        return mt_attach_fail("pid %d (%s) is already recorded by memtrace (memtrace run, "
                              "LD_PRELOAD, or an earlier attach: the recorder stays loaded "
                              "after a detach, and attaching twice is not supported)",
                              pid, name);
    int tid = mt_attach_pick_thread(pid);
    if (tid == -EACCES || tid == -EPERM)
        return mt_attach_denied(pid, name);
    if (!mt_attach_find_map(pid, "ld-linux", &load, &end, path, sizeof path) &&
        !mt_attach_find_map(pid, "ld-", &load, &end, path, sizeof path))
        return mt_attach_fail("pid %d (%s) is statically linked: it has no dynamic loader to "
                              "load the recorder with (only dynamically linked programs can "
                              "be attached to; 'memtrace run' cannot record it either)",
                              pid, name);
    char exe[64];
    snprintf(exe, sizeof exe, "/proc/%d/exe", pid);
    const mt_sanitizer_t *san = mt_run_sanitizer(exe);
    if (san)
        return mt_attach_fail("pid %d (%s) is built with %s (%s), whose runtime serves malloc "
                              "itself: there is nothing memtrace could record",
                              pid, name, san->name, san->flag);
    uint64_t dlopen_at = mt_attach_target_sym(pid, "dlopen");
    if (!dlopen_at)
        return mt_attach_fail("pid %d (%s): no dlopen found in its C library (memtrace attach "
                              "knows glibc only)",
                              pid, name);
    uint64_t dlerror_at = mt_attach_target_sym(pid, "dlerror");
    char lib[PATH_MAX];
    if (mt_run_find_preload(lib) != 0)
        return 1;

    /* The log: absolute (the target's working directory is not ours), %p and %e expanded here
     * so that we know which file the target opens. */
    char tmpl[PATH_MAX], log[PATH_MAX];
    const char *out = o.output ? o.output : MT_ATTACH_DEFAULT_TEMPLATE;
    if (out[0] == '/') {
        snprintf(tmpl, sizeof tmpl, "%s", out);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return mt_attach_fail("cannot read the current directory: %s", strerror(errno));
        if (snprintf(tmpl, sizeof tmpl, "%s/%s", cwd, out) >= (int)sizeof tmpl)
            return mt_attach_fail("%s: file name too long", out);
    }
    mt_attach_expand(tmpl, pid, name, log, sizeof log);

    /* Ctrl-C, kill and a closed terminal end the recording, never memtrace in the middle. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop, &old);

    char conf[64];
    snprintf(conf, sizeof conf, MT_ATTACH_CONF_FMT, pid);
    rc = mt_attach_write_conf(conf, &o, log);
    if (rc < 0)
        return mt_attach_fail("cannot write %s: %s", conf, strerror(-rc));
    if (tid == 0) {
        /* none waits right now: take the main thread, and wait until it does */
        tid = pid;
    }
    uint64_t t0 = mt_attach_now_ms();
    rc = mt_attach_inject(pid, tid, name, lib, dlopen_at, dlerror_at);
    if (rc != 0) {
        unlink(conf);
        return rc;
    }
    char found[PATH_MAX] = "";
    while (!mt_attach_log_open(pid, log, found, sizeof found)) {
        if (!mt_attach_alive(pid) || mt_attach_now_ms() - t0 > 5000) {
            unlink(conf);
            return mt_attach_fail("pid %d (%s) loaded the recorder but did not open %s (see "
                                  "its standard error)",
                                  pid, name, log);
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    if (!o.quiet)
        fprintf(stderr, "memtrace: recording pid %d (%s) into %s; Ctrl-C stops%s\n", pid, name,
                found, o.duration > 0 ? " (or --duration)" : "");

    /* Until Ctrl-C, --duration, or the target's exit; with --live, or q in the view. */
    uint64_t start = mt_attach_now_ms();
    bool exited = false, viewed = false;
    if (o.live) {
        int sigfd = signalfd(-1, &stop, SFD_CLOEXEC);
        if (sigfd >= 0) {
            char *view_argv[] = {name, NULL};
            long long deadline =
                o.duration > 0 ? (long long)(start + (uint64_t)(o.duration * 1000.0)) * 1000000LL
                               : 0;
            int why = mt_run_live_attach(found, pid, view_argv, sigfd, deadline);
            close(sigfd);
            viewed = why >= 0;
            exited = why == 1;
        }
    }
    while (!viewed) {
        struct timespec ts = {0, 50000000};
        int sig = sigtimedwait(&stop, NULL, &ts);
        if (sig > 0)
            break;
        if (!mt_attach_alive(pid)) {
            exited = true;
            break;
        }
        if (o.duration > 0 && (double)(mt_attach_now_ms() - start) >= o.duration * 1000.0)
            break;
    }
    uint64_t secs_ms = mt_attach_now_ms() - start;
    unlink(conf); /* the recorder's thread sees it gone: it detaches and closes the log */
    while (!exited && mt_attach_log_open(pid, log, found, sizeof found)) {
        if (!mt_attach_alive(pid)) {
            exited = true;
            break;
        }
        if (mt_attach_now_ms() - start - secs_ms > MT_ATTACH_STOP_WAIT_MS) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            return mt_attach_fail("pid %d (%s) did not close %s within %d s; the log may be "
                                  "incomplete",
                                  pid, name, found, MT_ATTACH_STOP_WAIT_MS / 1000);
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (!o.quiet) {
        if (exited)
            fprintf(stderr, "memtrace: pid %d (%s) exited after %.1f s recorded; log %s\n", pid,
                    name, (double)secs_ms / 1000.0, found);
        else
            fprintf(stderr, "memtrace: recorded pid %d (%s) for %.1f s into %s; it runs on\n", pid,
                    name, (double)secs_ms / 1000.0, found);
    }
    return 0;
}
