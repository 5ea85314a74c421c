// SPDX-License-Identifier: MIT
// Every way a process can end, chosen by argv[1]: each allocates three blocks, frees one and
// ends; the log must hold all three and how the program ended, and the exit status must be the
// plain run's (issue 19).
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

void *kept[2];

static void *exiter(void *arg)
{
    (void)arg;
    exit(8);
}

static void *worker(void *arg)
{
    (void)arg;
    usleep(20000);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *how = argc > 1 ? argv[1] : "return";
    kept[0] = malloc(100);
    kept[1] = malloc(200);
    free(malloc(300));
    printf("hostile: mallocs=3 frees=1 leaked=300 end=%s\n", how);
    fflush(stdout);
    if (!strcmp(how, "exit"))
        exit(3);
    if (!strcmp(how, "_exit"))
        _exit(4);
    if (!strcmp(how, "_Exit"))
        _Exit(5);
    if (!strcmp(how, "quick_exit"))
        quick_exit(6);
    if (!strcmp(how, "abort"))
        abort();
    if (!strcmp(how, "exit_group"))
        syscall(SYS_exit_group, 7);
    if (!strcmp(how, "signal"))
        raise(SIGTERM);
    if (!strcmp(how, "pthread_exit")) {
        pthread_t t;
        pthread_create(&t, NULL, worker, NULL);
        pthread_exit(NULL);
    }
    if (!strcmp(how, "thread_exit")) { /* exit() from another thread while main waits */
        pthread_t t;
        pthread_create(&t, NULL, exiter, NULL);
        pause();
    }
    return 2;
}
