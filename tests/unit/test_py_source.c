// SPDX-License-Identifier: MIT
// Unit tests of py_source.c, the Python source the line view shows: where a def or class
// block ends (decorators, docstrings at column 0, brackets, continuation lines, comments)
// and the lines and files it reads.
#include <errno.h>
#include <string.h>

#include "check_main.h"
#include "py_source.h"

static uint32_t block_end_of(const char *text, uint32_t first)
{
    mt_py_source_t s;
    ck_assert_int_eq(mt_py_source_load_mem(&s, text, strlen(text)), 0);
    uint32_t end = mt_py_source_block_end(&s, first);
    mt_py_source_destroy(&s);
    return end;
}

START_TEST(block_end_plain_and_one_line)
{
    ck_assert_uint_eq(block_end_of("def f():\n    a = 1\n    b = 2\n\nx = 3\n", 1), 3);
    /* trailing blank lines and comments after the body are not the function's */
    ck_assert_uint_eq(block_end_of("def f():\n    a = 1\n\n    # done\n\nx = 3\n", 1), 2);
    ck_assert_uint_eq(block_end_of("def f(): return 1\nx = 2\n", 1), 1);
    /* the last function of a file without a final newline */
    ck_assert_uint_eq(block_end_of("x = 1\ndef f():\n    return x", 2), 3);
    /* not a def or class: a lambda's or a comprehension's first line */
    ck_assert_uint_eq(block_end_of("x = [i for i in y]\n", 1), 0);
    ck_assert_uint_eq(block_end_of("define = 1\n", 1), 0);
    ck_assert_uint_eq(block_end_of("def f():\n    pass\n", 3), 0);
}
END_TEST

START_TEST(block_end_decorators_and_signature)
{
    const char *src = "@dec\n"
                      "@other(\n"
                      "  1)\n"
                      "def f(x,\n"
                      "y):\n" /* a continuation line at column 0 */
                      "    return x\n"
                      "\n"
                      "z = 1\n";
    ck_assert_uint_eq(block_end_of(src, 1), 6);
    ck_assert_uint_eq(block_end_of("async def f():\n\tawait g()\n\treturn 1\nx\n", 1), 3);
    ck_assert_uint_eq(block_end_of("class C(Base):\n    pass\nC()\n", 1), 2);
}
END_TEST

START_TEST(block_end_strings_comments_continuations)
{
    /* a docstring whose lines reach column 0 */
    ck_assert_uint_eq(
        block_end_of("def f():\n    \"\"\"doc\nat column 0\n    \"\"\"\n    return 1\ny = 2\n", 1),
        5);
    /* a comment at column 0 inside the body does not end it */
    ck_assert_uint_eq(block_end_of("def f():\n    a = 1\n# note\n    b = 2\nz = 0\n", 1), 4);
    /* a backslash continuation, and brackets open across lines */
    ck_assert_uint_eq(block_end_of("def f():\n    x = 1 + \\\n2\n    return x\ny = 0\n", 1), 4);
    ck_assert_uint_eq(block_end_of("def f():\n    return [\n1,\n2]\ny = 0\n", 1), 4);
    /* brackets and '#' inside strings are text */
    ck_assert_uint_eq(block_end_of("def f():\n    s = '# ('\n    return s\nz = 1\n", 1), 3);
    ck_assert_uint_eq(block_end_of("def f():\n    s = \"\\\" (\"\n    return s\nz = 1\n", 1), 3);
    /* nested functions and methods end where their own indentation does */
    const char *cls = "class C:\n"
                      "    def m(self):\n"
                      "        return [\n"
                      "1, 2]\n"
                      "\n"
                      "    x = 1\n"
                      "\n"
                      "print(C)\n";
    ck_assert_uint_eq(block_end_of(cls, 1), 6);
    ck_assert_uint_eq(block_end_of(cls, 2), 4);
}
END_TEST

START_TEST(source_lines_and_files)
{
    mt_py_source_t s;
    const char *crlf = "def f():\r\n    pass\r\n";
    ck_assert_int_eq(mt_py_source_load_mem(&s, crlf, strlen(crlf)), 0);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(mt_py_source_line(&s, 1), "def f():");
    ck_assert_str_eq(mt_py_source_line(&s, 2), "    pass");
    ck_assert_ptr_null(mt_py_source_line(&s, 0));
    ck_assert_ptr_null(mt_py_source_line(&s, 3));
    ck_assert_uint_eq(mt_py_source_block_end(&s, 1), 2);
    mt_py_source_destroy(&s);
    ck_assert_int_eq(mt_py_source_load(&s, "/nonexistent/memtrace/x.py"), -ENOENT);
    ck_assert_int_eq(mt_py_source_load(&s, "/"), -EISDIR);
    ck_assert_int_eq(mt_py_source_load_mem(&s, "", 0), 0);
    ck_assert_uint_eq(s.n, 0);
    mt_py_source_destroy(&s);
}
END_TEST

MT_SUITE(.name = "py_source", .tcase = "lines",
         .tests = MT_TESTS(block_end_plain_and_one_line, block_end_decorators_and_signature,
                           block_end_strings_comments_continuations, source_lines_and_files));
