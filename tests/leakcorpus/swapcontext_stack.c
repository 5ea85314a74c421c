// SPDX-License-Identifier: MIT
// A coroutine whose stack is an array in a live stack frame when exit() is called: what the
// suspended coroutine holds on it is reachable.
#include <stdlib.h>
#include <ucontext.h>

static ucontext_t main_ctx, co_ctx;

static void coroutine(void)
{
    void *volatile held = malloc(4444);
    void *volatile dropped = malloc(55);
    dropped = NULL;
    swapcontext(&co_ctx, &main_ctx);
    (void)held;
}

static void run(void)
{
    char stack[32 * 1024];
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = stack;
    co_ctx.uc_stack.ss_size = sizeof stack;
    co_ctx.uc_link = &main_ctx;
    makecontext(&co_ctx, coroutine, 0);
    swapcontext(&main_ctx, &co_ctx);
    exit(0);
}

int main(void)
{
    run();
    return 0;
}
