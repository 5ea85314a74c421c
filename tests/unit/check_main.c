// SPDX-License-Identifier: MIT
// The shared main() of the unit tests (tests/unit and tests/preload): builds the file's `mt_suite`
// into one Check suite with one test case and runs it; exit status 0 only when every test passed.
// Nothing test-specific here: what a file needs (fixtures, a longer limit) is a field of
// mt_suite_t. Also the assertions check_main.h adds to Check's (MT_ASSERT_HAS).
#include <stdlib.h>
#include <string.h>

#include "check_main.h"

void mt_assert_has_(const char *s, const char *const *strings, int present, const char *file,
                    int line)
{
    ck_assert_msg(s != NULL, "%s:%d: no text to search", file, line);
    for (size_t i = 0; strings[i]; i++)
        ck_assert_msg((strstr(s, strings[i]) != NULL) == present, "%s:%d: %s \"%s\"", file, line,
                      present ? "missing" : "unexpected", strings[i]);
}

int main(void)
{
    const mt_suite_t *spec = &mt_suite;
    Suite *s = suite_create(spec->name);
    TCase *tc = tcase_create(spec->tcase ? spec->tcase : spec->name);
    if (spec->setup_once || spec->teardown_once)
        tcase_add_unchecked_fixture(tc, spec->setup_once, spec->teardown_once);
    if (spec->setup || spec->teardown)
        tcase_add_checked_fixture(tc, spec->setup, spec->teardown);
    if (spec->timeout > 0)
        tcase_set_timeout(tc, spec->timeout);
    for (const TTest *const *const *t = spec->tests; t && *t; t++)
        tcase_add_test(tc, **t);
    for (const TTest *const *const *t = spec->raising; t && *t; t++)
        tcase_add_test_raise_signal(tc, **t, spec->raise_signal);
    suite_add_tcase(s, tc);

    SRunner *sr = srunner_create(s);
    if (spec->nofork)
        srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
