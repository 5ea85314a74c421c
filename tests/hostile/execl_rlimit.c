// SPDX-License-Identifier: MIT
// execl under a tight address-space limit: the hook must not need memory that the plain exec
// does not (issue 19, item 5).
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 1) {
        printf("hostile: exec'd %s\n", argv[1]);
        return 0;
    }
    /* Just above what is mapped now: any new mapping fails with ENOMEM. */
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f || fscanf(f, "%lu", &pages) != 1)
        return 2;
    fclose(f);
    struct rlimit rl = {pages * 4096 + (64 << 10), pages * 4096 + (64 << 10)};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return 3;
    execl("/proc/self/exe", "execl_rlimit", "child", (char *)NULL);
    perror("execl");
    return 1;
}
