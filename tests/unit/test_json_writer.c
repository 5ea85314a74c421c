// SPDX-License-Identifier: MIT
// Unit tests for the JSON writer (json_writer.c): escaping, UTF-8 repair, locale-free
// doubles, nesting. Output is compared byte for byte.
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include "check_main.h"
#include "json_writer.h"

static char *buf;

static size_t len;

static FILE *f;

static void open_mem(void)
{
    f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
}

static const char *close_mem(void)
{
    fclose(f);
    return buf;
}

START_TEST(json_escaping)
{
    open_mem();
    mt_json_t j;
    mt_json_init(&j, f, 0);
    mt_json_array_begin(&j);
    mt_json_string(&j, "a\"b\\c\n\t\r\b\f\x01\x1f/\x7f\xc2\x9b\xc2\xa0"); /* DEL, C1 too */
    mt_json_string(&j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");      /* valid UTF-8 kept */
    mt_json_string(&j, "bad\xff \xc3 \xed\xa0\x80 \xc0\xaf \xf4\x90\x80\x80"); /* each replaced */
    mt_json_string_n(&j, "nul\0in", 6);
    mt_json_string(&j, NULL);
    mt_json_array_end(&j);
    ck_assert_int_eq(mt_json_finish(&j), 0);
    ck_assert_str_eq(close_mem(),
                     "[\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f/\\u007f\\u009b\xc2\xa0\","
                     "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
                     "\"bad\\ufffd \\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd "
                     "\\ufffd\\ufffd\\ufffd\\ufffd\","
                     "\"nul\\u0000in\",null]\n");
    free(buf);
}
END_TEST

START_TEST(json_numbers_and_nesting)
{
    /* a locale with a decimal comma must not leak into JSON */
    setlocale(LC_NUMERIC, "de_DE.UTF-8");
    open_mem();
    mt_json_t j;
    mt_json_init(&j, f, 0);
    mt_json_object_begin(&j);
    mt_json_key(&j, "u");
    mt_json_u64(&j, UINT64_MAX);
    mt_json_key(&j, "i");
    mt_json_i64(&j, INT64_MIN);
    mt_json_key(&j, "d");
    mt_json_array_begin(&j);
    mt_json_double(&j, 1.5);
    mt_json_double(&j, 0.0);
    mt_json_double(&j, -2.25);
    mt_json_double(&j, 1.0 / 3.0);
    mt_json_double(&j, 0.0000004);
    mt_json_double(&j, 1.0 / 0.0);
    mt_json_double(&j, 18446744073709551616.0); /* past int64_t: found by the fuzzer */
    mt_json_array_end(&j);
    mt_json_key(&j, "e");
    mt_json_object_begin(&j);
    mt_json_object_end(&j);
    mt_json_key(&j, "b");
    mt_json_bool(&j, 1);
    mt_json_object_end(&j);
    ck_assert_int_eq(mt_json_finish(&j), 0);
    setlocale(LC_NUMERIC, "C");
    ck_assert_str_eq(close_mem(), "{\"u\":18446744073709551615,\"i\":-9223372036854775808,"
                                  "\"d\":[1.5,0.0,-2.25,0.333333,0.0,null,18446744073709551616],"
                                  "\"e\":{},\"b\":true}\n");
    free(buf);
}
END_TEST

START_TEST(json_pretty)
{
    open_mem();
    mt_json_t j;
    mt_json_init(&j, f, 1);
    mt_json_object_begin(&j);
    mt_json_key(&j, "a");
    mt_json_array_begin(&j);
    mt_json_u64(&j, 1);
    mt_json_u64(&j, 2);
    mt_json_array_end(&j);
    mt_json_key(&j, "b");
    mt_json_array_begin(&j);
    mt_json_array_end(&j);
    mt_json_object_end(&j);
    ck_assert_int_eq(mt_json_finish(&j), 0);
    ck_assert_str_eq(close_mem(), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": []\n}\n");
    free(buf);
}
END_TEST

/* A memtrace document's opening, with and without the file it is about. */
START_TEST(json_document_begin)
{
    static const struct {
        const char *file, *want;
    } cases[] = {
        {"a.mtr", "{\"format\":\"memtrace-x\",\"schema_version\":1,\"file\":\"a.mtr\",\"n\":2}\n"},
        {NULL, "{\"format\":\"memtrace-x\",\"schema_version\":1,\"n\":2}\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        open_mem();
        mt_json_t j;
        mt_json_document_begin(&j, f, 0, "memtrace-x", cases[i].file);
        mt_json_key(&j, "n");
        mt_json_u64(&j, 2);
        mt_json_object_end(&j);
        ck_assert_int_eq(mt_json_finish(&j), 0);
        ck_assert_str_eq(close_mem(), cases[i].want);
        free(buf);
        buf = NULL;
    }
}
END_TEST

/* The key-and-value writers write what the key, then the value, would, pretty or not. */
START_TEST(json_key_value)
{
    static const char *const want[] = {
        "{\"u\":42,\"s\":\"x\\\"y\",\"n\":null,\"d\":1.5,\"b\":false}\n",
        "{\n  \"u\": 42,\n  \"s\": \"x\\\"y\",\n  \"n\": null,\n  \"d\": 1.5,\n  \"b\": false\n}\n",
    };
    for (int pretty = 0; pretty < 2; pretty++) {
        open_mem();
        mt_json_t j;
        mt_json_init(&j, f, pretty);
        mt_json_object_begin(&j);
        mt_json_key_u64(&j, "u", 42);
        mt_json_key_string(&j, "s", "x\"y");
        mt_json_key_string(&j, "n", NULL);
        mt_json_key_double(&j, "d", 1.5);
        mt_json_key_bool(&j, "b", 0);
        mt_json_object_end(&j);
        ck_assert_int_eq(mt_json_finish(&j), 0);
        ck_assert_str_eq(close_mem(), want[pretty]);
        free(buf);
        buf = NULL;
    }
}
END_TEST

MT_SUITE(.name = "json_writer",
         .tests = MT_TESTS(json_escaping, json_numbers_and_nesting, json_pretty,
                           json_document_begin, json_key_value));
