// SPDX-License-Identifier: MIT
// memcheck's four leak heuristics, each matched and not matched, from C: every block is made by
// its own function, kept only through an interior pointer in a global, and the test compares
// memtrace's kind for it with valgrind's. A comment on each allocating line says what memcheck
// decides.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define N_KEPT 16
void *kept[N_KEPT]; /* interior pointers only; extern so the stores stay */
int n_kept;

static void keep(void *p)
{
    kept[n_kept++] = p;
}

/* A macro, not a function: the innermost frame of each block is the function named for it. */
#define words(size) ((uint64_t *)calloc(1, (size)))

/* stdstring: {length, capacity, refcount} then capacity + 1 characters; ptr at the chars. */
__attribute__((noinline)) static void stdstring_reachable(void)
{
    uint64_t *w = words(24 + 40 + 1); /* memcheck: reachable */
    w[0] = 11, w[1] = 40;
    memcpy(w + 3, "hello world", 12);
    keep((char *)w + 24);
}

/* The same words, but the block is not 3 words + capacity + 1 bytes long. */
__attribute__((noinline)) static void stdstring_possible_size(void)
{
    uint64_t *w = words(64); /* memcheck: possibly lost */
    w[0] = 1, w[1] = 2;
    keep((char *)w + 24);
}

/* The right size, but a length above the capacity. */
__attribute__((noinline)) static void stdstring_possible_length(void)
{
    uint64_t *w = words(24 + 16 + 1); /* memcheck: possibly lost */
    w[0] = 17, w[1] = 16;
    keep((char *)w + 24);
}

/* length64: the first word counts the bytes after it (sqlite's allocations). */
__attribute__((noinline)) static void length64_reachable(void)
{
    uint64_t *w = words(8 + 100); /* memcheck: reachable */
    w[0] = 100;
    keep(w + 1);
}

/* Neither a length (100 is not 93) nor an element count (93 is prime). */
__attribute__((noinline)) static void length64_possible(void)
{
    uint64_t *w = words(8 + 93); /* memcheck: possibly lost */
    w[0] = 100;
    keep(w + 1);
}

/* A zero count is neither a length nor an element count. */
__attribute__((noinline)) static void length64_possible_zero(void)
{
    uint64_t *w = words(8 + 40); /* memcheck: possibly lost */
    keep(w + 1);
}

/* newarray: a count the rest of the block divides evenly into (new T[7], sizeof(T) == 12). */
__attribute__((noinline)) static void newarray_reachable(void)
{
    uint64_t *w = words(8 + 7 * 12); /* memcheck: reachable */
    w[0] = 7;
    keep(w + 1);
}

__attribute__((noinline)) static void newarray_possible(void)
{
    uint64_t *w = words(8 + 7 * 12); /* memcheck: possibly lost */
    w[0] = 5;
    keep(w + 1);
}

/* A pointer 8 bytes in that is not at offset 8 of the block's words is not a cookie. */
__attribute__((noinline)) static void newarray_possible_offset(void)
{
    uint64_t *w = words(16 + 7 * 12); /* memcheck: possibly lost */
    w[1] = 7;
    keep(w + 2);
}

/* multipleinheritance from C: two "vtables" of function pointers in read-only data, one at
 * the block's start and one at the word the interior pointer addresses. */
static void f1(void)
{
}
static void f2(void)
{
}
typedef void (*fn_t)(void);
static fn_t const table_a[] = {f1, f2, 0};
static fn_t const table_b[] = {0, f2, f1, f2};
static const char *const not_code[] = {"a", "b", "c"};

__attribute__((noinline)) static void multipleinheritance_reachable(void)
{
    uint64_t *w = words(48); /* memcheck: reachable */
    w[0] = (uintptr_t)table_a;
    w[2] = (uintptr_t)table_b;
    keep(w + 2);
}

/* The interior word points at pointers to data, not code. */
__attribute__((noinline)) static void multipleinheritance_possible_data(void)
{
    uint64_t *w = words(48); /* memcheck: possibly lost */
    w[0] = (uintptr_t)table_a;
    w[2] = (uintptr_t)not_code;
    keep(w + 2);
}

/* The "vtable" is on the heap, not in a file mapping. */
__attribute__((noinline)) static void multipleinheritance_possible_heap(void)
{
    static fn_t *volatile heap_table;
    heap_table = malloc(4 * sizeof *heap_table); /* memcheck: reachable */
    heap_table[0] = f1, heap_table[1] = f2;
    uint64_t *w = words(48); /* memcheck: possibly lost */
    w[0] = (uintptr_t)table_a;
    w[2] = (uintptr_t)heap_table;
    keep(w + 2);
}

/* The block's first word is no vtable. */
__attribute__((noinline)) static void multipleinheritance_possible_first(void)
{
    uint64_t *w = words(48); /* memcheck: possibly lost */
    w[0] = 12345;
    w[2] = (uintptr_t)table_b;
    keep(w + 2);
}

/* Only one function pointer before a non-code word. */
static fn_t const table_one[] = {f1, (fn_t)(uintptr_t)not_code, f2};
__attribute__((noinline)) static void multipleinheritance_possible_one(void)
{
    uint64_t *w = words(48); /* memcheck: possibly lost */
    w[0] = (uintptr_t)table_a;
    w[2] = (uintptr_t)table_one;
    keep(w + 2);
}

int main(void)
{
    stdstring_reachable();
    stdstring_possible_size();
    stdstring_possible_length();
    length64_reachable();
    length64_possible();
    length64_possible_zero();
    newarray_reachable();
    newarray_possible();
    newarray_possible_offset();
    multipleinheritance_reachable();
    multipleinheritance_possible_data();
    multipleinheritance_possible_heap();
    multipleinheritance_possible_first();
    multipleinheritance_possible_one();
    return 0;
}
