// SPDX-License-Identifier: MIT
// _exit() skips atexit handlers and destructors; the leak check must still happen at the end
// of the process, as memcheck's does.
#include <stdlib.h>
#include <unistd.h>

static void *kept;

int main(void)
{
    void *volatile lost = malloc(19);
    lost = NULL;
    kept = malloc(23);
    _exit(0);
}
