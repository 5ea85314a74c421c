// SPDX-License-Identifier: MIT
// Issue 13.2: with 33 keys, glibc keeps key 32's value in a second-level array it callocs on
// the first pthread_setspecific of such a key. memtrace must not take that call itself (a key
// of its own), or the array is made inside memtrace, unseen, and the value looks lost.
// Valgrind: 100 B and glibc's 512 B second-level array still reachable, nothing lost.
#include <pthread.h>
#include <stdlib.h>

int main(void)
{
    pthread_key_t k = 0;
    for (int i = 0; i < 33; i++)
        if (pthread_key_create(&k, NULL) != 0)
            return 10;
    return pthread_setspecific(k, malloc(100));
}
