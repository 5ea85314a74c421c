// SPDX-License-Identifier: MIT
// Unit tests of the command line joiner (cmdline.c): quoted where a shell would split it.
#include <stdlib.h>

#include "check_main.h"
#include "cmdline.h"

START_TEST(cmdline_quotes_what_a_shell_would_split)
{
    char *argv[] = {"sh", "-c", "exec ./a 'b'", "", "x=1,y@z:/p%", "$HOME"};
    char *s = mt_cmdline_join(argv, 6);
    ck_assert_str_eq(s, "sh -c 'exec ./a '\\''b'\\''' '' x=1,y@z:/p% '$HOME'");
    free(s);
    s = mt_cmdline_join(argv, 0);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

MT_SUITE(.name = "cmdline", .tcase = "core",
         .tests = MT_TESTS(cmdline_quotes_what_a_shell_would_split));
