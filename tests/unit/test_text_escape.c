// SPDX-License-Identifier: MIT
// Unit tests for text_escape: what a terminal would act on is escaped (C0, DEL, C1 raw or in
// UTF-8, invalid UTF-8), printable UTF-8 is kept, buffers are cut between whole escapes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "text_escape.h"

static char *put(const char *s, int masked)
{
    static char out[512];
    memset(out, 0, sizeof out);
    FILE *f = fmemopen(out, sizeof out, "w");
    ck_assert_ptr_nonnull(f);
    if (masked)
        mt_text_put_masked(f, s, '?');
    else
        mt_text_put(f, s);
    fclose(f);
    return out;
}

START_TEST(escapes_controls)
{
    ck_assert_str_eq(put("\x1b]0;PWNED\a\x1b[2J\nmemtrace: 0 leaks", 0),
                     "\\x1b]0;PWNED\\x07\\x1b[2J\\nmemtrace: 0 leaks");
    ck_assert_str_eq(put("a\rb\tc\x7f"
                         "d\x01",
                         0),
                     "a\\rb\\tc\\x7fd\\x01");
    /* C1: a raw byte (invalid UTF-8) and U+009B in UTF-8 */
    ck_assert_str_eq(put("\x9b"
                         "31m|\xc2\x9b"
                         "31m",
                         0),
                     "\\x9b31m|\\xc2\\x9b31m");
    /* printable UTF-8 stays, invalid sequences are escaped byte by byte */
    ck_assert_str_eq(put("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0", 0),
                     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0");
    ck_assert_str_eq(put("\xc3(\xe2\x82 \xed\xa0\x80 \xc0\xaf", 0),
                     "\\xc3(\\xe2\\x82 \\xed\\xa0\\x80 \\xc0\\xaf");
    ck_assert_str_eq(put("a\\x1b", 0), "a\\x1b"); /* a backslash is left alone */
    ck_assert_str_eq(put("", 0), "");
    ck_assert_str_eq(put(NULL, 0), "");
    ck_assert_str_eq(put("fn\x1b[2J\n\xc2\x9b|\xc3\xa9", 1), "fn?[2J???|\xc3\xa9");
    ck_assert(mt_text_is_clean("std::vector<int>::push_back caf\xc3\xa9"));
    ck_assert(!mt_text_is_clean("a\nb"));
    ck_assert(!mt_text_is_clean("\xc2\x85"));
}
END_TEST

START_TEST(safe_buffers)
{
    char b[8];
    ck_assert_str_eq(mt_text_safe(b, sizeof b, "abc\x1b"), "abc\\x1b");
    ck_assert_str_eq(mt_text_safe(b, sizeof b, "abcd\x1b"), "abcd");         /* no half escape */
    ck_assert_str_eq(mt_text_safe(b, sizeof b, "abcdef\xc3\xa9"), "abcdef"); /* no half char */
    ck_assert_str_eq(mt_text_safe(b, sizeof b, "abcdefghij"), "abcdefg");
    ck_assert_str_eq(mt_text_safe(b, 1, "abc"), "");
    ck_assert_str_eq(mt_text_safe(b, sizeof b, NULL), "");
    char m[8];
    ck_assert_uint_eq(mt_text_mask(m, sizeof m, "a;\nb\xc2\x9b", ' '), 6);
    ck_assert_str_eq(m, "a; b  ");
    ck_assert_uint_eq(mt_text_mask(m, sizeof m, "abcdef\xc3\xa9", ' '), 6); /* no half char */
    ck_assert_str_eq(m, "abcdef");
}
END_TEST

MT_SUITE(.name = "text_escape", .tcase = "core", .tests = MT_TESTS(escapes_controls, safe_buffers));
