// SPDX-License-Identifier: MIT
// `memtrace leaks FILE`: the leak report of a log as text, JSON, SARIF or JUnit, with kinds,
// suppressions and an exit code for CI; also the shared leak-check options of `memtrace run`
// (leak_check.h). This file owns the terminal decisions and exit status; analysis is in src/.
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "cli_common.h"
#include "commands.h"
#include "leak_check.h"
#include "leaks.h"
#include "multi_log.h"
#include "progress.h"
#include "render_leaks.h"
#include "suppressions.h"
#include "symbolizer.h"
#include "text_escape.h"

#define MT_LEAKS_DEFAULT_FRAMES MT_CLI_DEFAULT_FRAMES

void mt_leak_cli_init(mt_leak_cli_t *o)
{
    memset(o, 0, sizeof *o);
    o->show = MT_LEAKS_DEFAULT_SHOW;
    o->fail = MT_LEAKS_DEFAULT_FAIL;
    o->error_exitcode = -1;
    o->frames = MT_LEAKS_DEFAULT_FRAMES;
}

void mt_leak_cli_destroy(mt_leak_cli_t *o)
{
    free(o->supp_files);
    memset(o, 0, sizeof *o);
}

int mt_leak_cli_kinds(const char *cmd, const char *opt, const char *arg, unsigned *mask)
{
    char bad[64];
    if (mt_leakclass_parse_kinds(arg, mask, bad, sizeof bad) < 0) {
        mt_cli_usage(cmd,
                     "%s: unknown leak kind '%s' (definite, indirect, possible, reachable, "
                     "unclassified, all or none, separated by commas)",
                     opt, bad);
        return -1;
    }
    /* Asking for the lost kinds also covers a log without a scan: its blocks are unclassified. */
    if (*mask & ((1u << MT_LEAKS_DEFINITE) | (1u << MT_LEAKS_INDIRECT) | (1u << MT_LEAKS_POSSIBLE)))
        *mask |= 1u << MT_LEAKS_UNCLASSIFIED;
    return 0;
}

int mt_leak_cli_exitcode(const char *cmd, const char *arg, int *code)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < 0 || v > 255) {
        mt_cli_usage(cmd, "--error-exitcode needs a number from 0 to 255, got '%s'", arg);
        return -1;
    }
    *code = (int)v;
    return 0;
}

int mt_leak_cli_add_supp(mt_leak_cli_t *o, const char *path)
{
    /* Parse now so that a bad file is reported before anything runs. */
    mt_supps_t s;
    char err[512];
    mt_supps_init(&s);
    int rc = mt_supps_load(&s, path, err, sizeof err);
    mt_supps_destroy(&s);
    if (rc < 0) {
        fprintf(stderr, "memtrace: suppressions: %s\n", err);
        return -1;
    }
    const char **nv = realloc(o->supp_files, (o->nsupp + 1) * sizeof *nv);
    if (!nv) {
        fprintf(stderr, "memtrace: %s\n", strerror(ENOMEM));
        return -1;
    }
    o->supp_files = nv;
    o->supp_files[o->nsupp++] = path;
    return 0;
}

int mt_leak_cli_report(const char *cmd, const char *path, const mt_leak_cli_t *o, FILE *out,
                       FILE *supp_out, int *failing, int *classified, int *truncated, char *reason,
                       size_t reasonlen)
{
    char err[512];
    int ret = 1;
    mt_analysis_t *a = NULL;
    mt_symbolizer_t *sym = NULL;
    mt_supps_t supps;
    mt_leaks_t l;
    int built = 0;
    *failing = 0;
    *classified = 0;
    *truncated = 0;
    if (reason && reasonlen)
        reason[0] = '\0';
    mt_supps_init(&supps);
    for (size_t i = 0; i < o->nsupp; i++) {
        if (mt_supps_load(&supps, o->supp_files[i], err, sizeof err) < 0) {
            fprintf(stderr, "memtrace: suppressions: %s\n", err);
            goto out;
        }
    }
    int loaded = mt_cli_load(path, &a, NULL); /* --thread and --from/--to apply */
    if (loaded) {
        ret = loaded; /* 2: a window the log does not have */
        goto out;
    }
    a->show_import_machinery = o->show_import;
    if (mt_symbolizer_new(&sym, a->modules) < 0 ||
        mt_leaks_build_at(&l, a, sym, &supps, o->show,
                          o->after_finalization ? MT_LEAKS_AT_EXIT : MT_LEAKS_AT_SCRIPT_END) < 0) {
        fprintf(stderr, "memtrace: %s: %s\n", path, strerror(ENOMEM));
        goto out;
    }
    built = 1;
    if (o->require_scan && !l.classified && !l.python_end) {
        ret = 0; /* *classified stays 0: the caller says why there is no verdict */
        goto out;
    }
    mt_out_t opened = {0}; /* -o FILE */
    if (!out && !(out = mt_out_open(&opened, cmd, o->out_path)))
        goto out;
    char cwd[4096], root[4096];
    /* Under --fail-leaked-above nothing fails, in the exit status and in SARIF and JUnit alike
     * (the JUnit suite fails exactly when the status does). */
    *failing = mt_leaks_failing_bytes(&l, o->fail) > o->fail_above;
    mt_leaks_render_opts_t ro = {
        .colour = o->colour,
        .max_frames = o->frames,
        .fail = *failing ? o->fail : 0,
        .source_root = o->source_root            ? o->source_root
                       : getcwd(cwd, sizeof cwd) ? mt_path_source_root(root, sizeof root, cwd)
                                                 : NULL,
    };
    int rc = 0;
    switch (o->format) {
    case MT_LEAK_JSON:
        rc = mt_render_leaks_json(&l, out, 1);
        break;
    case MT_LEAK_SARIF:
        rc = mt_render_leaks_sarif(&l, out, &ro);
        break;
    case MT_LEAK_JUNIT:
        rc = mt_render_leaks_junit(&l, out, &ro);
        break;
    default:
        rc = mt_render_leaks_text(&l, out, &ro);
        break;
    }
    if (rc == 0 && o->gen_supps)
        rc = mt_render_leaks_suppressions(&l, supp_out);
    if (opened.f) {
        if (mt_out_close(&opened, rc) != 0)
            goto out;
        out = stdout; /* the file is closed; what is left to flush is the suppressions' */
        rc = 0;
    }
    if (rc < 0 || fflush(out) != 0 || fflush(supp_out) != 0) {
        fprintf(stderr, "memtrace: %s: write error: %s\n", cmd, strerror(errno ? errno : EIO));
        goto out;
    }
    *classified = l.classified || l.python_end;
    if (*failing && reason) {
        char why[448];
        mt_render_leaks_reason(&l, o->fail, why, sizeof why);
        /* "N bytes ... (above --fail-leaked-above 64K), the largest ..." */
        const char *rest = strstr(why, ", the largest");
        int head = rest ? (int)(rest - why) : (int)strlen(why);
        if (o->fail_above_text)
            snprintf(reason, reasonlen, "%.*s (above --fail-leaked-above %s)%s", head, why,
                     o->fail_above_text, rest ? rest : "");
        else
            snprintf(reason, reasonlen, "%s", why);
    }
    *truncated = a->truncated;
    if (a->truncated)
        fprintf(stderr, "memtrace: %s: %s (%s)\n", path, a->truncation, a->cut_reason);
    if (a->leaks.inconsistencies)
        fprintf(stderr, "memtrace: %s: %llu leak-scan records disagree with the log\n", path,
                (unsigned long long)a->leaks.inconsistencies);
    ret = 0;
out:
    if (built)
        mt_leaks_destroy(&l);
    mt_supps_destroy(&supps);
    mt_symbolizer_free(sym);
    mt_analysis_free(a);
    return ret;
}

static void mt_leaks_usage(FILE *out)
{
    fprintf(out,
            "usage: memtrace leaks [options] FILE\n"
            "       memtrace leaks [options] FILE... | DIR\n"
            "\n"
            "The leak report of a log recorded with 'memtrace run --leak-check': blocks still\n"
            "allocated at exit, classified as valgrind memcheck does (definitely, indirectly and\n"
            "possibly lost, still reachable), grouped by allocation stack, biggest first. A log\n"
            "recorded without --leak-check lists every block not freed at exit as unclassified.\n"
            "For a Python script: the blocks it held when it ended, before finalization; those\n"
            "its own lines allocated are not freed at the end of the script (and fail), those of\n"
            "the standard library, site-packages and imports are still reachable.\n"
            "\n"
            "Given several logs, or a directory, it shows the processes of the run (as 'memtrace\n"
            "report' does), then the leak report of the process that left the most not freed;\n"
            "with --error-exitcode every process is checked (text and json only).\n"
            "\n"
            "options:\n"
            "  --kinds KINDS           kinds listed (default definite,indirect,possible; 'all');\n"
            "                          also spelled --show-leak-kinds, as in valgrind;\n"
            "                          the summary always counts every kind\n"
            "  --fail-on KINDS         kinds that fail (default definite,possible)\n"
            "  --error-exitcode N      exit N when a failing kind has unsuppressed bytes\n"
            "                          (default: exit 0 whatever the leaks)\n"
            "  --fail-leaked-above SIZE\n"
            "                          fail only when those bytes are more than SIZE (4096,\n"
            "                          64K, 10MiB; default 0)\n"
            "  --suppressions FILE     LeakSanitizer (leak:PATTERN) or valgrind ({...}) file;\n"
            "                          may be given several times\n"
            "  --gen-suppressions      print a suppression for each leak listed (valgrind block\n"
            "                          plus the LeakSanitizer line as a comment)\n"
            "  --format FMT            text, json, sarif (2.1.0) or junit (default text)\n"
            "  --source-root DIR       SARIF: locations relative to DIR (default: the checkout\n"
            "                          holding the current directory, else the directory)\n"
            "  -o, --output FILE       write the report to FILE instead of stdout (FILE is\n"
            "                          created once the log has been read; '-': stdout)\n"
            "  --frames N              frames per stack in text, 0 for all (default %d)\n"
            "  --tree                  several logs: the processes as a tree, not by peak\n"
            "  --after-finalization    a Python script: the leak scan at exit, after the\n"
            "                          interpreter's finalization (valgrind's view), instead\n"
            "                          of what the script held when it ended (the default)\n"
            "  --show-import-machinery keep Python's import machinery (<frozen importlib...>)\n"
            "                          in stacks; by default what an import allocates is\n"
            "                          charged to the module's lines and the importing line\n"
            "  --full-names            C++ names in full (by default template arguments are\n"
            "                          shortened: std::vector<>::push_back)\n"
            "  --thread NAME|ID        only the blocks that thread (a name, or a tid;\n"
            "                          repeatable) allocated; one log only\n"
            "  --from T, --to T        only the blocks allocated from T to T and still held at\n"
            "                          its end (classified when the window reaches the leak\n"
            "                          check). T: seconds since the start (1.5), start, end\n"
            "                          or peak (the heap's peak); one log only\n"
            "  --no-color              no colours (also when NO_COLOR is set or no tty);\n"
            "                          --no-colour is the same\n"
            "  -h, --help              show this help\n"
            "\n"
            "KINDS: definite, indirect, possible, reachable, unclassified, separated by commas,\n"
            "or all, or none.\n"
            "\n"
            "exit status: 0 report written; N (--error-exitcode) leaks of a failing kind;\n"
            "1 the log or a suppression file could not be read, or the log is truncated;\n"
            "2 usage error.\n",
            MT_LEAKS_DEFAULT_FRAMES);
}

/* ---- several logs (multi_log.h) ---- */

/* The leak report of one log on out. */
static int mt_leaks_one(const char *path, FILE *out, void *ctx)
{
    const mt_leak_cli_t *o = ctx;
    int failing, classified, truncated;
    FILE *supp_out = o->format == MT_LEAK_TEXT ? out : stderr;
    int rc = mt_leak_cli_report("leaks", path, o, out, supp_out, &failing, &classified, &truncated,
                                NULL, 0);
    return rc ? rc : truncated;
}

/* --error-exitcode over a run: every process that left blocks is checked, and each one with a
 * leak of a failing kind is named. */
static int mt_leaks_check_all(const mt_ptree_t *t, void *ctx)
{
    const mt_leak_cli_t *o = ctx;
    if (o->error_exitcode <= 0)
        return 0;
    FILE *sink = fopen("/dev/null", "w");
    if (!sink)
        return 1;
    mt_leak_cli_t quiet = *o;
    quiet.gen_supps = 0;
    quiet.format = MT_LEAK_JSON; /* the cheapest renderer; the output is dropped */
    int failed = 0;
    for (size_t i = 0; i < t->nprocs; i++) {
        size_t p = t->by_peak[i];
        if (!t->procs[p].held_blocks)
            continue;
        const char *log = mt_ptree_last_log(t, p);
        int failing, classified, truncated;
        char why[512];
        if (mt_leak_cli_report("leaks", log, &quiet, sink, sink, &failing, &classified, &truncated,
                               why, sizeof why) == 0 &&
            failing) {
            fprintf(stderr, "memtrace: leaks: pid %llu has leaks of a failing kind: ",
                    (unsigned long long)t->procs[p].pid);
            mt_text_put(stderr, log);
            fputs(" (", stderr);
            mt_text_put(stderr, why); /* names the line: a string from the log */
            fputs(")\n", stderr);
            failed = 1;
        }
    }
    fclose(sink);
    return failed ? o->error_exitcode : 0;
}

static int mt_leaks_multi(mt_leak_cli_t *o, char *const *args, size_t nargs, const char *out_path,
                          int no_color, int as_tree)
{
    int status = mt_cli_threads_one_log("leaks");
    if (status)
        return status;
    if (o->format == MT_LEAK_SARIF || o->format == MT_LEAK_JUNIT)
        return mt_cli_usage("leaks",
                            "--format %s reads one log; several logs give text or json (or give "
                            "the log of one process)",
                            o->format == MT_LEAK_SARIF ? "sarif" : "junit");
    if (out_path)
        return mt_cli_usage("leaks", "-o takes one log; with several, redirect the output");
    const char *nc = getenv("NO_COLOR");
    o->colour = o->format == MT_LEAK_TEXT && !no_color && !(nc && nc[0]) && isatty(STDOUT_FILENO);
    mt_cli_multi_t m = {.cmd = "leaks",
                        .json = o->format == MT_LEAK_JSON,
                        .colour = o->colour,
                        .as_tree = as_tree,
                        .biggest = mt_leaks_one,
                        .ctx = o,
                        .what = "its leaks",
                        .by_held = 1,
                        .after = mt_leaks_check_all};
    return mt_cli_multi_run(&m, args, nargs);
}

int mt_cmd_leaks(int argc, char **argv)
{
    enum {
        OPT_KINDS = 1,
        OPT_FAIL_ON,
        OPT_EXITCODE,
        OPT_SUPP,
        OPT_GEN,
        OPT_FORMAT,
        OPT_FRAMES,
        OPT_NO_COLOR,
        OPT_TREE,
        OPT_AFTER_FINALIZATION,
        OPT_FAIL_ABOVE,
        OPT_SOURCE_ROOT
    };
    static const struct option longopts[] = {
        {"kinds", required_argument, NULL, OPT_KINDS},
        {"show-leak-kinds", required_argument, NULL, OPT_KINDS},
        {"fail-on", required_argument, NULL, OPT_FAIL_ON},
        {"error-exitcode", required_argument, NULL, OPT_EXITCODE},
        {"suppressions", required_argument, NULL, OPT_SUPP},
        {"gen-suppressions", no_argument, NULL, OPT_GEN},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"output", required_argument, NULL, 'o'},
        {"frames", required_argument, NULL, OPT_FRAMES},
        {"no-color", no_argument, NULL, OPT_NO_COLOR},
        {"no-colour", no_argument, NULL, OPT_NO_COLOR},
        {"tree", no_argument, NULL, OPT_TREE},
        {"show-import-machinery", no_argument, NULL, MT_CLI_OPT_SHOW_IMPORT},
        {"after-finalization", no_argument, NULL, OPT_AFTER_FINALIZATION},
        {"fail-leaked-above", required_argument, NULL, OPT_FAIL_ABOVE},
        {"source-root", required_argument, NULL, OPT_SOURCE_ROOT},
        {"help", no_argument, NULL, 'h'},
        MT_CLI_THREAD_OPTION,
        MT_CLI_FULL_NAMES_OPTION,
        MT_CLI_WINDOW_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    mt_leak_cli_t o;
    mt_leak_cli_init(&o);
    const char *out_path = NULL;
    char src_root[PATH_MAX];
    int no_color = 0, as_tree = 0, ret = 2;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_KINDS:
            if (mt_leak_cli_kinds("leaks", "--kinds", optarg, &o.show) < 0)
                goto done;
            break;
        case OPT_FAIL_ON:
            if (mt_leak_cli_kinds("leaks", "--fail-on", optarg, &o.fail) < 0)
                goto done;
            break;
        case OPT_EXITCODE:
            if (mt_leak_cli_exitcode("leaks", optarg, &o.error_exitcode) < 0)
                goto done;
            break;
        case OPT_SUPP:
            if (mt_leak_cli_add_supp(&o, optarg) < 0)
                goto done;
            break;
        case OPT_GEN:
            o.gen_supps = 1;
            break;
        case OPT_FORMAT: {
            static const char *const formats[] = {"text", "json", "sarif", "junit"};
            static const int as[] = {MT_LEAK_TEXT, MT_LEAK_JSON, MT_LEAK_SARIF, MT_LEAK_JUNIT};
            int i = mt_cli_choice("leaks", "--format", optarg, formats, 4);
            if (i < 0)
                goto done;
            o.format = as[i];
            break;
        }
        case 'o':
            out_path = optarg;
            break;
        case OPT_FRAMES:
            if (mt_cli_number("leaks", "--frames", optarg, 100000, &o.frames) < 0)
                goto done;
            break;
        case OPT_NO_COLOR:
            no_color = 1;
            break;
        case OPT_TREE:
            as_tree = 1;
            break;
        case OPT_AFTER_FINALIZATION:
            o.after_finalization = 1;
            break;
        case OPT_FAIL_ABOVE:
            if (mt_cli_size("leaks", "--fail-leaked-above", optarg, &o.fail_above) < 0)
                goto done;
            o.fail_above_text = optarg;
            break;
        case OPT_SOURCE_ROOT: {
            struct stat st;
            const char *why = !realpath(optarg, src_root) || stat(src_root, &st) != 0
                                  ? strerror(errno)
                              : !S_ISDIR(st.st_mode) ? "not a directory"
                                                     : NULL;
            if (why) {
                fprintf(stderr, "memtrace: leaks: --source-root '%s': %s\n", optarg, why);
                goto done;
            }
            o.source_root = src_root;
            break;
        }
        default: {
            int status =
                mt_cli_other_option("leaks", c, argv, longopts, mt_leaks_usage, &o.show_import);
            if (status >= 0) {
                ret = status;
                goto done;
            }
            break;
        }
        }
    }
    if (optind >= argc) {
        mt_cli_usage("leaks", "no log file given");
        goto done;
    }
    if (mt_cli_logs_multi(argv + optind, (size_t)(argc - optind))) {
        ret =
            mt_leaks_multi(&o, argv + optind, (size_t)(argc - optind), out_path, no_color, as_tree);
        goto done;
    }
    /* -o FILE is opened by the report once the log has been read: never truncated for a
     * log that turns out to be missing or broken. */
    if (out_path && strcmp(out_path, "-") == 0) /* -o - is standard output, as everywhere */
        out_path = NULL;
    FILE *out = out_path ? NULL : stdout;
    o.out_path = out_path;
    const char *nc = getenv("NO_COLOR");
    o.colour = o.format == MT_LEAK_TEXT && !out_path && !no_color && !(nc && nc[0]) &&
               isatty(STDOUT_FILENO);
    int failing, classified, truncated;
    /* Generated suppressions go with a text report; next to a machine format they would
     * corrupt it, so they go to stderr then. */
    FILE *supp_out = o.format == MT_LEAK_TEXT && !out_path ? stdout : stderr;
    ret = mt_leak_cli_report("leaks", argv[optind], &o, out, supp_out, &failing, &classified,
                             &truncated, NULL, 0);
    if (ret == 0) {
        if (failing && o.error_exitcode > 0)
            ret = o.error_exitcode;
        else if (truncated)
            ret = 1;
    }
done:
    mt_leak_cli_destroy(&o);
    return ret;
}
