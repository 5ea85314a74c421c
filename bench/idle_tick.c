// SPDX-License-Identifier: MIT
// An idle server for bench/bench.sh --logsize: one small malloc and free every 100 ms for N
// seconds (default 30), like a daemon's periodic timer. Its log must not grow with time beyond
// those events.
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    int seconds = argc > 1 ? atoi(argv[1]) : 30;
    struct timespec tick = {0, 100 * 1000 * 1000};
    for (int i = 0; i < seconds * 10; i++) {
        void *volatile p = malloc(64);
        free(p);
        nanosleep(&tick, NULL);
    }
    return 0;
}
