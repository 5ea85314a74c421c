// SPDX-License-Identifier: MIT
// A program with its own SIGSEGV handler, the way garbage collectors and JITs use one: it
// first checks that nobody else handles the signal, then catches a real fault on a page it
// protected, unprotects the page and goes on. memtrace must be invisible to all of it: the
// old action it sees is SIG_DFL, its handler runs, and it exits normally with exact counts.
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *page;
static long page_size;
static volatile sig_atomic_t faults;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)ctx;
    char *a = si->si_addr;
    if (a < page || a >= page + page_size)
        abort(); /* a real crash */
    faults++;
    mprotect(page, (size_t)page_size, PROT_READ | PROT_WRITE);
}

static void on_usr1(int sig)
{
    (void)sig;
}

int main(void)
{
    struct sigaction old;
    sigaction(SIGSEGV, NULL, &old);
    int dfl = !(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL;
    printf("old SIGSEGV action: %s\n", dfl ? "default" : "someone else's handler");
    /* signal() returns the previous disposition too */
    void (*prev)(int) = signal(SIGBUS, on_usr1);
    printf("old SIGBUS action: %s\n", prev == SIG_DFL ? "default" : "someone else's handler");
    signal(SIGBUS, SIG_DFL);
    if (!dfl)
        return 3; /* what such a program does: leave the signal to whoever has it */

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);

    page_size = sysconf(_SC_PAGESIZE);
    page = mmap(NULL, (size_t)page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *blocks[8];
    for (int i = 0; i < 8; i++)
        blocks[i] = malloc(32);
    page[10] = 42; /* faults once; the handler makes the page writable */
    for (int i = 0; i < 6; i++)
        free(blocks[i]);
    printf("handler ran %d time(s), page[10]=%d\n", (int)faults, page[10]);
    printf("memtrace-sample: allocations=8 frees=6 leaked_bytes=64 leaked_blocks=2\n");
    return faults == 1 && page[10] == 42 ? 0 : 1;
}
