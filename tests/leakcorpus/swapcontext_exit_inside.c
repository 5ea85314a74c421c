// SPDX-License-Identifier: MIT
// exit() called while running on a coroutine stack that is a heap block: the coroutine's
// frames are then the thread's live stack, and main's suspended stack stays a root too. No block
// here is dropped: memtrace scans such a stack block whole (and main's whole stack mapping, whose
// stack pointer it cannot know), so a stale copy of a dropped pointer there would be found;
// swapcontext_dead_frame tests that on purpose.
#include <stdlib.h>
#include <ucontext.h>

#define STACK_SIZE (64 * 1024)
static ucontext_t main_ctx, co_ctx;
static char *co_stack;

static void coroutine(void)
{
    void *volatile held = malloc(777);
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
