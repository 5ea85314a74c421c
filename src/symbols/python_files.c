// SPDX-License-Identifier: MIT
// Python file owners (see python_files.h). The names are CPython's own: frozen modules are
// called "<frozen NAME>" since 3.11, and every layout of an installed interpreter (Debian's
// /usr/lib/python3.11 and /usr/lib/python3/dist-packages, a venv's lib/python3.11/site-packages,
// Fedora's lib64) puts the library under a "lib/python" directory.
#include "python_files.h"

#include <stddef.h>
#include <string.h>

static int mt_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int mt_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static const char *mt_digits(const char *s)
{
    const char *p = s;
    while (*p >= '0' && *p <= '9')
        p++;
    return p > s ? p : NULL;
}

/* A directory named "pythonX", "pythonX.Y" or "pythonX.Yt" (free-threaded) right after
 * "/lib/" or "/lib64/", anywhere in the path; "/lib/python3-tools/" is not one. */
static int mt_in_python_lib(const char *file)
{
    static const char *const dirs[] = {"/lib/python", "/lib64/python"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        for (const char *p = strstr(file, dirs[i]); p; p = strstr(p + 1, dirs[i])) {
            const char *q = mt_digits(p + strlen(dirs[i]));
            if (q && *q == '.')
                q = mt_digits(q + 1);
            if (q && *q == 't')
                q++;
            if (q && *q == '/')
                return 1;
        }
    }
    return 0;
}

int mt_pyfile_is_import_machinery(const char *file)
{
    static const char *const frozen[] = {
        "<frozen importlib._bootstrap>",
        "<frozen importlib._bootstrap_external>",
        "<frozen zipimport>",
    };
    static const char *const sources[] = {
        "/importlib/_bootstrap.py",
        "/importlib/_bootstrap_external.py",
        "/zipimport.py",
    };
    if (!file)
        return 0;
    for (size_t i = 0; i < sizeof frozen / sizeof frozen[0]; i++)
        if (strcmp(file, frozen[i]) == 0)
            return 1;
    /* The sources only in the standard library: a program's own zipimport.py is its own. */
    if (!mt_in_python_lib(file))
        return 0;
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        if (mt_ends(file, sources[i]))
            return 1;
    return 0;
}

int mt_pyfile_is_library(const char *file)
{
    if (!file)
        return 0;
    if (mt_starts(file, "<frozen "))
        return 1;
    return mt_in_python_lib(file) || strstr(file, "/site-packages/") ||
           strstr(file, "/dist-packages/");
}
