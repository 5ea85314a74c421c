// SPDX-License-Identifier: MIT
// exit() called while running on a coroutine stack that is a heap block: the coroutine's
// frames are then the thread's live stack, and main's suspended stack stays a root too. The dead
// frames below the coroutine's stack pointer are scrubbed before exit, so that no stale copy of
// the dropped pointer is left in the heap block (swapcontext_dead_frame tests such a copy).
#include <stdlib.h>
#include <ucontext.h>

#define STACK_SIZE (64 * 1024)
static ucontext_t main_ctx, co_ctx;
static char *co_stack;

static void scrub(void)
{
    volatile char dead[32 * 1024];
    for (size_t i = 0; i < sizeof dead; i++)
        dead[i] = 0;
}

static void coroutine(void)
{
    void *volatile held = malloc(777);
    void *volatile dropped = malloc(66);
    dropped = NULL;
    scrub();
    exit(0);
    (void)held;
}

int main(void)
{
    void *volatile in_main = malloc(888);
    co_stack = malloc(STACK_SIZE);
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = co_stack;
    co_ctx.uc_stack.ss_size = STACK_SIZE;
    co_ctx.uc_link = &main_ctx;
    makecontext(&co_ctx, coroutine, 0);
    swapcontext(&main_ctx, &co_ctx);
    (void)in_main;
    return 0;
}
