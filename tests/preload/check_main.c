// SPDX-License-Identifier: MIT
// The one main() of the recorder's unit tests (check_main.h): runs the file's suite, exits 1
// when a case failed.
#include "check_main.h"

#include <stdlib.h>

int preload_nofork;

Suite *preload_suite_new(const char *name, TCase **tc)
{
    Suite *s = suite_create(name);
    *tc = tcase_create(name);
    suite_add_tcase(s, *tc);
    return s;
}

int main(void)
{
    Suite *s = preload_suite();
    SRunner *sr = srunner_create(s);
    if (preload_nofork)
        srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
