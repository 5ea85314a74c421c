// SPDX-License-Identifier: MIT
// fork, then leak in the child: each process gets its own leak check; the parent's blocks are
// inherited by the child (still reachable there) and the child's own leak is only in the child.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *kept;

int main(void)
{
    kept = malloc(500);
    void *volatile parent_lost = malloc(501);
    parent_lost = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        void *volatile child_lost = malloc(502);
        child_lost = NULL;
        kept = malloc(503); /* the child drops its copy of the 500-byte block */
        exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
