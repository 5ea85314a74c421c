// SPDX-License-Identifier: MIT
// Unit tests of the SVG flame graph (render_flamegraph.c) on crafted logs: escaping,
// figures, no outside references, Python frames and lines told apart.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "crafted_log.h"
#include "names.h"
#include "render_flamegraph.h"

static char *render_svg(const mt_flame_tree_t *t, const char *title)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    mt_flame_svg_opts_t o = {.title = title};
    ck_assert_int_eq(mt_render_flamegraph_svg(t, a, f, &o), 0);
    fclose(f);
    return out;
}

START_TEST(svg_figures_and_escaping)
{
    mt_crafted_flame();
    mt_flame_tree_t t;
    mt_crafted_flame_tree(&t, MT_COST_PEAK, 0, 0);
    /* names from a log are arbitrary bytes: C++ templates, quotes, invalid UTF-8 */
    t.v[3].frame.function = "std::vector<int, A&B> \"q\" 'x' \xff";
    mt_names_set_full(1); /* the name as it is (shortened, it would be std::vector<> ...) */
    char *s = render_svg(&t, "a <title> & more");
    mt_names_set_full(0);
    MT_ASSERT_HAS(s, "data-total=\"600\"", "data-x=\"0\" data-v=\"500\" data-d=\"3\"",
                  "std::vector&lt;int, A&amp;B&gt; &quot;q&quot; &#39;x&#39; "
                  "\xef\xbf\xbd\n",
                  "500 B in 2 blocks held at the peak (83.33%)", "a &lt;title&gt; &amp; more");
    MT_ASSERT_HAS_NONE(s, "<int", "\xff");
    ck_assert_ptr_nonnull(strstr(s, "<script type=\"text/ecmascript\"><![CDATA["));
    /* nothing outside the file: the only URL is the SVG namespace */
    MT_ASSERT_HAS_NONE(s, "href", "https:");
    free(s);
    mt_flame_tree_destroy(&t);
}
END_TEST

START_TEST(svg_empty_cost)
{
    /* nothing leaked: a valid picture that says so, not a division by zero */
    mt_crafted_begin_main();
    mt_lb_alloc(&b, MT_ALLOC_MALLOC, 1, 8, 0x10, 1);
    mt_lb_free_(&b, MT_TAG_FREE, 2, 0x10);
    mt_lb_exit(&b, 3, MT_EXIT_NORMAL, 0);
    mt_crafted_load_sites();
    mt_flame_tree_t t;
    mt_crafted_flame_tree(&t, MT_COST_LEAKED, 0.001, 100);
    ck_assert_uint_eq(t.n, 1);
    ck_assert_uint_eq(t.v[0].value, 0);
    char *s = render_svg(&t, NULL);
    ck_assert_ptr_nonnull(strstr(s, "nothing to show: no bytes not freed at exit"));
    MT_ASSERT_HAS_NONE(s, "=\"nan", "=\"-nan", "=\"inf");
    free(s);
    mt_flame_tree_destroy(&t);
}
END_TEST

START_TEST(python_frames_apart)
{
    mt_crafted_flame();
    /* a Python frame (the recorder marks them) gets its own kind, class and colour; frames
     * loaded here stay, with the mark, while the tree is built */
    ck_assert_int_eq(mt_sites_load_all(&sites), 0);
    for (size_t i = 0; i < sites.n; i++)
        if (sites.v[i].nframes == 3 && sites.v[i].frames[1].address == G)
            sites.v[i].frames[0].python = 1; /* main > g > f: f is a Python function */
    mt_flame_tree_t t;
    mt_crafted_flame_tree(&t, MT_COST_LEAKED, 0, 0);
    ck_assert_uint_eq(t.n, 5);
    ck_assert_uint_eq(t.v[4].frame.address, F);
    ck_assert_uint_eq(t.v[4].kind, MT_FLAME_PYTHON);
    ck_assert_uint_eq(t.v[2].kind, MT_FLAME_UNKNOWN);
    char *s = render_svg(&t, NULL);
    MT_ASSERT_HAS(s, "<g class=\"f k-python\" data-x=\"100\" data-v=\"40\"", "[Python]");
    free(s);
    mt_flame_tree_destroy(&t);
}
END_TEST

START_TEST(python_lines_apart)
{
    mt_crafted_flame();
    /* main becomes a Python <module>: the leak of f is made from its line 10, the one under g
     * from its line 20. A native function is one node whatever its lines; a Python frame is a
     * line, so the two lines are two nodes, each labelled with its line. (Frames loaded here
     * stay, with the changes, while the tree is built.) */
    ck_assert_int_eq(mt_sites_load_all(&sites), 0);
    static const char *const module = "<module>", *const file = "/work/app.py";
    for (size_t i = 0; i < sites.n; i++) {
        mt_frame_t *outer = &sites.v[i].frames[sites.v[i].nframes - 1];
        outer->python = 1;
        outer->function = module;
        outer->file = file;
        outer->line = sites.v[i].nframes == 3 && sites.v[i].frames[1].address == G ? 20 : 10;
    }
    mt_flame_tree_t t;
    mt_crafted_flame_tree(&t, MT_COST_LEAKED, 0, 0);
    ck_assert_uint_eq(t.n, 6); /* root, app.py:10 > f, app.py:20 > g > f */
    ck_assert_uint_eq(t.v[1].frame.line, 10);
    ck_assert_uint_eq(t.v[1].value, 100);
    ck_assert_uint_eq(t.v[3].frame.line, 20);
    ck_assert_uint_eq(t.v[3].value, 40);
    ck_assert_uint_eq(t.v[3].depth, 1);
    char *s = render_svg(&t, NULL);
    MT_ASSERT_HAS(s, ">&lt;module&gt; (app.py:10)</text>", ">&lt;module&gt; (app.py:20)</text>",
                  "/work/app.py:20 [Python]");
    ck_assert_ptr_null(strstr(s, "several lines"));
    free(s);
    mt_flame_tree_destroy(&t);
}
END_TEST

MT_SUITE(.name = "render_flamegraph", .tcase = "tree", .teardown = mt_crafted_teardown,
         .tests = MT_TESTS(svg_figures_and_escaping, svg_empty_cost, python_frames_apart,
                           python_lines_apart));
