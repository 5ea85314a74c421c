// SPDX-License-Identifier: MIT
// The one Check main() of the unit tests, the analyzer's (tests/unit) and the recorder's
// (tests/preload): a test file defines its suite as data,
//     MT_SUITE(.name = "fmt", .tests = MT_TESTS(human_formats, ...));
// (name, fixtures, tests) and links check_main.c, which builds the suite and runs it.
// Per-test limits come from CK_DEFAULT_TIMEOUT (meson) unless .timeout says.
#ifndef MT_CHECK_MAIN_H
#define MT_CHECK_MAIN_H

#include <check.h>

typedef struct mt_suite {
    const char *name;  /* Check's suite name, as in the runner's output */
    const char *tcase; /* the test case's name; the suite's name when NULL */
    /* around each test, in its forked child (tcase_add_checked_fixture) */
    void (*setup)(void);
    void (*teardown)(void);
    /* once around the whole case, in the runner's process (tcase_add_unchecked_fixture) */
    void (*setup_once)(void);
    void (*teardown_once)(void);
    int timeout;                      /* seconds per test; 0 keeps Check's default */
    const TTest *const *const *tests; /* MT_TESTS(...): ends with NULL; NULL for none */
    /* tests that pass only when they end on signal raise_signal (tcase_add_test_raise_signal),
     * run after .tests */
    const TTest *const *const *raising;
    int raise_signal;
    /* 1: the tests run in the runner's process (CK_NOFORK), for a test of the process's own
     * threads, memory or unwind tables; Check forks one child per test otherwise */
    int nofork;
} mt_suite_t;

/* Each test file defines this one object, with MT_SUITE(.name = "module", .tests = ...). */
extern const mt_suite_t mt_suite;
#define MT_SUITE(...) const mt_suite_t mt_suite = {__VA_ARGS__}

/* MT_TESTS(a, b, c): the NULL-terminated list of the tests START_TEST(a)... defined, in the
 * order they run. START_TEST makes each name a pointer variable, so the list holds their
 * addresses (constant) and check_main.c reads them when it runs. Up to 32 tests. */
#define MT_TESTS(...)                                                                              \
    ((const TTest *const *const[]){MT_ADDR_(MT_NARGS_(__VA_ARGS__), __VA_ARGS__) NULL})

#define MT_NARGS_(...)                                                                             \
    MT_NTH_(__VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15,   \
            14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define MT_NTH_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18,   \
                _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, N, ...)      \
    N
#define MT_ADDR_(n, ...) MT_CAT_(MT_ADDR_, n)(__VA_ARGS__)
#define MT_CAT_(a, b) MT_CAT2_(a, b)
#define MT_CAT2_(a, b) a##b
#define MT_ADDR_1(t) &t,
#define MT_ADDR_2(t, ...) &t, MT_ADDR_1(__VA_ARGS__)
#define MT_ADDR_3(t, ...) &t, MT_ADDR_2(__VA_ARGS__)
#define MT_ADDR_4(t, ...) &t, MT_ADDR_3(__VA_ARGS__)
#define MT_ADDR_5(t, ...) &t, MT_ADDR_4(__VA_ARGS__)
#define MT_ADDR_6(t, ...) &t, MT_ADDR_5(__VA_ARGS__)
#define MT_ADDR_7(t, ...) &t, MT_ADDR_6(__VA_ARGS__)
#define MT_ADDR_8(t, ...) &t, MT_ADDR_7(__VA_ARGS__)
#define MT_ADDR_9(t, ...) &t, MT_ADDR_8(__VA_ARGS__)
#define MT_ADDR_10(t, ...) &t, MT_ADDR_9(__VA_ARGS__)
#define MT_ADDR_11(t, ...) &t, MT_ADDR_10(__VA_ARGS__)
#define MT_ADDR_12(t, ...) &t, MT_ADDR_11(__VA_ARGS__)
#define MT_ADDR_13(t, ...) &t, MT_ADDR_12(__VA_ARGS__)
#define MT_ADDR_14(t, ...) &t, MT_ADDR_13(__VA_ARGS__)
#define MT_ADDR_15(t, ...) &t, MT_ADDR_14(__VA_ARGS__)
#define MT_ADDR_16(t, ...) &t, MT_ADDR_15(__VA_ARGS__)
#define MT_ADDR_17(t, ...) &t, MT_ADDR_16(__VA_ARGS__)
#define MT_ADDR_18(t, ...) &t, MT_ADDR_17(__VA_ARGS__)
#define MT_ADDR_19(t, ...) &t, MT_ADDR_18(__VA_ARGS__)
#define MT_ADDR_20(t, ...) &t, MT_ADDR_19(__VA_ARGS__)
#define MT_ADDR_21(t, ...) &t, MT_ADDR_20(__VA_ARGS__)
#define MT_ADDR_22(t, ...) &t, MT_ADDR_21(__VA_ARGS__)
#define MT_ADDR_23(t, ...) &t, MT_ADDR_22(__VA_ARGS__)
#define MT_ADDR_24(t, ...) &t, MT_ADDR_23(__VA_ARGS__)
#define MT_ADDR_25(t, ...) &t, MT_ADDR_24(__VA_ARGS__)
#define MT_ADDR_26(t, ...) &t, MT_ADDR_25(__VA_ARGS__)
#define MT_ADDR_27(t, ...) &t, MT_ADDR_26(__VA_ARGS__)
#define MT_ADDR_28(t, ...) &t, MT_ADDR_27(__VA_ARGS__)
#define MT_ADDR_29(t, ...) &t, MT_ADDR_28(__VA_ARGS__)
#define MT_ADDR_30(t, ...) &t, MT_ADDR_29(__VA_ARGS__)
#define MT_ADDR_31(t, ...) &t, MT_ADDR_30(__VA_ARGS__)
#define MT_ADDR_32(t, ...) &t, MT_ADDR_31(__VA_ARGS__)

/* MT_ASSERT_HAS(s, "a", "b", ...): s (not NULL) holds each of the strings; MT_ASSERT_HAS_NONE:
 * it holds none of them. One check per string, as many ck_assert_ptr_(non)null(strstr(s, x))
 * in a row; a failure names the string and the caller's line. */
#define MT_ASSERT_HAS(s, ...)                                                                      \
    mt_assert_has_((s), (const char *const[]){__VA_ARGS__, NULL}, 1, __FILE__, __LINE__)
#define MT_ASSERT_HAS_NONE(s, ...)                                                                 \
    mt_assert_has_((s), (const char *const[]){__VA_ARGS__, NULL}, 0, __FILE__, __LINE__)
void mt_assert_has_(const char *s, const char *const *strings, int present, const char *file,
                    int line);

#endif
