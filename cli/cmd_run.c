// SPDX-License-Identifier: MIT
// `memtrace run`: checks that PROG can be recorded at all, starts it with the preload library,
// waits for it and prints a short summary of its log. It must never change what PROG sees
// (argv, environment apart from the MEMTRACE_* and LD_PRELOAD variables, stdio, cwd, signals)
// nor its exit status: memtrace exits with PROG's status, or ends by PROG's signal.
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cli_common.h"
#include "commands.h"
#include "fmt.h"
#include "leak_check.h"
#include "log_format.h"
#include "run_summary.h"
#include "mt_config.h"
#include "peak_check.h"
#include "run_follow.h"
#include "run_live.h"
#include "run_sanitizer.h"
#include "render_stack.h"
#include "run_manifest.h"
#include "text_escape.h"

#define MT_RUN_PRELOAD_NAME "libmemtrace_preload.so"
#define MT_RUN_DEFAULT_TEMPLATE "memtrace.%e.%p.mtr"
#define MT_RUN_MAX_SHEBANG_DEPTH 4 /* what Linux itself follows (fs/binfmt_script.c) */
#define MT_RUN_OTHER_LOGS_SHOWN 4

typedef struct mt_run_opts {
    const char *output; /* template as given, NULL for the default */
    unsigned long sample_ms;
    bool follow_fork;
    bool quiet;
    bool leak_check;     /* MEMTRACE_LEAK_CHECK=1, and the leak report on stderr at the end */
    mt_leak_cli_t leak;  /* --show-leak-kinds, --fail-on, --error-exitcode, --suppressions */
    uint64_t peak_limit; /* --fail-peak-above */
    const char *peak_limit_text; /* as given; NULL when not given */
    int prog_index;              /* index in argv of PROG */
    bool live;                   /* --live: the view while PROG runs (run_live.h) */
    bool aggregate;              /* --aggregate: MEMTRACE_AGGREGATE=1 (README) */
} mt_run_opts_t;

static void mt_run_usage(FILE *out)
{
    fprintf(
        out,
        "usage: memtrace run [options] [--] PROG [ARGS...]\n"
        "\n"
        "Run PROG with the memtrace recorder preloaded and write a log of every heap and\n"
        "anonymous-mmap event with its stack. PROG's arguments, environment, stdin/stdout/stderr\n"
        "and working directory pass through unchanged; memtrace exits with PROG's status\n"
        "(killed by a signal: it ends by the same signal), or 1 when recording stopped early\n"
        "(a full disk) and PROG exited 0.\n"
        "A program's own allocator reports its blocks, and marks moments of the run, through\n"
        "the header memtrace.h (README, \"Custom allocators and marks\").\n"
        "\n"
        "options:\n"
        "  -o, --output PATH        log file; %%p is replaced by the pid, %%e by the name the\n"
        "                           program was started as (the path given to exec, before\n"
        "                           symlinks and #! are followed: gcc, not x86_64-linux-gnu-\n"
        "                           gcc-12), %%x by its executable's own file name (default:\n"
        "                           %s in the current directory). A process\n"
        "                           that finds the name taken writes PATH.2 ... PATH.16,\n"
        "                           then PATH.PID.1, PATH.PID.2, ... %%p\n"
        "                           may only be in the file name; a directory with %%e in it\n"
        "                           must exist. Every process and exec'd program writes its\n"
        "                           own log: 'memtrace report DIR' shows them all. Not\n"
        "                           '-': standard output is PROG's\n"
        "      --sample-interval MS sample RSS and allocator statistics every MS ms (default 10);\n"
        "                           also at each new heap high and at exit\n"
        "      --follow-fork        record forked children into their own logs (default)\n"
        "      --no-follow-fork     record only the process PROG starts as, and its exec'd images\n"
        "      --python=off         no Python frames and no Python allocator hooks in a\n"
        "                           Python PROG (default on: detected automatically)\n"
        "      --keep-free-lists    let CPython reuse objects from its free lists (faster;\n"
        "                           a reused object keeps the line that first allocated it)\n"
        "      --live               show the heap while PROG runs, full screen, refreshed\n"
        "                           every second: heap and RSS now and at peak, the top\n"
        "                           sites by held bytes, per thread (keys: s sort, t thread,\n"
        "                           arrows scroll, q closes the view and PROG goes on).\n"
        "                           Needs a terminal. PROG's output and errors, when they\n"
        "                           are the terminal, go to memtrace.NAME.PID.out in the\n"
        "                           current directory, and its input is /dev/null\n"
        "      --aggregate          keep per-site figures in PROG and write only those when it\n"
        "                           ends (top sites, peak, what is held at exit): the log no\n"
        "                           longer grows with the run. No timeline, windows, threads\n"
        "                           or anonymous mappings; nothing is written if PROG is killed\n"
        "  -q, --quiet              print no summary when PROG ends and no leak report:\n"
        "                           nothing for a clean program, one line when it has\n"
        "                           leaks of a failing kind\n"
        "  -h, --help               show this help\n",
        MT_RUN_DEFAULT_TEMPLATE);
    /* two strings: C11 promises 4095 characters in one literal */
    fputs("\n"
          "leak checking (see 'memtrace leaks --help'):\n"
          "      --leak-check         classify the blocks left at exit (definitely, indirectly,\n"
          "                           possibly lost, still reachable) and print the leak report\n"
          "                           on stderr when PROG ends\n"
          "      --error-exitcode N   exit N when a failing kind is found, else PROG's status\n"
          "                           (implies --leak-check)\n"
          "      --fail-on KINDS      kinds that fail (default definite,possible)\n"
          "      --fail-leaked-above SIZE\n"
          "                           fail only when they hold more than SIZE bytes (4096,\n"
          "                           64K, 10MiB; default 0)\n"
          "      --kinds KINDS        kinds listed (default definite,indirect,possible); also\n"
          "                           spelled --show-leak-kinds, as in valgrind\n"
          "      --suppressions FILE  LeakSanitizer or valgrind suppressions (repeatable)\n"
          "      --gen-suppressions   print a suppression for each leak listed\n"
          "      --show-import-machinery\n"
          "                           keep Python's import machinery in the report's stacks\n"
          "      --full-names         C++ names in full in the report (template arguments)\n"
          "      --after-finalization a Python script: judge the scan at exit, after the\n"
          "                           interpreter's finalization, not what the script held\n"
          "                           when it ended (the default)\n"
          "  KINDS: definite, indirect, possible, reachable, separated by commas; all; none.\n"
          "  For a Python script the leaks are the blocks its own lines allocated and still\n"
          "  held when it ended (before finalization); they fail as definite ones do.\n"
          "\n"
          "peak check:\n"
          "      --fail-peak-above SIZE\n"
          "                           when the heap's peak is above SIZE, say where and exit\n"
          "                           with --error-exitcode's N (without it, 1)\n"
          "\n"
          "Options end at the first argument that is not an option, or at '--'.\n"
          "Statically linked and setuid programs are refused: LD_PRELOAD cannot reach them.\n",
          out);
}

__attribute__((format(printf, 1, 2))) static int mt_run_bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("memtrace: run: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (try 'memtrace run --help')\n", stderr);
    va_end(ap);
    return 2;
}

/* The options above, for a did-you-mean (cli_common.h's mt_cli_suggest). */
static int mt_run_unknown_option(const char *a)
{
    static const char *const names[] = {"output",
                                        "sample-interval",
                                        "follow-fork",
                                        "no-follow-fork",
                                        "python",
                                        "keep-free-lists",
                                        "live",
                                        "aggregate",
                                        "quiet",
                                        "help",
                                        "leak-check",
                                        "error-exitcode",
                                        "fail-on",
                                        "fail-leaked-above",
                                        "show-leak-kinds",
                                        "full-names",
                                        "kinds",
                                        "suppressions",
                                        "gen-suppressions",
                                        "show-import-machinery",
                                        "after-finalization",
                                        "fail-peak-above"};
    if (strncmp(a, "--", 2) == 0) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(a + 2, "="), a + 2);
        const char *near = mt_cli_suggest(name, names, sizeof names / sizeof names[0]);
        if (near)
            return mt_run_bad_usage("unknown option '--%s'; did you mean '--%s'?", name, near);
    }
    return mt_run_bad_usage("unknown option '%s'", a);
}

/* Accepts "--name VALUE", "--name=VALUE" and, for short options, "-oVALUE". Returns the value
 * and advances *i past it, or NULL when the option is missing its value. */
static const char *mt_run_opt_value(int argc, char **argv, int *i, const char *arg, size_t namelen)
{
    if (arg[namelen] == '=')
        return arg + namelen + 1;
    if (arg[1] != '-' && arg[namelen] != '\0')
        return arg + namelen;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static bool mt_run_opt_is(const char *arg, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return false;
    if (arg[n] == '\0' || arg[n] == '=')
        return true;
    return name[1] != '-' && strlen(name) == 2; /* -oPATH */
}

/* Returns -1 to go on, or the exit status to return (help, usage error). */
static int mt_run_parse(int argc, char **argv, mt_run_opts_t *o)
{
    *o = (mt_run_opts_t){.sample_ms = 10, .follow_fork = true, .prog_index = -1};
    mt_leak_cli_init(&o->leak);
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break; /* PROG: its own options must reach it untouched */
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            mt_run_usage(stdout);
            return 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(a, "--live") == 0) {
            o->live = true;
        } else if (strcmp(a, "--aggregate") == 0) {
            /* Read by the recorder in PROG (and inherited by what PROG starts). */
            if (setenv("MEMTRACE_AGGREGATE", "1", 1) != 0)
                return mt_run_bad_usage("%s", "cannot set MEMTRACE_AGGREGATE");
            o->aggregate = true;
        } else if (strcmp(a, "--follow-fork") == 0) {
            o->follow_fork = true;
        } else if (strcmp(a, "--no-follow-fork") == 0) {
            o->follow_fork = false;
        } else if (strcmp(a, "--leak-check") == 0 || strcmp(a, "--leak-check=yes") == 0 ||
                   strcmp(a, "--leak-check=full") == 0) {
            o->leak_check = true;
        } else if (strcmp(a, "--leak-check=no") == 0) {
            o->leak_check = false;
        } else if (strcmp(a, "--python=off") == 0 || strcmp(a, "--python=on") == 0) {
            /* Read by the recorder in PROG (and inherited by what PROG starts). */
            if (setenv("MEMTRACE_PYTHON", a[10] == 'n' ? "1" : "0", 1) != 0)
                return mt_run_bad_usage("%s", "cannot set MEMTRACE_PYTHON");
        } else if (strcmp(a, "--keep-free-lists") == 0) {
            if (setenv("MEMTRACE_PYTHON_FREELISTS", "keep", 1) != 0)
                return mt_run_bad_usage("%s", "cannot set MEMTRACE_PYTHON_FREELISTS");
        } else if (strcmp(a, "--show-import-machinery") == 0) {
            o->leak.show_import = 1;
        } else if (strcmp(a, "--full-names") == 0) {
            mt_names_set_full(1);
        } else if (strcmp(a, "--after-finalization") == 0) {
            o->leak.after_finalization = 1;
        } else if (strcmp(a, "--gen-suppressions") == 0 ||
                   strcmp(a, "--gen-suppressions=all") == 0 ||
                   strcmp(a, "--gen-suppressions=yes") == 0) {
            o->leak.gen_supps = 1;
        } else if (mt_run_opt_is(a, "--error-exitcode") || mt_run_opt_is(a, "--fail-on") ||
                   mt_run_opt_is(a, "--show-leak-kinds") || mt_run_opt_is(a, "--kinds") ||
                   mt_run_opt_is(a, "--suppressions") || mt_run_opt_is(a, "--fail-leaked-above") ||
                   mt_run_opt_is(a, "--fail-peak-above")) {
            size_t n = strcspn(a, "=");
            const char *v = mt_run_opt_value(argc, argv, &i, a, n);
            if (v == NULL)
                return mt_run_bad_usage("option '%.*s' needs a value", (int)n, a);
            int bad;
            if (strncmp(a, "--error-exitcode", n) == 0) {
                bad = mt_leak_cli_exitcode("run", v, &o->leak.error_exitcode);
                o->leak_check = true;
            } else if (strncmp(a, "--fail-on", n) == 0) {
                bad = mt_leak_cli_kinds("run", "--fail-on", v, &o->leak.fail);
            } else if (strncmp(a, "--show-leak-kinds", n) == 0 || strncmp(a, "--kinds", n) == 0) {
                /* --kinds as in memtrace leaks, --show-leak-kinds as in valgrind */
                bad = mt_leak_cli_kinds("run", "--kinds", v, &o->leak.show);
            } else if (strncmp(a, "--fail-leaked-above", n) == 0) {
                bad = mt_cli_size("run", "--fail-leaked-above", v, &o->leak.fail_above);
                o->leak.fail_above_text = v;
            } else if (strncmp(a, "--fail-peak-above", n) == 0) {
                bad = mt_cli_size("run", "--fail-peak-above", v, &o->peak_limit);
                o->peak_limit_text = v;
            } else {
                bad = mt_leak_cli_add_supp(&o->leak, v);
            }
            if (bad)
                return 2;
        } else if (mt_run_opt_is(a, "-o") || mt_run_opt_is(a, "--output")) {
            size_t n = a[1] == '-' ? strlen("--output") : 2;
            o->output = mt_run_opt_value(argc, argv, &i, a, n);
            if (o->output == NULL)
                return mt_run_bad_usage("option '%s' needs a file name", a);
            if (o->output[0] == '\0')
                return mt_run_bad_usage("%s", "empty output file name");
            /* '-' is standard output in every other command; here the log would be mixed
             * with PROG's own output (and a file named '-' surprises everyone) */
            if (strcmp(o->output, "-") == 0)
                return mt_run_bad_usage("%s", "the log cannot go to standard output, which is "
                                              "PROG's: give -o a file name");
        } else if (mt_run_opt_is(a, "--sample-interval")) {
            const char *v = mt_run_opt_value(argc, argv, &i, a, strlen("--sample-interval"));
            if (v == NULL)
                return mt_run_bad_usage("option '%s' needs a number of milliseconds", a);
            char *end;
            errno = 0;
            unsigned long ms = strtoul(v, &end, 10);
            if (errno || end == v || *end != '\0' || v[0] == '-' || ms == 0 || ms > 3600000)
                return mt_run_bad_usage("--sample-interval wants milliseconds between 1 and "
                                        "3600000, not '%s'",
                                        v);
            o->sample_ms = ms;
        } else {
            return mt_run_unknown_option(a);
        }
    }
    if (i >= argc) {
        fprintf(stderr, "memtrace: run: no program given (try 'memtrace run --help')\n");
        return 2;
    }
    if (o->aggregate && o->live)
        return mt_run_bad_usage("%s", "--live shows the events as they come, and --aggregate "
                                      "writes none until PROG ends: choose one");
    o->prog_index = i;
    return -1;
}

/* ---- finding the preload library ---- */

/* out has room for PATH_MAX bytes (realpath's contract). */
int mt_run_find_preload(char *out)
{
    const char *env = getenv("MEMTRACE_PRELOAD");
    if (env != NULL && env[0] != '\0') {
        /* The target may chdir before it execs another program, and ld.so resolves
         * LD_PRELOAD again at every exec: the path must be absolute. */
        if (realpath(env, out) == NULL) {
            fprintf(stderr, "memtrace: MEMTRACE_PRELOAD=%s: %s\n", env, strerror(errno));
            return -1;
        }
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        fprintf(stderr, "memtrace: cannot find my own executable (/proc/self/exe: %s)\n",
                strerror(errno));
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = '\0';
    /* Build tree first (build/cli/memtrace next to build/preload/), then the installed layout
     * (bindir/../lib/<triplet>/memtrace), both relative to the binary so that a relocated
     * install or a DESTDIR staging tree works without configuration. */
    const char *candidates[] = {"../preload/" MT_RUN_PRELOAD_NAME,
                                MT_PKGLIBDIR_FROM_BINDIR "/" MT_RUN_PRELOAD_NAME};
    char tried[2][PATH_MAX + 64];
    for (size_t i = 0; i < 2; i++) {
        snprintf(tried[i], sizeof tried[i], "%s/%s", self, candidates[i]);
        if (access(tried[i], R_OK) == 0 && realpath(tried[i], out) != NULL)
            return 0;
    }
    fprintf(stderr,
            "memtrace: cannot find the recorder library %s (looked for %s and %s; set "
            "MEMTRACE_PRELOAD to its path)\n",
            MT_RUN_PRELOAD_NAME, tried[0], tried[1]);
    return -1;
}

/* ---- resolving and vetting PROG ---- */

/* Like execvp's search: returns 0 with the path in out, or the shell's exit status for a
 * command that cannot run (127 not found, 126 found but not executable) after printing why. */
static int mt_run_resolve(const char *prog, char *out, size_t outlen)
{
    if (strchr(prog, '/') != NULL) {
        struct stat st;
        if (stat(prog, &st) != 0) {
            fprintf(stderr, "memtrace: %s: %s\n", prog, strerror(errno));
            return errno == ENOENT || errno == ENOTDIR ? 127 : 126;
        }
        if (S_ISDIR(st.st_mode)) {
            fprintf(stderr, "memtrace: %s: is a directory\n", prog);
            return 126;
        }
        if (access(prog, X_OK) != 0) {
            fprintf(stderr, "memtrace: %s: %s\n", prog, strerror(errno));
            return 126;
        }
        snprintf(out, outlen, "%s", prog);
        return 0;
    }
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/bin:/usr/bin"; /* glibc's execvp default */
    bool denied = false;
    while (true) {
        const char *colon = strchrnul(path, ':');
        size_t dlen = (size_t)(colon - path);
        /* An empty PATH entry means the current directory, as for execvp. */
        int n = dlen == 0 ? snprintf(out, outlen, "%s", prog)
                          : snprintf(out, outlen, "%.*s/%s", (int)dlen, path, prog);
        if (n > 0 && (size_t)n < outlen) {
            struct stat st;
            if (stat(out, &st) == 0) {
                if (!S_ISDIR(st.st_mode) && access(out, X_OK) == 0)
                    return 0;
                denied = true;
            } else if (errno == EACCES) {
                denied = true;
            }
        }
        if (*colon == '\0')
            break;
        path = colon + 1;
    }
    if (denied) {
        fprintf(stderr, "memtrace: %s: permission denied\n", prog);
        return 126;
    }
    fprintf(stderr, "memtrace: %s: command not found\n", prog);
    return 127;
}

typedef enum mt_run_elf {
    MT_RUN_ELF_DYNAMIC, /* has PT_INTERP: ld.so will honour LD_PRELOAD */
    MT_RUN_ELF_STATIC,
    MT_RUN_ELF_UNKNOWN, /* not an ELF we understand: let execve decide */
} mt_run_elf_t;

static mt_run_elf_t mt_run_elf_kind(int fd, const unsigned char *hdr, size_t len)
{
    if (len < EI_NIDENT || memcmp(hdr, ELFMAG, SELFMAG) != 0)
        return MT_RUN_ELF_UNKNOWN;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (hdr[EI_DATA] != ELFDATA2LSB)
        return MT_RUN_ELF_UNKNOWN;
#else
    if (hdr[EI_DATA] != ELFDATA2MSB)
        return MT_RUN_ELF_UNKNOWN;
#endif
    uint64_t phoff;
    unsigned phnum, phentsize, type;
    if (hdr[EI_CLASS] == ELFCLASS64 && len >= sizeof(Elf64_Ehdr)) {
        Elf64_Ehdr eh;
        memcpy(&eh, hdr, sizeof eh);
        phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize, type = eh.e_type;
    } else if (hdr[EI_CLASS] == ELFCLASS32 && len >= sizeof(Elf32_Ehdr)) {
        Elf32_Ehdr eh;
        memcpy(&eh, hdr, sizeof eh);
        phoff = eh.e_phoff, phnum = eh.e_phnum, phentsize = eh.e_phentsize, type = eh.e_type;
    } else {
        return MT_RUN_ELF_UNKNOWN;
    }
    size_t want = hdr[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    if ((type != ET_EXEC && type != ET_DYN) || phentsize < want || phnum == 0 || phnum > 4096)
        return MT_RUN_ELF_UNKNOWN;
    for (unsigned i = 0; i < phnum; i++) {
        unsigned char ph[sizeof(Elf64_Phdr)];
        if (pread(fd, ph, want, (off_t)(phoff + (uint64_t)i * phentsize)) != (ssize_t)want)
            return MT_RUN_ELF_UNKNOWN;
        uint32_t p_type; /* p_type is the first word in both classes */
        memcpy(&p_type, ph, sizeof p_type);
        if (p_type == PT_INTERP)
            return MT_RUN_ELF_DYNAMIC;
    }
    return MT_RUN_ELF_STATIC;
}

/* The dynamic loader runs in secure mode (and ignores LD_PRELOAD from the environment) when
 * exec changes the credentials: a setuid/setgid bit that actually changes the effective ids on
 * a filesystem not mounted nosuid, or file capabilities. Returns what makes it so, or NULL. */
static const char *mt_run_secure_reason(const char *path, const struct stat *st)
{
    struct statvfs vfs;
    bool nosuid = statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_NOSUID);
    if (!nosuid && (st->st_mode & S_ISUID) && st->st_uid != geteuid())
        return "setuid";
    if (!nosuid && (st->st_mode & S_ISGID) && (st->st_mode & S_IXGRP) && st->st_gid != getegid())
        return "setgid";
    if (!nosuid && getxattr(path, "security.capability", NULL, 0) > 0)
        return "given file capabilities";
    return NULL;
}

/* ld.so run directly (`memtrace run /lib64/ld-linux-x86-64.so.2 ./prog`) has no PT_INTERP, but
 * it is the loader and reads LD_PRELOAD itself. */
static bool mt_run_is_loader(const char *path)
{
    char real[PATH_MAX];
    if (realpath(path, real) == NULL)
        return false;
    const char *base = strrchr(real, '/');
    base = base ? base + 1 : real;
    return strncmp(base, "ld-linux", 8) == 0 || strncmp(base, "ld.so", 5) == 0 ||
           strncmp(base, "ld64.so", 7) == 0;
}

/* A file bash would call binary: a NUL byte in its first line (of 80 bytes at most). */
static bool mt_run_looks_binary(const char *path)
{
    unsigned char buf[80];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
    if (fd >= 0)
        close(fd);
    for (ssize_t i = 0; i < n && buf[i] != '\n'; i++)
        if (buf[i] == '\0')
            return true;
    return n < 0;
}

/* execv, and for a text file the kernel cannot run (no #! line: ENOEXEC) what a shell does:
 * /bin/sh runs it, given its path and arguments (POSIX execvp), so that a script without #!
 * runs under memtrace as it runs without. A binary file keeps its ENOEXEC, as in bash.
 * Returns only when nothing could start. */
static void mt_run_exec(const char *path, char *const *argv)
{
    execv(path, argv);
    if (errno != ENOEXEC)
        return;
    if (mt_run_looks_binary(path)) {
        errno = ENOEXEC; /* read and close may have set it */
        return;
    }
    size_t n = 0;
    while (argv[n])
        n++;
    char **sh = calloc(n + 2, sizeof *sh);
    if (!sh) {
        errno = ENOEXEC;
        return;
    }
    sh[0] = (char *)"/bin/sh";
    sh[1] = (char *)path;
    for (size_t i = 1; i < n; i++)
        sh[i + 1] = argv[i];
    execv("/bin/sh", sh);
    free(sh);
    errno = ENOEXEC; /* the file's own error, not the shell's */
}

/* Refuses programs that LD_PRELOAD cannot reach, so that the user gets a reason instead of an
 * empty log. Follows `#!` lines to the interpreter, as the kernel does. Returns 0, or an exit
 * status after printing why. Anything unexpected (unreadable file, unknown format) is left
 * for execve to report. */
static int mt_run_vet(const char *prog, const char *path)
{
    char cur[PATH_MAX];
    snprintf(cur, sizeof cur, "%s", path);
    for (int depth = 0; depth <= MT_RUN_MAX_SHEBANG_DEPTH; depth++) {
        int fd = open(cur, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return 0;
        struct stat st;
        unsigned char hdr[256];
        ssize_t len = fstat(fd, &st) == 0 ? pread(fd, hdr, sizeof hdr - 1, 0) : -1;
        if (len < 0) {
            close(fd);
            return 0;
        }
        if (len >= 2 && hdr[0] == '#' && hdr[1] == '!') {
            close(fd);
            hdr[len] = '\0';
            char *p = (char *)hdr + 2;
            p += strspn(p, " \t");
            size_t n = strcspn(p, " \t\n");
            if (n == 0 || n >= sizeof cur)
                return 0;
            memcpy(cur, p, n);
            cur[n] = '\0';
            continue;
        }
        mt_run_elf_t kind = mt_run_elf_kind(fd, hdr, (size_t)len);
        close(fd);
        /* "memtrace: ./x.sh: its #! interpreter /opt/py is ..." or "memtrace: ./x is ..." */
        char who[PATH_MAX + 64];
        if (depth > 0)
            snprintf(who, sizeof who, "%s: its #! interpreter %s", prog, cur);
        else
            snprintf(who, sizeof who, "%s", prog);
        if (kind == MT_RUN_ELF_STATIC && !mt_run_is_loader(cur)) {
            fprintf(stderr,
                    "memtrace: %s is statically linked: LD_PRELOAD cannot reach it, nothing "
                    "would be recorded\n",
                    who);
            return 1;
        }
        const mt_sanitizer_t *san = kind == MT_RUN_ELF_DYNAMIC ? mt_run_sanitizer(cur) : NULL;
        if (san) {
            fprintf(stderr,
                    "memtrace: %s is built with %s (%s), whose runtime serves malloc itself "
                    "and must come before LD_PRELOAD: nothing would be recorded (build it "
                    "without the sanitizer to profile it)\n",
                    who, san->name, san->flag);
            return 1;
        }
        if (kind != MT_RUN_ELF_UNKNOWN) {
            const char *why = mt_run_secure_reason(cur, &st);
            if (why != NULL) {
                fprintf(stderr,
                        "memtrace: %s is %s: the dynamic loader ignores LD_PRELOAD for it, "
                        "nothing would be recorded\n",
                        who, why);
                return 1;
            }
        }
        return 0;
    }
    return 0; /* too many #! levels: execve will say ELOOP */
}

/* ---- the log template ---- */

/* Which expansions (config.c's %p, %e and %x, %%) the directory part of a made-absolute template
 * holds; writes it with %% turned into % into dir. */
static void mt_run_template_dir(const char *path, char *dir, size_t len, int *has_pid, int *has_exe)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash == path ? 1 : (size_t)(slash - path), k = 0;
    *has_pid = *has_exe = 0;
    for (size_t i = 0; i < dlen && k + 1 < len; i++) {
        if (path[i] == '%' && i + 1 < dlen && strchr("pex%", path[i + 1])) {
            *has_pid |= path[i + 1] == 'p';
            *has_exe |= path[i + 1] == 'e' || path[i + 1] == 'x';
            if (path[++i] != '%')
                continue;
        }
        dir[k++] = path[i];
    }
    dir[k] = '\0';
}

/* Makes the template absolute, so that a target that changes directory still writes where the
 * user asked, and checks the directory early rather than ending with "wrote no log". */
static int mt_run_output_path(const char *tmpl, char *out, size_t outlen)
{
    if (tmpl == NULL)
        tmpl = MT_RUN_DEFAULT_TEMPLATE;
    if (tmpl[0] == '/') {
        if ((size_t)snprintf(out, outlen, "%s", tmpl) >= outlen)
            goto too_long;
    } else {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL) {
            fprintf(stderr, "memtrace: cannot get the current directory: %s\n", strerror(errno));
            return -1;
        }
        if ((size_t)snprintf(out, outlen, "%s/%s", strcmp(cwd, "/") ? cwd : "", tmpl) >= outlen)
            goto too_long;
    }
    char dir[PATH_MAX];
    int has_pid, has_exe;
    mt_run_template_dir(out, dir, sizeof dir, &has_pid, &has_exe);
    if (has_pid) {
        /* No directory can exist for a pid before the program starts: every process would
         * fail to create its log, and the run would end with "wrote no log". */
        fprintf(stderr,
                "memtrace: run: -o %s: %%p (the pid) may only be in the file name, not in a "
                "directory (for example -o DIR/NAME.%%p.mtr)\n",
                tmpl);
        return -1;
    }
    /* %e is the program's name: a directory made for it beforehand is fine, so it is checked
     * at the end (mt_run_explain_no_log), when no log appeared. */
    if (!has_exe && access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "memtrace: cannot write the log into %s: %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
too_long:
    fprintf(stderr, "memtrace: output path too long: %s\n", tmpl);
    return -1;
}

/* Logs whose recording stopped early because a write failed (a full disk: the file header's
 * MT_LOG_FLAG_STOPPED, set by the recorder): how many, the first in *first. */
static size_t mt_run_stopped_logs(const mt_run_log_t *logs, size_t n, const char **first)
{
    size_t stopped = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t h[MT_LOG_HEADER_SIZE];
        int fd = open(logs[i].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        bool got = pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h;
        close(fd);
        if (got && memcmp(h, "MEMTRACE", 8) == 0 &&
            (mt_get_u32le(h + MT_LOG_HEADER_FLAGS_AT) & MT_LOG_FLAG_STOPPED) && !stopped++)
            *first = logs[i].path;
    }
    return stopped;
}

/* No room left for a log in dir (a full disk, or no free inode). */
static bool mt_run_dir_full(const char *dir)
{
    struct statvfs v;
    return statvfs(dir[0] ? dir : ".", &v) == 0 && (v.f_bavail == 0 || (v.f_files && !v.f_favail));
}

/* The program inherits this process's RLIMIT_AS: under a limit, the recorder (about 30 MiB
 * of address space at start) may not have fitted. */
static bool mt_run_address_space_limited(void)
{
    struct rlimit rl;
    return getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY;
}

/* Why the root process wrote no log, as far as we can tell. */
static void mt_run_explain_no_log(const char *prog, const char *output)
{
    char dir[PATH_MAX];
    int has_pid, has_exe;
    mt_run_template_dir(output, dir, sizeof dir, &has_pid, &has_exe);
    if (has_exe) {
        const char *slash = strrchr(output, '/');
        fprintf(stderr, "memtrace: %s wrote no log: the directory of -o, ", prog);
        fwrite(output, 1, (size_t)(slash - output), stderr);
        fprintf(stderr, ", must exist (%%e there is the program's file name; it is not created)\n");
    } else if (mt_run_dir_full(dir)) {
        /* the recorder said so in its own line ("write to ... failed: No space left") */
        fprintf(stderr, "memtrace: %s wrote no log: no space left on the file system of ", prog);
        mt_text_put(stderr, dir);
        fputc('\n', stderr);
    } else if (mt_run_address_space_limited()) {
        /* the recorder said so in its own line ("out of memory at start") */
        fprintf(stderr,
                "memtrace: %s wrote no log: its address space limit (ulimit -v) left the "
                "recorder no room, or it clears LD_PRELOAD or is setuid\n",
                prog);
    } else {
        fprintf(stderr, "memtrace: %s wrote no log (it may clear LD_PRELOAD or be setuid)\n", prog);
    }
}

/* ---- starting and waiting ---- */

static volatile sig_atomic_t mt_run_child_pid;

static void mt_run_forward(int sig)
{
    pid_t pid = (pid_t)mt_run_child_pid;
    if (pid > 0)
        kill(pid, sig);
}

typedef struct mt_run_env {
    const char *preload;
    const char *output;
    const char *manifest;
    unsigned long sample_ms;
    bool follow_fork;
    bool leak_check;
    const char *live_dir; /* --live: where PROG's output goes (mt_run_live_out); else NULL */
} mt_run_env_t;

/* --live: the file that takes PROG's output while the view has the terminal, named as the
 * default log is (memtrace.NAME.PID.mtr), so the two sort together. */
static void mt_run_live_out(char *buf, size_t len, const char *dir, const char *prog, long pid)
{
    const char *slash = strrchr(prog, '/');
    snprintf(buf, len, "%s/memtrace.%s.%ld.out", strcmp(dir, "/") ? dir : "",
             slash ? slash + 1 : prog, pid);
}

/* --live, in the child: the terminal is the view's. Output and errors that would go to it go
 * to a file, and input that would come from it is /dev/null (the view reads the keys). */
static int mt_run_live_stdio(const mt_run_env_t *env, const char *prog)
{
    char out[PATH_MAX + 64];
    mt_run_live_out(out, sizeof out, env->live_dir, prog, (long)getpid());
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (isatty(STDERR_FILENO) && dup2(fd, STDERR_FILENO) < 0)
        return -1;
    if (dup2(fd, STDOUT_FILENO) < 0)
        return -1;
    close(fd);
    if (isatty(STDIN_FILENO)) {
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (in < 0 || dup2(in, STDIN_FILENO) < 0)
            return -1;
        close(in);
    }
    return 0;
}

/* In the child, between fork and exec. The parent is single-threaded, so setenv's malloc
 * is safe here. Returns 0 or -1 with errno set. */
static int mt_run_child_env(const mt_run_env_t *env)
{
    char buf[64];
    const char *old = getenv("LD_PRELOAD");
    if (old != NULL && old[0] != '\0') {
        /* Ours first, so that our malloc is the one the program binds to. */
        size_t n = strlen(env->preload) + 1 + strlen(old) + 1;
        char *both = malloc(n);
        if (both == NULL)
            return -1;
        snprintf(both, n, "%s:%s", env->preload, old);
        if (setenv("LD_PRELOAD", both, 1) != 0)
            return -1;
        free(both);
    } else if (setenv("LD_PRELOAD", env->preload, 1) != 0) {
        return -1;
    }
    snprintf(buf, sizeof buf, "%ld", (long)getpid());
    if (setenv("MEMTRACE_ROOT_PID", buf, 1) != 0)
        return -1;
    /* Every log of this run carries it (ORIGIN): a report over several logs tells the runs
     * apart by it. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(buf, sizeof buf, "%ld.%lld", (long)getpid(),
             (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
    if (setenv("MEMTRACE_RUN_ID", buf, 1) != 0)
        return -1;
    snprintf(buf, sizeof buf, "%lu", env->sample_ms);
    if (setenv("MEMTRACE_SAMPLE_MS", buf, 1) != 0 ||
        setenv("MEMTRACE_OUTPUT", env->output, 1) != 0 ||
        setenv("MEMTRACE_MANIFEST", env->manifest, 1) != 0 ||
        setenv("MEMTRACE_FOLLOW_FORK", env->follow_fork ? "1" : "0", 1) != 0 ||
        (env->leak_check && setenv("MEMTRACE_LEAK_CHECK", "1", 1) != 0))
        return -1;
    return 0;
}

/* Starts the program and waits for it. Returns its wait status in *status and 0, or the exit
 * status memtrace should return when the program could not be started (after printing why). */
static int mt_run_spawn(const char *path, char **argv, const mt_run_env_t *env, pid_t *pid_out,
                        int *status, mt_run_follower_t **follower, mt_run_live_t **live)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        fprintf(stderr, "memtrace: pipe: %s\n", strerror(errno));
        return 1;
    }
    /* Like system(3): while the program runs, a ^C or ^\ from the terminal is for it (it gets
     * the signal from the terminal itself), and memtrace must survive it to write the summary.
     * SIGTERM and SIGHUP sent to memtrace alone are passed on to the program. Those are
     * blocked across fork so that the handler never sees a pid of 0 or a stale one. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = mt_run_forward};
    struct sigaction old_int, old_quit, old_term, old_hup, old_chld;
    /* An inherited SIGCHLD=SIG_IGN would make the kernel reap the child and waitpid fail; the
     * program still inherits whatever memtrace was given. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigemptyset(&dfl.sa_mask);
    sigemptyset(&ign.sa_mask);
    sigemptyset(&fwd.sa_mask);
    fwd.sa_flags = SA_RESTART;
    sigset_t block, oldmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &oldmask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    sigaction(SIGTERM, &fwd, &old_term);
    sigaction(SIGHUP, &fwd, &old_hup);
    sigaction(SIGCHLD, &dfl, &old_chld);

    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        sigaction(SIGCHLD, &old_chld, NULL);
        sigprocmask(SIG_SETMASK, &oldmask, NULL);
        close(pfd[0]);
        int err = 0;
        if (mt_run_child_env(env) == 0 && (!env->live_dir || mt_run_live_stdio(env, argv[0]) == 0))
            mt_run_exec(path, argv);
        err = errno;
        /* Tell the parent why, through the close-on-exec pipe, and let it print the message:
         * one place formats errors. */
        while (write(pfd[1], &err, sizeof err) < 0 && errno == EINTR)
            ;
        _exit(err == ENOENT ? 127 : 126);
    }
    int ret = 0;
    if (pid < 0) {
        fprintf(stderr, "memtrace: fork: %s\n", strerror(errno));
        ret = 1;
    } else {
        mt_run_child_pid = pid;
        *pid_out = pid;
        if (follower)
            *follower = mt_run_follow_start(env->manifest, pid);
    }
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    close(pfd[1]);
    if (pid > 0) {
        int err = 0;
        ssize_t n;
        while ((n = read(pfd[0], &err, sizeof err)) < 0 && errno == EINTR)
            ;
        if (env->live_dir && n != (ssize_t)sizeof err) {
            char out[PATH_MAX + 64];
            mt_run_live_out(out, sizeof out, env->live_dir, argv[0], (long)pid);
            ret = mt_run_live_wait(env->manifest, pid, argv, out, status, live);
        } else {
            while (waitpid(pid, status, 0) < 0) {
                if (errno != EINTR) {
                    fprintf(stderr, "memtrace: waitpid: %s\n", strerror(errno));
                    ret = 1;
                    break;
                }
            }
        }
        if (n == (ssize_t)sizeof err) {
            fprintf(stderr, "memtrace: %s: %s\n", argv[0], strerror(err));
            ret = err == ENOENT ? 127 : 126;
        }
    }
    close(pfd[0]);
    mt_run_child_pid = 0;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGCHLD, &old_chld, NULL);
    return ret;
}

/* ---- after the run: manifest and summary ---- */

/* A path the user can paste into a shell. */
static void mt_run_print_quoted(FILE *out, const char *s)
{
    if (s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+,%=:@")] ==
        '\0') {
        fputs(s, out);
        return;
    }
    if (!mt_text_is_clean(s)) {
        /* A control character (%e is the program's file name) cannot be quoted with '...'
         * and must not reach the terminal: bash's $'...' with every byte outside printable
         * ASCII as \xNN. */
        fputs("$'", out);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
            if (*p == '\'' || *p == '\\')
                fprintf(out, "\\%c", *p);
            else if (*p < 0x20 || *p >= 0x7f)
                fprintf(out, "\\x%02x", *p);
            else
                fputc(*p, out);
        }
        fputc('\'', out);
        return;
    }
    fputc('\'', out);
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    }
    fputc('\'', out);
}

/* exited: the program ended with exit status (not a signal), as `memtrace run` saw it. */
static void mt_run_print_summary(const mt_summary_t *s, const char *path, bool exited)
{
    char a[32], b[32], c[32], d[32], e[32];
    if (s->aggregated_missing) {
        /* no figures rather than zeros (README, "Aggregated recording") */
        fputs("memtrace: the aggregated log has no figures: they are written when the program "
              "ends, and it was killed before\n",
              stderr);
        goto written;
    }
    fprintf(stderr, "memtrace: %s allocations, %s frees, peak heap %s at %.2f s, ",
            mt_fmt_count(a, sizeof a, s->allocations), mt_fmt_count(b, sizeof b, s->frees),
            mt_fmt_bytes(c, sizeof c, s->peak_heap_bytes), s->peak_time_s);
    /* Blocks live when a killed program's log stops were not necessarily leaked: say which. */
    const char *when = s->leaked_at_script_end            ? "at the end of the script"
                       : s->exit_reason == MT_EXIT_NORMAL ? "at exit"
                                                          : "when the log ends";
    if (s->leaked_blocks == 0)
        fprintf(stderr, "no heap blocks left %s\n", when);
    else
        fprintf(stderr, "%s in %s block%s %s %s\n", mt_fmt_bytes(d, sizeof d, s->leaked_bytes),
                mt_fmt_count(e, sizeof e, s->leaked_blocks), s->leaked_blocks == 1 ? "" : "s",
                s->leaked_at_script_end            ? "held"
                : s->exit_reason == MT_EXIT_NORMAL ? "not freed"
                                                   : "still live",
                when);
    if (s->truncated && exited && s->exit_reason < 0)
        /* No signal, and yet no EXIT: recording stopped (a write error, said already), or the
         * process ended without passing through libc's exit, where memtrace writes the end. */
        fprintf(stderr,
                "memtrace: the log is truncated: the report covers the first %.2f s (the program "
                "exited, but its exit is not in the log: recording stopped, or it ended through "
                "a raw exit_group, as Go programs do, which memtrace cannot see)\n",
                s->duration_s);
    else if (s->truncated)
        fprintf(stderr, "memtrace: the log is truncated: the report covers the first %.2f s\n",
                s->duration_s);
written:
    fputs("memtrace: log written to ", stderr);
    mt_text_put(stderr, path);
    fputs(" (report: memtrace report ", stderr);
    mt_run_print_quoted(stderr, path);
    fprintf(stderr, ")\n");
}

/* The one command that shows every process of the run: the logs' directory when they share
 * one (a directory may hold an older run's logs too: report shows the newest run), else the
 * list. */
static void mt_run_print_tree_hint(const mt_run_log_t *logs, size_t n)
{
    const char *slash = strrchr(logs[0].path, '/');
    size_t dlen = slash ? (size_t)(slash - logs[0].path) : 0;
    bool one_dir = slash != NULL;
    for (size_t i = 1; i < n && one_dir; i++)
        one_dir = strncmp(logs[i].path, logs[0].path, dlen + 1) == 0 &&
                  strchr(logs[i].path + dlen + 1, '/') == NULL;
    fputs("memtrace: every process of the run, highest peak first: memtrace report ", stderr);
    if (one_dir) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", (int)(dlen ? dlen : 1), logs[0].path);
        char cwd[PATH_MAX];
        /* the current directory is the usual place: "." reads better than its full path */
        bool here = getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, dir) == 0;
        mt_run_print_quoted(stderr, here ? "." : dir);
    } else {
        for (size_t i = 0; i < n; i++) {
            fputs(i ? " " : "", stderr);
            mt_run_print_quoted(stderr, logs[i].path);
        }
    }
    fputc('\n', stderr);
}

/* Summarizes the root process. Its log is the first one the child's pid registered; when that
 * image exec'd another program (`memtrace run env X=1 ./app`), the same pid registered a new
 * log and the last image is the one the user meant, so the summary follows the exec chain.
 * Returns false when the root wrote no log. */
static bool mt_run_report_logs(const mt_run_log_t *logs, size_t n, pid_t root, bool quiet,
                               bool exited, const mt_run_follower_t *follower,
                               const mt_run_live_t *live, size_t *root_log)
{
    bool *mine = calloc(n ? n : 1, sizeof *mine);
    if (mine == NULL)
        return n > 0;
    size_t last = n;
    mt_summary_t sum;
    bool have_sum = false;
    char err[512] = "";
    for (size_t i = 0; i < n; i++) {
        if (logs[i].pid != (long)root)
            continue;
        mine[i] = true;
        last = i;
        if (quiet)
            continue;
        err[0] = '\0';
        have_sum = mt_run_follow_result(follower, logs[i].path, &sum) ||
                   mt_run_live_result(live, logs[i].path, &sum) ||
                   mt_summary_load(logs[i].path, &sum, err, sizeof err) == 0;
        if (!have_sum || sum.exit_reason != MT_EXIT_EXEC)
            break;
    }
    bool found = last < n;
    *root_log = last;
    if (found && !quiet) {
        if (have_sum)
            mt_run_print_summary(&sum, logs[last].path, exited);
        else
            /* err already names the file ("PATH: not a memtrace log"). */
            mt_render_text_line(stderr, "memtrace: warning: cannot summarize the log: ", "",
                                err[0] ? err : logs[last].path, "");
        size_t others = n - 1, shown = 0;
        if (others > 0) {
            fprintf(stderr, "memtrace: %zu more log%s from forked or exec'd processes: ", others,
                    others == 1 ? "" : "s");
            for (size_t i = 0; i < n && shown < MT_RUN_OTHER_LOGS_SHOWN; i++) {
                if (mine[i] && i == last)
                    continue;
                fputs(shown ? ", " : "", stderr);
                mt_text_put(stderr, logs[i].path); /* %e: another program's file name */
                shown++;
            }
            fprintf(stderr, "%s\n", others > shown ? ", ..." : "");
            mt_run_print_tree_hint(logs, n);
        }
    }
    free(mine);
    return found;
}

/* The leak report of the root's log on stderr; returns the status memtrace exits with. Only a
 * leak of a failing kind changes the program's status, as valgrind's --error-exitcode does.
 * With -q there is no report: nothing for a clean program, one line for leaks of a failing
 * kind (what fails, the exit status it gives, and the command that shows the report). */
static int mt_run_leak_check(mt_run_opts_t *o, const char *log, const char *prog, int exit_status)
{
    int failing, classified, truncated;
    o->leak.format = MT_LEAK_TEXT;
    o->leak.colour = 0;
    o->leak.require_scan = 1;
    FILE *out = stderr, *sink = NULL;
    if (o->quiet && !(out = sink = fopen("/dev/null", "w")))
        out = stderr;
    char why[512];
    int rc = mt_leak_cli_report("run", log, &o->leak, out, stderr, &failing, &classified,
                                &truncated, why, sizeof why);
    if (sink)
        fclose(sink);
    if (rc != 0)
        return exit_status;
    /* Without a scan (killed by a signal, _exit before the recorder's exit hook) the report
     * would list every live block as "not freed at exit": say why there is no verdict. */
    if (!classified) {
        fprintf(stderr,
                "memtrace: leak check: %s ended without a leak scan (killed by a signal, or the "
                "recorder could not run it); no leak verdict\n",
                prog);
        return exit_status;
    }
    if (!failing)
        return exit_status;
    int status = o->leak.error_exitcode > 0 ? o->leak.error_exitcode : exit_status;
    if (o->leak.error_exitcode > 0)
        fprintf(stderr, "memtrace: leak check: exit status %d (--error-exitcode): ", status);
    else if (o->quiet)
        fputs("memtrace: leak check: ", stderr);
    else
        return exit_status; /* the report says it all */
    mt_text_put(stderr, why[0] ? why : "leaks of a failing kind (--fail-on)");
    fprintf(stderr, "; %s itself exited %d", prog, exit_status);
    if (o->quiet) {
        fputs("; see memtrace leaks ", stderr);
        mt_run_print_quoted(stderr, log);
    }
    fputc('\n', stderr);
    return status;
}

/* --fail-peak-above on the root's log; returns the status memtrace exits with. */
static int mt_run_peak_check(const mt_run_opts_t *o, const char *log, const char *prog,
                             int exit_status)
{
    mt_analysis_t *a;
    mt_symbolizer_t *sym;
    if (mt_cli_load(log, &a, &sym))
        return exit_status;
    a->show_import_machinery = o->leak.show_import;
    int status = o->leak.error_exitcode > 0 ? o->leak.error_exitcode : 1;
    char prefix[96], suffix[PATH_MAX + 64];
    snprintf(prefix, sizeof prefix, "memtrace: peak check: exit status %d%s: ", status,
             o->leak.error_exitcode > 0 ? " (--error-exitcode)" : "");
    snprintf(suffix, sizeof suffix, "; %s itself exited %d", prog, exit_status);
    int above = mt_cli_peak_check(prefix, suffix, a, sym, o->peak_limit, o->peak_limit_text);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
    return above > 0 ? status : exit_status;
}

/*
 * How `memtrace run` ends: with exit_status, or, when the program was killed by a signal and
 * nothing chose another status (a leak or peak check's --error-exitcode), killed by the same
 * signal, as a parent sees it plain: a shell stops a script on a child killed by SIGINT but
 * not on one that exited 130, and Python's subprocess says -2, not 130. No core dump of
 * memtrace's own (the program dumped its core, if the limit allowed). 128 + the signal when
 * the signal does not end this process (it is blocked or ignored here, as SIGTSTP may be).
 */
static int mt_run_end_as(int status, int exit_status)
{
    if (!WIFSIGNALED(status) || exit_status != 128 + WTERMSIG(status))
        return exit_status;
    int sig = WTERMSIG(status);
    fflush(stdout);
    fflush(stderr);
    /* Not dumpable: no core even where core_pattern pipes to systemd-coredump, which
     * ignores RLIMIT_CORE (memtrace must not look like it crashed). */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    struct rlimit no_core = {0, 0};
    (void)setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    sigprocmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    return exit_status;
}

int mt_cmd_run(int argc, char **argv)
{
    mt_run_opts_t o;
    int rc = mt_run_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    char **prog_argv = argv + o.prog_index;
    const char *prog = prog_argv[0];
    if (o.live && (rc = mt_run_live_check("run")) != 0)
        return rc;

    char path[PATH_MAX];
    rc = mt_run_resolve(prog, path, sizeof path);
    if (rc != 0)
        return rc;
    rc = mt_run_vet(prog, path);
    if (rc != 0)
        return rc;

    char preload[PATH_MAX];
    if (mt_run_find_preload(preload) != 0)
        return 1;
    if (strpbrk(preload, " :") != NULL) {
        /* ld.so splits LD_PRELOAD at spaces and colons, with no way to quote them. */
        fprintf(stderr,
                "memtrace: the recorder's path %s contains a space or ':', which "
                "LD_PRELOAD cannot express; install memtrace elsewhere\n",
                preload);
        return 1;
    }
    char output[PATH_MAX];
    if (mt_run_output_path(o.output, output, sizeof output) != 0)
        return 1;

    const char *tmpdir = getenv("TMPDIR");
    if (tmpdir == NULL || tmpdir[0] == '\0')
        tmpdir = "/tmp";
    char manifest[PATH_MAX];
    snprintf(manifest, sizeof manifest, "%s/memtrace-run.XXXXXX", tmpdir);
    int mfd = mkostemp(manifest, O_CLOEXEC);
    if (mfd < 0) {
        fprintf(stderr, "memtrace: cannot create a file in %s: %s\n", tmpdir, strerror(errno));
        return 1;
    }
    close(mfd);

    char cwd[PATH_MAX];
    if (o.live && !getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "memtrace: cannot get the current directory: %s\n", strerror(errno));
        unlink(manifest);
        return 1;
    }
    mt_run_env_t env = {preload,       output,       manifest,           o.sample_ms,
                        o.follow_fork, o.leak_check, o.live ? cwd : NULL};
    pid_t pid = 0;
    int status = 0;
    mt_run_follower_t *follower = NULL;
    mt_run_live_t *live = NULL;
    /* --live reads the logs itself, into the summary too */
    rc = mt_run_spawn(path, prog_argv, &env, &pid, &status, o.quiet || o.live ? NULL : &follower,
                      &live);
    mt_run_follow_finish(follower);
    if (rc != 0) {
        mt_run_follow_free(follower);
        mt_run_live_free(live);
        unlink(manifest);
        return rc;
    }
    int exit_status;
    if (WIFSIGNALED(status)) {
        exit_status = 128 + WTERMSIG(status);
        if (!o.quiet)
            fprintf(stderr, "memtrace: %s was killed by signal %d (%s)%s\n", prog, WTERMSIG(status),
                    strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
    } else {
        exit_status = WEXITSTATUS(status);
    }

    size_t nlogs = 0;
    mt_run_log_t *logs = mt_run_manifest_read(manifest, &nlogs);
    unlink(manifest);
    size_t root_log = nlogs;
    bool found =
        mt_run_report_logs(logs, nlogs, pid, o.quiet, WIFEXITED(status), follower, live, &root_log);
    mt_run_follow_free(follower);
    mt_run_live_free(live);
    const char *stopped_log = NULL;
    size_t stopped = mt_run_stopped_logs(logs, nlogs, &stopped_log);
    if (stopped) {
        /* the recorder said why (a write error); the run must not look like a good one */
        fprintf(stderr,
                "memtrace: recording stopped early in %zu process%s (a write to the log "
                "failed), so the run's figures are incomplete: ",
                stopped, stopped == 1 ? "" : "es");
        mt_text_put(stderr, stopped_log);
        fprintf(stderr, "; %s itself exited %d\n", prog, exit_status);
        if (exit_status == 0)
            exit_status = 1;
    }
    if (found && o.leak_check)
        exit_status = mt_run_leak_check(&o, logs[root_log].path, prog, exit_status);
    if (found && o.peak_limit_text)
        exit_status = mt_run_peak_check(&o, logs[root_log].path, prog, exit_status);
    mt_leak_cli_destroy(&o.leak);
    mt_run_manifest_free(logs, nlogs);
    if (!found) {
        mt_run_explain_no_log(prog, output);
        return mt_run_end_as(status, exit_status != 0 ? exit_status : 1);
    }
    return mt_run_end_as(status, exit_status);
}
