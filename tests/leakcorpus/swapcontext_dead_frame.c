// SPDX-License-Identifier: MIT
// exit() called on a coroutine stack that is a heap block, after a function that kept a pointer
// deep in its frame returned: the pointer is left in the dead part of the stack, below the stack
// pointer. memcheck knows those words are dead (undefined since the stack shrank) and calls the
// block lost.
#include <stdlib.h>
#include <ucontext.h>

#define STACK_SIZE (128 * 1024)
static ucontext_t main_ctx, co_ctx;
static char *co_stack;

static void keep_deep(void)
{
    struct {
        void *volatile ptr; /* lowest address of the frame: 16 KB below the caller */
        volatile char pad[16 * 1024];
    } frame;
    frame.ptr = malloc(71);
    frame.pad[0] = 0;
}

static void coroutine(void)
{
    void *volatile held = malloc(73);
    keep_deep();
    exit(0);
    (void)held;
}

int main(void)
{
    co_stack = malloc(STACK_SIZE);
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = co_stack;
    co_ctx.uc_stack.ss_size = STACK_SIZE;
    co_ctx.uc_link = &main_ctx;
    makecontext(&co_ctx, coroutine, 0);
    swapcontext(&main_ctx, &co_ctx);
    return 0;
}
