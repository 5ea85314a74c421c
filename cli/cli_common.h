// SPDX-License-Identifier: MIT
// Helpers shared by the report subcommands (report, peak, timeline, fragmentation): options,
// the colour decision (tty, NO_COLOR, --no-color) and loading a log with a symbolizer, each
// printing its own one-line "memtrace: ..." error so the commands stay short.
#ifndef MT_CLI_COMMON_H
#define MT_CLI_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>

#include "analysis.h"
#include "cost.h"
#include "names.h"
#include "output_file.h"
#include "symbolizer.h"

/*
 * One vocabulary for every command (issue 16): these helpers print every usage error, so that
 * each is one line in one style, "memtrace: CMD: WHAT (try 'memtrace CMD --help')", and the
 * options that several commands take mean the same thing and have the same defaults in all.
 */

/* Prints "memtrace: CMD: MESSAGE (try 'memtrace CMD --help')" and returns 2, the usage-error
 * status. */
__attribute__((format(printf, 2, 3))) int mt_cli_usage(const char *cmd, const char *fmt, ...);

/* The candidate nearest to word by edit distance (Damerau-Levenshtein: a swap of two letters
 * is one edit), when it is near enough to be the one meant; else NULL. */
const char *mt_cli_suggest(const char *word, const char *const *cands, size_t n);

/* --frames N: frames shown per stack in text, 0 for all; the same default everywhere. */
#define MT_CLI_DEFAULT_FRAMES 12

/* Parses a --cost value among the costs in allowed (1u << enum mt_cost); returns 0, or
 * the usage error's status 2 after saying which ones the command takes. */
int mt_cli_cost(const char *cmd, const char *s, unsigned allowed, enum mt_cost *out);

/* --top N: a number of rows, 0 for no limit (stored as SIZE_MAX); returns 0 or 2 after the
 * usage error. */
int mt_cli_top(const char *cmd, const char *s, size_t *out);

/* The value of option opt (e.g. "--format") among names[0..n): its index, or -1 after the
 * usage error, which names the one meant when s is near it ("unknown --format 'jsno'; did
 * you mean 'json'? (text, json)"). */
int mt_cli_choice(const char *cmd, const char *opt, const char *s, const char *const *names,
                  size_t n);
/* The --format of commands that write text or JSON: 1 for json, 0 for text, -1 after the
 * usage error. */
int mt_cli_format_json(const char *cmd, const char *s);

/* Parses a decimal 0..max; prints "memtrace: CMD: OPT needs a number ..." and returns -1. */
int mt_cli_number(const char *cmd, const char *opt, const char *s, size_t max, size_t *out);
/* Parses a size in bytes as --fail-above does ("4096", "64K", "10MiB", "1.5G"; K = KB = KiB =
 * 1024, no percentage); prints "memtrace: CMD: OPT needs a size ..." and returns -1. */
int mt_cli_size(const char *cmd, const char *opt, const char *s, uint64_t *out);
/* 1 when stdout is a terminal, NO_COLOR is unset or empty and no_color is 0. */
int mt_cli_colour(int no_color);
/* Loads path and makes a symbolizer (sym may be NULL when not needed), over the window of
 * --from/--to when given. Returns 0, or the command's exit status after printing the error: 1
 * when the log could not be read, 2 for a window the log does not have (a time past its end,
 * --from after --to). */
int mt_cli_load(const char *path, mt_analysis_t **a, mt_symbolizer_t **sym);

/* Prints "memtrace: PATH: Cannot allocate memory" and returns 1, the exit status. */
int mt_cli_oom(const char *path);
/* For a command that needs the log's events (what: "heap over time"): 1, after one line on
 * stderr, when a is an aggregated log (memtrace run --aggregate), else 0. */
int mt_cli_need_events(const char *cmd, const mt_analysis_t *a, const char *what);

/* mt_cli_load, then the choices every report makes of the analysis: show_import keeps Python's
 * import machinery in stacks (analysis.h, show_import_machinery); sites_only drops the live
 * blocks, for the reports that read from sites and totals only. Returns 0, 1 or 2 as
 * mt_cli_load. */
int mt_cli_load_as(const char *path, int show_import, int sites_only, mt_analysis_t **a,
                   mt_symbolizer_t **sym);

/* One report of one log: builds and writes it to out, returns the exit status. */
typedef int (*mt_cli_report_fn)(const char *path, FILE *out, mt_analysis_t *a, mt_symbolizer_t *sym,
                                void *ctx);
/* Loads path (mt_cli_load_as), runs fn on it and frees what it loaded; returns fn's exit
 * status, or mt_cli_load's when the log could not be loaded. */
int mt_cli_report_log(const char *path, FILE *out, int show_import, int sites_only,
                      mt_cli_report_fn fn, void *ctx);

/* Prints the one-line error for what getopt_long returned as ':' (missing value) or '?'
 * (unknown or ambiguous option), with the option of longopts meant when it is near, and
 * returns 2, the usage-error status. */
int mt_cli_bad_option(const char *cmd, int c, char **argv, const struct option *longopts);
/* Takes the single log file left after the options; prints the error and returns 2 when
 * there is none or more than one, else 0. */
int mt_cli_one_path(const char *cmd, int argc, char **argv, const char **path);

/* --thread NAME|ID, taken by every report command (repeatable: the threads of any value). The
 * getopt_long value of the option; mt_cli_load applies what mt_cli_add_thread kept. */
#define MT_CLI_OPT_THREAD 0x7468
#define MT_CLI_THREAD_OPTION                                                                       \
    {                                                                                              \
        "thread", required_argument, NULL, MT_CLI_OPT_THREAD                                       \
    }

/* --full-names: C++ names with their template arguments (mt_names_set_full), taken by every
 * command that shows function names. */
#define MT_CLI_OPT_FULL_NAMES 0x666e
#define MT_CLI_FULL_NAMES_OPTION                                                                   \
    {                                                                                              \
        "full-names", no_argument, NULL, MT_CLI_OPT_FULL_NAMES                                     \
    }
/* --show-import-machinery: keep Python's import machinery in stacks (analysis.h,
 * show_import_machinery), taken by every command that shows Python stacks. Its table entry is
 * in MT_CLI_SHARED_OPTIONS. */
#define MT_CLI_OPT_SHOW_IMPORT 0x7369
/* The table entries of the options mt_cli_shared_option takes, with --help among them, in the
 * order every command lists them (getopt_long tables are searched in order, and the names of an
 * "ambiguous" message follow it). The tests that compare the tables with the documentation read
 * the entries here. */
/* clang-format off */
#define MT_CLI_SHARED_OPTIONS                                                                      \
    {"show-import-machinery", no_argument, NULL, MT_CLI_OPT_SHOW_IMPORT},                          \
    {"help", no_argument, NULL, 'h'},                                                              \
    MT_CLI_THREAD_OPTION,                                                                          \
    MT_CLI_FULL_NAMES_OPTION
/* clang-format on */
/* --from T and --to T: the time window of a report (issue 18), taken by every report command
 * over one log. T is seconds since the start of recording (decimal), start, end, or peak (the
 * time of the heap's peak, which costs a first pass over the log). Their table entries are
 * MT_CLI_WINDOW_OPTIONS (export writes out --from alone: its --to names a format). */
#define MT_CLI_OPT_FROM 0x6672
#define MT_CLI_OPT_TO 0x746f
/* clang-format off */
#define MT_CLI_WINDOW_OPTIONS                                                                      \
    {"from", required_argument, NULL, MT_CLI_OPT_FROM},                                            \
    {"to", required_argument, NULL, MT_CLI_OPT_TO}
/* clang-format on */
/* Takes c when it is MT_CLI_OPT_FROM or MT_CLI_OPT_TO: 1 when it was and value is a time, -1
 * after the usage error for a bad value, 0 for any other option. */
int mt_cli_window_option(const char *cmd, int c, const char *value);
/* True when s is a value of --to as a time (export's --to also names its output format, so
 * there a mark must be written mark:NAME). */
int mt_cli_window_is_time(const char *s);
/* Takes what getopt_long returned as c when it is one of the options every command takes the
 * same way (MT_CLI_THREAD_OPTION, MT_CLI_FULL_NAMES_OPTION, MT_CLI_OPT_SHOW_IMPORT, which
 * sets *show_import): 1 when it was, else 0 (the command's own, or a bad option). */
int mt_cli_shared_option(int c, const char *value, int *show_import);
/* The end of a command's getopt_long switch, for c none of its own options: takes the shared
 * ones (mt_cli_shared_option) and returns -1 to go on; prints usage on stdout for -h and
 * --help and returns 0; else prints the usage error (mt_cli_bad_option) and returns 2. */
int mt_cli_other_option(const char *cmd, int c, char **argv, const struct option *longopts,
                        void (*usage)(FILE *), int *show_import);
void mt_cli_add_thread(const char *value);
/* For diff: a value may match a thread of one of the two logs only (see mt_cli_check_threads). */
void mt_cli_threads_allow_missing(void);
/* 0 when every --thread value matches a thread of at least one of the n analyses; else prints
 * the error for the first that does not and returns 1. */
int mt_cli_check_threads(const char *cmd, mt_analysis_t *const *a, size_t n);
/* For the forms over several logs or a directory (multi_log.h): 0 without --thread; else
 * prints "memtrace: CMD: --thread takes one log ..." and returns 2, the usage-error status.
 * A thread belongs to one process, and the view over a run is by process: a filter there
 * would change the figures of one process of the table only, and a name such as MainThread
 * would match a thread in every process. */
int mt_cli_threads_one_log(const char *cmd);
/* The same for --from and --to (mt_cli_threads_one_log checks both): 0 without them, else
 * the usage error's 2. */
int mt_cli_window_one_log(const char *cmd);

/* Help lines that several commands' --help share word for word, so that they cannot drift
 * apart. The descriptions start at column 22; EXTRA is the spaces past it of a command whose
 * descriptions start further right ("" for column 22). */
// clang-format off
/* --from and --to in the help of every command that takes them. */
#define MT_CLI_HELP_WINDOW                                                                         \
    "  --from T, --to T    only the window from T to T: what was allocated in it and what\n"      \
    "                      of that was still held at its end, with the peak inside it. T is\n"  \
    "                      seconds since the start (1.5), start, end, peak (the time of\n"    \
    "                      the heap's peak) or a mark (memtrace_mark, or mark:NAME); by\n"      \
    "                      default the whole run\n"
#define MT_CLI_HELP_IMPORT_NAMES(EXTRA)                                                            \
    "  --show-import-machinery\n"                                                                  \
    "                      " EXTRA "keep Python's import machinery (<frozen importlib...>) in\n"   \
    "                      " EXTRA "stacks; by default what an import allocates is charged to\n"   \
    "                      " EXTRA "the module's lines and the line that imported it\n"            \
    "  --full-names        " EXTRA "C++ names in full (by default template arguments\n"            \
    "                      " EXTRA "are shortened: std::vector<>::push_back)\n"
/* --thread in the help of the reports over one log or several (report, peak). */
#define MT_CLI_SITE_HELP_THREAD                                                                    \
    "  --thread NAME|ID    only the blocks that thread allocated, whoever freed them: a\n"         \
    "                      name (every thread of that name) or a tid; repeat for more.\n"         \
    "                      The peak stays the heap's, of which they hold the part shown.\n"       \
    "                      One log only: a thread is one process's\n"
/* The last options of the help of the reports that list sites (mt_cli_site_options). */
#define MT_CLI_SITE_HELP_TAIL                                                                      \
    "  --no-color          no colours (also when NO_COLOR is set or stdout is no tty);\n"          \
    "                      --no-colour is the same\n"                                              \
    MT_CLI_HELP_IMPORT_NAMES("")                                                                   \
    "  -h, --help          show this help\n"
// clang-format on

#define MT_CLI_OPT_OWN 256
#define MT_CLI_MAX_OWN 8

/* The options of the reports that list sites (report, peak, fragmentation). */
typedef struct mt_cli_site_opts {
    int json, no_color;
    int show_import;    /* --show-import-machinery: analysis.h, show_import_machinery */
    size_t top, frames; /* hold the command's defaults on entry */
    /* A command's own options: a getopt_long table ended by a NULL name, with values from
     * MT_CLI_OPT_OWN up, handed to on_own (which prints its error and returns -1 on a bad
     * value). */
    const struct option *own;
    int (*on_own)(const char *cmd, int opt, const char *value, void *ctx);
    void *own_ctx;
    const char *path;
    /* Set by the command when it also reports on several logs or a directory (multi_log.h):
     * then every log argument is taken (paths, npaths; path is the first). */
    int multi_ok;
    char **paths;
    size_t npaths;
    int as_tree; /* --tree, an own option of those commands (mt_cli_tree_option) */
} mt_cli_site_opts_t;

/* on_own for a table that holds only {"tree", no_argument, NULL, MT_CLI_OPT_OWN}: sets
 * as_tree in the mt_cli_site_opts_t that is its ctx. */
int mt_cli_tree_option(const char *cmd, int opt, const char *value, void *ctx);

/* Parses --format text|json, --top N (0: all), --frames N, --no-color, --show-import-machinery,
 * --help and the log file (or, with multi_ok, the logs and directories). Returns -1 to go on, or
 * the exit status: 0 after --help, 2 after a usage error. */
int mt_cli_site_options(const char *cmd, int argc, char **argv, void (*usage)(FILE *),
                        mt_cli_site_opts_t *o);

/* The file of -o OUT_PATH ('-': stdout) of the commands that write a page or an image, opened
 * for writing into o (output_file.h); NULL after printing why not. */
FILE *mt_cli_open_out(mt_out_t *o, const char *cmd, const char *out_path);
/* Closes what mt_cli_open_out opened once render_rc came from writing it; returns the exit
 * status: mt_cli_finish's for the log at path, or 1 after the line saying why the output is
 * not whole (a regular file is then removed). */
int mt_cli_close_out(mt_out_t *o, const char *path, const mt_analysis_t *a, int render_rc);

/* Flushes stdout, reports a write error or a truncated log; returns the exit status. */
int mt_cli_finish(const char *path, const mt_analysis_t *a, int render_rc);

#endif
