// SPDX-License-Identifier: MIT
// pthread_setspecific with few keys: glibc keeps the first 32 values inside the thread
// descriptor, so the main thread's value is reachable; a joined thread's value (no destructor)
// is lost.
#include <pthread.h>
#include <stdlib.h>

static pthread_key_t key;

static void *worker(void *arg)
{
    (void)arg;
    pthread_setspecific(key, malloc(64));
    return NULL;
}

int main(void)
{
    pthread_t t;
    if (pthread_key_create(&key, NULL) != 0)
        return 1;
    pthread_setspecific(key, malloc(48));
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    return 0;
}
