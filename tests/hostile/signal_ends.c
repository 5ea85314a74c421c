// SPDX-License-Identifier: MIT
// A program ended by a signal it does not handle, for each signal whose default action ends
// the process: SIGPIPE from a write to a pipe nobody reads (`find | head`), SIGALRM from its
// own alarm, SIGHUP from a closed terminal, SIGXCPU from a CPU limit, a real-time signal...
// Its log must be complete, say which signal ended it, and hold exactly its own calls.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *kept[1000];

static int signal_named(const char *name)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {
        {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"HUP", SIGHUP},   {"QUIT", SIGQUIT},
        {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"XCPU", SIGXCPU}, {"VTALRM", SIGVTALRM},
        {"PROF", SIGPROF}, {"IO", SIGIO},     {"PWR", SIGPWR},   {"STKFLT", SIGSTKFLT},
        {"TRAP", SIGTRAP}, {"SYS", SIGSYS},   {"XFSZ", SIGXFSZ},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].sig;
    if (strncmp(name, "RTMIN+", 6) == 0)
        return SIGRTMIN + atoi(name + 6);
    return 0;
}

int main(int argc, char **argv)
{
    int sig = argc > 1 ? signal_named(argv[1]) : 0;
    if (!sig) {
        fprintf(stderr, "usage: signal_ends PIPE|ALRM|HUP|...|RTMIN+N\n");
        return 2;
    }
    unsigned long mallocs = 0, frees = 0, held = 0;
    for (int i = 0; i < 1000; i++) {
        kept[i] = malloc(24 + (size_t)i % 100);
        mallocs++;
        held += 24 + (size_t)i % 100;
    }
    for (int i = 0; i < 1000; i += 3) {
        free(kept[i]);
        frees++;
        held -= 24 + (size_t)i % 100;
    }
    /* leaked: the bytes still held when the signal ends it */
    printf("hostile: signal %s mallocs=%lu frees=%lu leaked=%lu\n", argv[1], mallocs, frees, held);
    fflush(stdout);
    if (sig == SIGPIPE) { /* as `find | head` ends: a write to a pipe whose reader is gone */
        int fd[2];
        if (pipe(fd) != 0)
            return 2;
        close(fd[0]);
        (void)write(fd[1], "x", 1);
    } else if (sig == SIGALRM) {
        alarm(1);
        pause();
    } else {
        kill(getpid(), sig); /* process-directed, as from another process */
        pause();
    }
    return 3; /* not reached */
}
