// SPDX-License-Identifier: MIT
#include "starve.h"

#include <dirent.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

void starve_other_threads(void)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    sched_setaffinity(0, sizeof one, &one);
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        int tid = atoi(de->d_name);
        if (tid <= 0 || tid == gettid())
            continue;
        struct sched_param sp = {0};
        sched_setaffinity(tid, sizeof one, &one);
        sched_setscheduler(tid, SCHED_IDLE, &sp);
    }
    if (d)
        closedir(d);
}
