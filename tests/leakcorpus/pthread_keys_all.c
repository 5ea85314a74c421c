// SPDX-License-Identifier: MIT
// A program that takes every pthread key there is (PTHREAD_KEYS_MAX, 1024 in glibc) and stores a
// block under the last: being recorded must not take one of its keys. Exit status 0 when it got
// them all.
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

int main(void)
{
    pthread_key_t k = 0;
    int n = 0;
    while (n < 4096 && pthread_key_create(&k, NULL) == 0)
        n++;
    pthread_setspecific(k, malloc(24));
    return n == PTHREAD_KEYS_MAX ? 0 : 1;
}
