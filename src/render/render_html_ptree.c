// SPDX-License-Identifier: MIT
// The processes table of the HTML page (see render_html_ptree.h).
#include "render_html_ptree.h"

#include <inttypes.h>

#include "fmt.h"
#include "render.h"
#include "xml_escape.h"

static void mt_hp_bytes(FILE *o, const char *key, uint64_t v)
{
    char b[64];
    fprintf(o, "<td class=\"n\" data-key=\"%s\" data-value=\"%" PRIu64 "\">%s</td>", key, v,
            mt_fmt_bytes_exact(b, sizeof b, v));
}

static void mt_hp_exit(FILE *o, const mt_pimage_t *im)
{
    fputs("<td data-key=\"exit\">", o);
    if (!im->has_exit)
        fputs("none (the log ends early)", o);
    else
        fprintf(o, "%s %" PRIu64, mt_render_exit_reason(im->exit_reason), im->exit_status);
    fputs("</td>", o);
}

static void mt_hp_row(FILE *o, const mt_ptree_t *t, const mt_process_t *p)
{
    const mt_pimage_t *last = &t->images[p->images[p->nimages - 1]];
    fprintf(o,
            "<tr data-pid=\"%" PRIu64 "\"><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
            "</td>",
            p->pid, p->pid, p->ppid);
    mt_hp_bytes(o, "peak_heap_bytes", p->peak_bytes);
    mt_hp_bytes(o, "leaked_bytes", p->held_bytes);
    mt_hp_exit(o, last);
    fputs("<td>", o);
    for (size_t k = 0; k < p->nimages; k++) {
        const mt_pimage_t *im = &t->images[p->images[k]];
        fputs(k ? " \xe2\x86\x92 <code>" : "<code>", o); /* an arrow between exec'd images */
        mt_xml_escape(o, im->command, 0);
        fputs("</code>", o);
    }
    fputs("<br><span class=\"muted\">", o);
    for (size_t k = 0; k < p->nimages; k++) {
        fputs(k ? " \xe2\x86\x92 " : "", o);
        mt_xml_escape(o, t->images[p->images[k]].path, 0);
    }
    fputs("</span></td></tr>\n", o);
}

void mt_render_html_ptree(FILE *o, const mt_ptree_t *t)
{
    char b[64];
    fprintf(o,
            "<h2 id=\"processes\">Processes</h2>\n<p data-key=\"processes\" data-value=\"%zu\">"
            "%zu processes in %zu logs; peaks added up: %s; not freed at exit: ",
            t->nprocs, t->nprocs, t->nimages, mt_fmt_bytes_exact(b, sizeof b, t->peak_sum));
    fprintf(o, "%s. The rest of the page is the process with the highest peak.</p>\n",
            mt_fmt_bytes_exact(b, sizeof b, t->held_bytes));
    fputs("<table class=\"processes\">\n<tr><th>pid</th><th>parent</th><th>peak heap</th>"
          "<th>not freed at exit</th><th>exit</th><th>command and log</th></tr>\n",
          o);
    for (size_t i = 0; i < t->nprocs; i++)
        mt_hp_row(o, t, &t->procs[t->by_peak[i]]);
    fputs("</table>\n", o);
}
