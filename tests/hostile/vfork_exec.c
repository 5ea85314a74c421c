// SPDX-License-Identifier: MIT
// vfork, then exec in the child (as dash and posix_spawn users do): the child shares the
// parent's memory and thread state until the exec, so nothing it does in the exec hook may
// stay behind for the parent, whose later allocations must all be recorded.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void *kept[100];

int main(void)
{
    for (int round = 0; round < 3; round++) {
        pid_t pid = vfork();
        if (pid == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
            return 1;
    }
    for (int i = 0; i < 100; i++)
        kept[i] = malloc(10);
    for (int i = 0; i < 50; i++)
        free(kept[i]);
    printf("hostile: mallocs=100 frees=50 leaked=500\n");
    return 0;
}
