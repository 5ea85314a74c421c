// SPDX-License-Identifier: MIT
// Replays every file of the given directories (the fuzzing seed corpus and the inputs that
// once crashed, hung or leaked) through the fuzzer's entry point: each must load or fail with
// one clean message, and the run must end (a sanitizer build turns any memory error into a
// failure). Exits non-zero on any problem.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_driver.h"

static int mt_replay_file(const char *path, size_t *loaded, size_t *refused)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            unsigned char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "%s: out of memory\n", path);
        return -1;
    }
    char err[256] = "";
    int rc = mt_fuzz_one(buf, len, err, sizeof err);
    free(buf);
    if (rc == 0) {
        (*loaded)++;
        return 0;
    }
    if (rc > 0 || err[0] == '\0' || strchr(err, '\n')) {
        fprintf(stderr, "%s: failed with %d but no one-line message ('%s')\n", path, rc, err);
        return -1;
    }
    (*refused)++;
    return 0;
}

int main(int argc, char **argv)
{
    size_t loaded = 0, refused = 0;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
            struct stat st;
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            bad |= mt_replay_file(path, &loaded, &refused) != 0;
        }
        closedir(d);
    }
    printf("%zu inputs: %zu loaded, %zu refused with a message\n", loaded + refused, loaded,
           refused);
    return bad || loaded + refused == 0;
}
