// SPDX-License-Identifier: MIT
// The program `bootstrap.sh demo` records: a tiny "log processor" with two hot allocation sites
// (tokenize, intern_word) and one leak (remember_error), so the first report someone sees has
// something to say. It explains itself on stdout.
//
// Ground truth (printed as the last line):
//   allocations=5025 frees=5000 leaked_bytes=1600 leaked_blocks=25
//   tokenize      1000 lines x 4 tokens, malloc(32) each, all freed        4000 allocations
//   intern_word   1000 x malloc(64), all freed                            1000 allocations
//   remember_error 25 x malloc(64), never freed (the leak)                  25 allocations
// Output goes through write(2) from stack buffers, so stdio allocates nothing.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINES 1000
#define TOKENS 4

static void say(const char *text)
{
    ssize_t r = write(1, text, strlen(text));
    (void)r;
}

__attribute__((noinline)) static char **tokenize(int line)
{
    static char *slots[TOKENS];
    for (int i = 0; i < TOKENS; i++) {
        slots[i] = malloc(32);
        snprintf(slots[i], 32, "tok%d.%d", line, i);
    }
    return slots;
}

__attribute__((noinline)) static char *intern_word(const char *w)
{
    char *copy = malloc(64);
    strncpy(copy, w, 63);
    copy[63] = '\0';
    return copy;
}

static char *errors[25];

__attribute__((noinline)) static void remember_error(int line)
{
    /* The bug this demo plants: errors are kept forever and never freed. */
    errors[line / 40] = malloc(64);
    snprintf(errors[line / 40], 64, "line %d: bad token", line);
}

int main(void)
{
    say("memtrace demo: processing 1000 log lines.\n"
        "  tokenize() and intern_word() allocate a lot and free everything (hot sites);\n"
        "  remember_error() keeps 25 error messages of 64 bytes and never frees them (a leak).\n");
    for (int line = 0; line < LINES; line++) {
        char **tok = tokenize(line);
        char *word = intern_word(tok[0]);
        if (line % 40 == 0)
            remember_error(line);
        free(word);
        for (int i = 0; i < TOKENS; i++)
            free(tok[i]);
    }
    char out[160];
    snprintf(out, sizeof out,
             "memtrace-sample: allocations=%d frees=%d leaked_bytes=%d leaked_blocks=%d\n",
             LINES * TOKENS + LINES + 25, LINES * TOKENS + LINES, 25 * 64, 25);
    say(out);
    return 0;
}
