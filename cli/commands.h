// SPDX-License-Identifier: MIT
// Entry points of the memtrace subcommands, one file per command under cli/.
// Each takes the arguments after the subcommand name (argv[0] is the subcommand) and returns
// the process exit status. They print their own one-line errors ("memtrace: ...").
#ifndef MT_CLI_COMMANDS_H
#define MT_CLI_COMMANDS_H

int mt_cmd_run(int argc, char **argv);           /* cli/cmd_run.c */
int mt_cmd_report(int argc, char **argv);        /* cli/cmd_report.c */
int mt_cmd_leaks(int argc, char **argv);         /* cli/cmd_leaks.c */
int mt_cmd_peak(int argc, char **argv);          /* cli/cmd_peak.c */
int mt_cmd_timeline(int argc, char **argv);      /* cli/cmd_timeline.c */
int mt_cmd_fragmentation(int argc, char **argv); /* cli/cmd_fragmentation.c */
int mt_cmd_diff(int argc, char **argv);          /* cli/cmd_diff.c */
int mt_cmd_export(int argc, char **argv);        /* cli/cmd_export.c */
int mt_cmd_flamegraph(int argc, char **argv);    /* cli/cmd_flamegraph.c */
int mt_cmd_html(int argc, char **argv);          /* cli/cmd_html.c */
int mt_cmd_lines(int argc, char **argv);         /* cli/cmd_lines.c */
int mt_cmd_logstats(int argc, char **argv);      /* cli/cmd_logstats.c */
int mt_cmd_attach(int argc, char **argv);        /* cli/cmd_attach.c */

/* The recorder library's absolute path into out (PATH_MAX): MEMTRACE_PRELOAD, else next to
 * the memtrace binary; 0, or -1 after printing why (cmd_run.c). */
int mt_run_find_preload(char *out);

#endif
