// SPDX-License-Identifier: MIT
// Unit tests of the HTML report page (render_html.c) on a crafted log: its figures, the
// embedded graphs, one script, no outside references.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "crafted_log.h"
#include "render_html.h"

START_TEST(html_page)
{
    mt_crafted_flame();
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    mt_html_opts_t o = {.version = "test"};
    ck_assert_int_eq(mt_render_html(a, sym, f, &o), 0);
    fclose(f);
    MT_ASSERT_HAS(out, "<!DOCTYPE html>", "data-key=\"peak_heap_bytes\" data-value=\"600\"",
                  "data-key=\"allocations\" data-value=\"6\"",
                  "data-key=\"leaked_bytes\" data-value=\"140\"", "data-cost=\"peak\"",
                  "data-cost=\"leaked\"", "src=\"data:image/svg+xml;base64,",
                  "</script>\n</body>\n</html>\n");
    /* embedded graphs: no second XML prolog, one script for the page */
    MT_ASSERT_HAS_NONE(out, "<?xml", "<![CDATA[", "src=\"http", "href=\"http");
    free(out);
}
END_TEST

MT_SUITE(.name = "render_html", .tcase = "tree", .teardown = mt_crafted_teardown,
         .tests = MT_TESTS(html_page));
