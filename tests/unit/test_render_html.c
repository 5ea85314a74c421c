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
    ck_assert_ptr_nonnull(strstr(out, "<!DOCTYPE html>"));
    ck_assert_ptr_nonnull(strstr(out, "data-key=\"peak_heap_bytes\" data-value=\"600\""));
    ck_assert_ptr_nonnull(strstr(out, "data-key=\"allocations\" data-value=\"6\""));
    ck_assert_ptr_nonnull(strstr(out, "data-key=\"leaked_bytes\" data-value=\"140\""));
    ck_assert_ptr_nonnull(strstr(out, "data-cost=\"peak\""));
    ck_assert_ptr_nonnull(strstr(out, "data-cost=\"leaked\""));
    ck_assert_ptr_nonnull(strstr(out, "src=\"data:image/svg+xml;base64,"));
    ck_assert_ptr_nonnull(strstr(out, "</script>\n</body>\n</html>\n"));
    /* embedded graphs: no second XML prolog, one script for the page */
    ck_assert_ptr_null(strstr(out, "<?xml"));
    ck_assert_ptr_null(strstr(out, "<![CDATA["));
    ck_assert_ptr_null(strstr(out, "src=\"http"));
    ck_assert_ptr_null(strstr(out, "href=\"http"));
    free(out);
}
END_TEST

MT_SUITE(.name = "render_html", .tcase = "tree", .teardown = mt_crafted_teardown,
         .tests = MT_TESTS(html_page));
