// SPDX-License-Identifier: MIT
// Runs everything `memtrace report|peak|fragmentation|leaks|timeline` would on one log held
// in memory. It must never crash, hang or leak whatever the bytes; the symbolizer is offline
// so a log's module paths never make it open files (and the result does not depend on them).
#include "fuzz_driver.h"

#include <stdio.h>
#include <stdlib.h>

#include "analysis.h"
#include "leaks.h"
#include "render.h"
#include "render_leaks.h"
#include "render_svg_timeline.h"
#include "render_fragmentation.h"
#include "render_peak.h"
#include "report_summary.h"
#include "symbolizer.h"

static FILE *mt_fuzz_sink(void)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    return sink;
}

static void mt_fuzz_reports(const mt_analysis_t *a, mt_symbolizer_t *sym, FILE *out)
{
    mt_render_opts_t ro = {.colour = 1, .max_frames = 0};
    mt_report_summary_t sum;
    if (mt_report_summary_build(&sum, a, sym, 10) == 0) {
        (void)!mt_render_summary_text(&sum, out, &ro);
        (void)!mt_render_summary_json(&sum, out, 1);
        mt_report_summary_destroy(&sum);
    }
    mt_report_peak_t peak;
    if (mt_report_peak_build(&peak, a, sym, 10) == 0) {
        (void)!mt_render_peak_text(&peak, out, 1, 0);
        (void)!mt_render_peak_json(&peak, out, 0);
        mt_report_peak_destroy(&peak);
    }
    mt_report_fragmentation_t frag;
    if (mt_report_fragmentation_build(&frag, a, sym, 10) == 0) {
        (void)!mt_render_fragmentation_text(&frag, out, 0, 3);
        (void)!mt_render_fragmentation_json(&frag, out, 1);
        mt_report_fragmentation_destroy(&frag);
    }
    mt_leaks_t lk;
    if (mt_leaks_build(&lk, a, sym, NULL, MT_LEAKS_DEFAULT_SHOW) == 0) {
        mt_leaks_render_opts_t lo = {
            .colour = 0, .max_frames = 0, .fail = MT_LEAKS_DEFAULT_FAIL, .source_root = "/src"};
        (void)!mt_render_leaks_text(&lk, out, &lo);
        (void)!mt_render_leaks_json(&lk, out, 1);
        (void)!mt_render_leaks_sarif(&lk, out, &lo);
        (void)!mt_render_leaks_junit(&lk, out, &lo);
        (void)!mt_render_leaks_suppressions(&lk, out);
        mt_leaks_destroy(&lk);
    }
    (void)!mt_timeline_svg(a, out);
    (void)!mt_timeline_text(a, out, 1, 60, 8);
}

int mt_fuzz_one(const uint8_t *data, size_t size, char *err, size_t errlen)
{
    mt_analysis_t *a;
    int rc = mt_analysis_load_mem(&a, data, size, "fuzz", err, errlen);
    if (rc < 0)
        return rc;
    FILE *out = mt_fuzz_sink();
    mt_symbolizer_t *sym;
    if (out && mt_symbolizer_new(&sym, a->modules) == 0) {
        mt_symbolizer_set_offline(sym);
        mt_fuzz_reports(a, sym, out);
        mt_symbolizer_free(sym);
    }
    free(mt_analysis_command(a));
    mt_analysis_free(a);
    return 0;
}
