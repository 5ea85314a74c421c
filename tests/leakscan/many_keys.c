// SPDX-License-Identifier: MIT
// Issue 13.2: with 33 keys, glibc keeps key 32's value in a second-level array it callocs on
// the first pthread_setspecific of such a key. memtrace must not take that call itself (a key
// of its own), or the array is made inside memtrace, unseen, and the value looks lost.
// Valgrind: 100 B and glibc's 512 B second-level array still reachable, nothing lost. With
// argv[1] = 32 keys, all fit in the first level: 100 B reachable, in 1 block.
#include <pthread.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int keys = argc > 1 ? atoi(argv[1]) : 33;
    pthread_key_t k = 0;
    for (int i = 0; i < keys; i++)
        if (pthread_key_create(&k, NULL) != 0)
            return 10;
    return pthread_setspecific(k, malloc(100));
}
