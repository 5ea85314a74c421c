// SPDX-License-Identifier: MIT
// Hooked calls on small stacks: a 4 KiB coroutine stack (makecontext) and a MINSIGSTKSZ
// alternate signal stack whose handler allocates. Each stack is the top of a larger buffer
// whose lower part holds a pattern: a hook that uses more of the program's stack than the
// plain call would overwrite it (issue 19, item 3). Prints its counts; the deepest use of
// each stack goes to stderr.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define PATTERN 0xa5
#define BELOW (64 << 10)
#define CORO_STACK 4096

static unsigned long mallocs, frees;
static void *kept[64];
static int nkept;

static void calls(void)
{
    void *a = malloc(40);
    void *b = calloc(3, 50);
    void *c = realloc(NULL, 70);
    c = realloc(c, 7000);
    void *d = NULL;
    if (posix_memalign(&d, 64, 300) != 0)
        d = NULL;
    void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED)
        munmap(m, 8192);
    free(a);
    free(b);
    free(d);
    mallocs += 5; /* malloc, calloc, realloc(NULL), realloc, posix_memalign */
    frees += 4;   /* free a, b, d and the block realloc moved */
    if (nkept < 64)
        kept[nkept++] = c;
    else {
        free(c);
        frees++;
    }
}

/* Bytes of the region [lo, lo + below) that no longer hold the pattern, counted from the top:
 * how far below the stack's bottom something wrote. */
static size_t overflow(const unsigned char *lo, size_t below)
{
    for (size_t i = 0; i < below; i++)
        if (lo[i] != PATTERN)
            return below - i;
    return 0;
}

static size_t deepest(const unsigned char *stack, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (stack[i] != PATTERN)
            return size - i;
    return 0;
}

static ucontext_t main_ctx, coro_ctx;

static void coroutine(void)
{
    for (int i = 0; i < 100; i++)
        calls();
}

static void handler(int sig)
{
    (void)sig;
    calls();
}

int main(void)
{
    unsigned char *region = malloc(BELOW + CORO_STACK);
    mallocs++;
    memset(region, PATTERN, BELOW + CORO_STACK);
    getcontext(&coro_ctx);
    coro_ctx.uc_stack.ss_sp = region + BELOW;
    coro_ctx.uc_stack.ss_size = CORO_STACK;
    coro_ctx.uc_link = &main_ctx;
    makecontext(&coro_ctx, coroutine, 0);
    swapcontext(&main_ctx, &coro_ctx);
    size_t coro_over = overflow(region, BELOW);
    fprintf(stderr, "coroutine stack: %zu of %d bytes used\n", deepest(region + BELOW, CORO_STACK),
            CORO_STACK);

    /* The kernel's minimum for the signal frame on this CPU (AT_MINSIGSTKSZ: larger than the
     * old constant MINSIGSTKSZ where AVX-512 state is saved), plus what the handler's calls
     * use in the plain run. */
    long min = sysconf(_SC_MINSIGSTKSZ);
    const size_t ALT_STACK = (size_t)(min > 0 ? min : MINSIGSTKSZ) + 4096;
    unsigned char *alt = malloc(BELOW + ALT_STACK);
    mallocs++;
    memset(alt, PATTERN, BELOW + ALT_STACK);
    stack_t ss = {.ss_sp = alt + BELOW, .ss_size = ALT_STACK, .ss_flags = 0};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_ONSTACK;
    if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0)
        return 2;
    for (int i = 0; i < 100; i++)
        raise(SIGUSR1);
    size_t alt_over = overflow(alt, BELOW);
    fprintf(stderr, "alternate stack: %zu of %zu bytes used\n", deepest(alt + BELOW, ALT_STACK),
            ALT_STACK);
    if (coro_over || alt_over) {
        printf("overflow: coroutine %zu bytes, alternate stack %zu bytes\n", coro_over, alt_over);
        return 1;
    }
    printf("hostile: mallocs=%lu frees=%lu leaked=%d\n", mallocs, frees,
           nkept * 7000 + 2 * BELOW + CORO_STACK + (int)ALT_STACK);
    return 0;
}
