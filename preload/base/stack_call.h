// SPDX-License-Identifier: MIT
// Calling a function on another stack (stack_call.c).
#ifndef MT_STACK_CALL_H
#define MT_STACK_CALL_H

#include <stdint.h>

/* Calls fn(arg) with the stack pointer at top (16-byte aligned), then returns here. */
void mt_stack_call(uint8_t *top, void (*fn)(void *), void *arg);

#endif
