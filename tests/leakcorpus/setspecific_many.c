// SPDX-License-Identifier: MIT
// pthread_setspecific above 32 keys: glibc callocs a second-level array for keys 32 and up,
// and the value stored through it must be reachable.
#include <pthread.h>
#include <stdlib.h>

int main(void)
{
    pthread_key_t k = 0;
    for (int i = 0; i < 40; i++)
        if (pthread_key_create(&k, NULL) != 0)
            return 1;
    pthread_setspecific(k, malloc(100));
    return 0;
}
