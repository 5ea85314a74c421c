// SPDX-License-Identifier: MIT
// A coroutine whose stack is a heap block: the block it allocated and holds on its stack is
// reachable while the stack block is; a second coroutine's stack is dropped, so its stack is
// lost and what it held is indirectly lost.
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#define STACK_SIZE (64 * 1024)
static ucontext_t main_ctx, co_ctx[2];
static char *stacks[2];

static void coroutine(int i)
{
    void *volatile held = malloc(i == 0 ? 1111 : 2222);
    swapcontext(&co_ctx[i], &main_ctx);
    (void)held;
}

int main(void)
{
    for (int i = 0; i < 2; i++) {
        stacks[i] = malloc(STACK_SIZE);
        getcontext(&co_ctx[i]);
        co_ctx[i].uc_stack.ss_sp = stacks[i];
        co_ctx[i].uc_stack.ss_size = STACK_SIZE;
        co_ctx[i].uc_link = &main_ctx;
        makecontext(&co_ctx[i], (void (*)(void))coroutine, 1, i);
        swapcontext(&main_ctx, &co_ctx[i]);
    }
    stacks[1] = NULL;
    /* co_ctx[1] holds its stack's address (uc_stack.ss_sp, saved rsp), and main_ctx a
     * register that makecontext left pointing into it (rcx): forget them too */
    memset(&co_ctx[1], 0, sizeof co_ctx[1]);
    memset(&main_ctx, 0, sizeof main_ctx);
    return 0;
}
