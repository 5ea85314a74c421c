// SPDX-License-Identifier: MIT
// A crash handler installed with SA_RESETHAND (as crash reporters install theirs, and as
// sysv_signal does) that reports and raises its signal again, which the kernel's reset has
// made fatal. Under memtrace the reset went to the kernel's SIG_DFL, so the process ended
// without memtrace writing the log's end: a log of 0 events. The handler also checks that it
// sees the default action installed again, as plain.
//   resethand segv    a fault in main, the handler raises SIGSEGV again
//   resethand usr1    sysv_signal(SIGUSR1, ...), then SIGUSR1 twice: the second one is fatal
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCKS 1000
#define FREED 400

static void *keep[BLOCKS];

__attribute__((noinline)) static void *take(size_t n)
{
    return malloc(n);
}

static void say_default(int sig)
{
    struct sigaction now;
    if (sigaction(sig, NULL, &now) == 0)
        printf("in the handler, the action is %s\n",
               now.sa_handler == SIG_DFL ? "SIG_DFL" : "still the handler");
}

static void on_fatal(int sig)
{
    say_default(sig);
    fflush(stdout);
    raise(sig); /* the default action now */
}

static void on_usr1(int sig)
{
    say_default(sig);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    size_t leaked = 0;
    for (int i = 0; i < BLOCKS; i++)
        keep[i] = take(100 + (size_t)i);
    for (int i = 0; i < FREED; i++)
        free(keep[i]);
    for (int i = FREED; i < BLOCKS; i++)
        leaked += 100 + (size_t)i;
    printf("hostile: mallocs=%d frees=%d leaked=%zu\n", BLOCKS, FREED, leaked);
    fflush(stdout);
    if (strcmp(argv[1], "segv") == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal;
        sa.sa_flags = SA_RESETHAND | SA_NODEFER;
        sigaction(SIGSEGV, &sa, NULL);
        volatile int *nowhere = NULL;
        *nowhere = 1;
    } else if (strcmp(argv[1], "usr1") == 0) {
        sysv_signal(SIGUSR1, on_usr1);
        raise(SIGUSR1);
        printf("after the first SIGUSR1\n");
        fflush(stdout);
        raise(SIGUSR1);
    }
    return 3;
}
