// SPDX-License-Identifier: MIT
// Entry point of the `memtrace` command: global options (--help, --version) and dispatch to one
// subcommand per cli/cmd_*.c. It does no work of its own and must never print to stdout except
// for --help and --version, so that subcommands own stdout (reports, JSON) completely.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "commands.h"
#include "mt_config.h"

typedef struct mt_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} mt_command_t;

/* Only the commands that exist are listed: usage that advertises a command which then fails
 * with "unknown command" is worse than a short list. Add a row when a cmd_*.c lands. */
static const mt_command_t mt_commands[] = {
    {"run", mt_cmd_run, "record PROG (a binary, or `python3 script.py`) into a log"},
    {"attach", mt_cmd_attach, "record a running process (PID) until Ctrl-C or --duration"},
    {"report", mt_cmd_report, "summary: totals, peak, leaks, top allocation sites"},
    {"leaks", mt_cmd_leaks, "leak report: definite/indirect/possible/reachable, CI formats"},
    {"peak", mt_cmd_peak, "who holds the memory at the heap's high-water mark"},
    {"lines", mt_cmd_lines, "a Python script line by line: allocated, at the peak, at its end"},
    {"timeline", mt_cmd_timeline, "heap, RSS and allocator footprint over time (-o out.svg)"},
    {"fragmentation", mt_cmd_fragmentation, "allocator footprint vs live bytes, holes, pinning"},
    {"diff", mt_cmd_diff, "what grew between two runs, by site (--fail-above for CI)"},
    {"export", mt_cmd_export, "write folded stacks, pprof or massif files for other tools"},
    {"flamegraph", mt_cmd_flamegraph, "interactive SVG flame graph of the stacks (-o out.svg)"},
    {"html", mt_cmd_html, "one self-contained HTML report page (-o report.html)"},
    {"logstats", mt_cmd_logstats, "where the bytes of a log go, by record type and stream"},
};

#define MT_NCOMMANDS (sizeof mt_commands / sizeof mt_commands[0])

/* "memtrace: unknown command 'reprot'; did you mean 'report'? (try 'memtrace --help')" */
static int mt_main_unknown_command(const char *cmd)
{
    const char *names[MT_NCOMMANDS + 1];
    for (size_t i = 0; i < MT_NCOMMANDS; i++)
        names[i] = mt_commands[i].name;
    names[MT_NCOMMANDS] = "help";
    const char *near = mt_cli_suggest(cmd, names, MT_NCOMMANDS + 1);
    if (near)
        fprintf(stderr,
                "memtrace: unknown command '%s'; did you mean '%s'? (try 'memtrace --help')\n", cmd,
                near);
    else
        fprintf(stderr, "memtrace: unknown command '%s' (try 'memtrace --help')\n", cmd);
    return 2;
}

static void mt_main_usage(FILE *out)
{
    fprintf(out, "usage: memtrace <command> [options] [args]\n"
                 "       memtrace run [options] [--] PROG [ARGS...]\n"
                 "       memtrace attach [options] PID\n"
                 "       memtrace report [options] FILE\n"
                 "       memtrace leaks [options] FILE\n"
                 "       memtrace peak [options] FILE\n"
                 "       memtrace lines [--file PY] [--function NAME] [options] FILE\n"
                 "       memtrace timeline [-o out.svg] FILE\n"
                 "       memtrace fragmentation [options] FILE\n"
                 "       memtrace diff [options] OLD NEW\n"
                 "       memtrace export --to folded|pprof|massif [-o OUT] FILE\n"
                 "       memtrace flamegraph [options] -o out.svg FILE\n"
                 "       memtrace html [options] -o report.html FILE\n"
                 "       memtrace logstats [--format text|json] FILE\n"
                 "\n"
                 "A memory profiler and leak detector for native programs and Python.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < MT_NCOMMANDS; i++)
        fprintf(out, "  %-14s %s\n", mt_commands[i].name, mt_commands[i].summary);
    fprintf(out, "\n"
                 "options:\n"
                 "  -h, --help     show this help\n"
                 "  -V, --version  show the version\n"
                 "  --no-index     (with any command that reads a log) neither read nor write\n"
                 "                 the log's index, .LOG.idx (also MEMTRACE_INDEX=0)\n"
                 "\n"
                 "'memtrace <command> --help' describes a command; see also memtrace(1).\n");
}

/* --no-index, which every command that reads a log takes anywhere before "--": no index is
 * read or written (docs/index.md), as with MEMTRACE_INDEX=0. Taken out of argv here, so that
 * no command's own parser needs to know it. Returns the new argc. */
static int mt_main_no_index(int argc, char **argv)
{
    int k = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc)
                argv[k++] = argv[i++];
            break;
        }
        if (strcmp(argv[i], "--no-index") == 0) {
            setenv("MEMTRACE_INDEX", "0", 1);
            continue;
        }
        argv[k++] = argv[i];
    }
    argv[k] = NULL;
    return k;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        mt_main_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        /* `memtrace help run` is the same as `memtrace run --help`. */
        if (strcmp(cmd, "help") == 0 && argc > 2) {
            for (size_t i = 0; i < MT_NCOMMANDS; i++) {
                if (strcmp(argv[2], mt_commands[i].name) == 0) {
                    char help[] = "--help";
                    char *sub[] = {argv[2], help, NULL};
                    return mt_commands[i].fn(2, sub);
                }
            }
            return mt_main_unknown_command(argv[2]);
        }
        mt_main_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("memtrace %s\n", MT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < MT_NCOMMANDS; i++) {
        if (strcmp(cmd, mt_commands[i].name) == 0) {
            if (strcmp(cmd, "run") != 0)
                argc = mt_main_no_index(argc, argv);
            return mt_commands[i].fn(argc - 1, argv + 1);
        }
    }
    if (cmd[0] == '-') {
        fprintf(stderr, "memtrace: unknown option '%s' (try 'memtrace --help')\n", cmd);
        return 2;
    }
    return mt_main_unknown_command(cmd);
}
