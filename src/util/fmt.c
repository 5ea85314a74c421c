// SPDX-License-Identifier: MIT
// Human-readable number formatting (see fmt.h). Integer arithmetic only, so no locale and no
// rounding surprises from printf("%f").
#include "fmt.h"

#include <inttypes.h>
#include <stdio.h>

__extension__ typedef unsigned __int128 mt_u128;

const char *mt_fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, len, "%" PRIu64 " B", bytes);
        return buf;
    }
    unsigned u = 0;
    uint64_t whole = bytes;
    while (whole >= 1024 && u < 6) {
        whole >>= 10;
        u++;
    }
    /* value = bytes / 1024^u, shown with 3 significant digits, rounded half up */
    unsigned shift = 10 * u;
    int decimals = whole >= 100 ? 0 : whole >= 10 ? 1 : 2;
    uint64_t scale = decimals == 0 ? 1 : decimals == 1 ? 10 : 100;
    /* bytes * scale may overflow for EiB-sized values: use 128-bit intermediate */
    mt_u128 num = (mt_u128)bytes * scale + ((mt_u128)1 << (shift - 1));
    uint64_t v = (uint64_t)(num >> shift);
    if (decimals == 0 && v >= 1024 && u < 6) { /* 1023.9 KiB rounds to 1.00 MiB */
        snprintf(buf, len, "1.00 %s", units[u + 1]);
        return buf;
    }
    if (decimals == 0)
        snprintf(buf, len, "%" PRIu64 " %s", v, units[u]);
    else
        snprintf(buf, len, "%" PRIu64 ".%0*" PRIu64 " %s", v / scale, decimals, v % scale,
                 units[u]);
    return buf;
}

const char *mt_fmt_count(char *buf, size_t len, uint64_t n)
{
    char tmp[32];
    int k = snprintf(tmp, sizeof tmp, "%" PRIu64, n);
    size_t o = 0;
    for (int i = 0; i < k && o + 1 < len; i++) {
        if (i > 0 && (k - i) % 3 == 0 && o + 2 < len)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    if (len)
        buf[o < len ? o : len - 1] = '\0';
    return buf;
}

const char *mt_fmt_clock(char *buf, size_t len, uint64_t us)
{
    uint64_t t = us / 100000;
    uint64_t tenths = t % 10, s = (t / 10) % 60, m = (t / 600) % 60, h = t / 36000;
    if (h)
        snprintf(buf, len, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%" PRIu64, h, m, s, tenths);
    else
        snprintf(buf, len, "%02" PRIu64 ":%02" PRIu64 ".%" PRIu64, m, s, tenths);
    return buf;
}

const char *mt_fmt_seconds(char *buf, size_t len, uint64_t us)
{
    if (us < 10000000) /* below 10 s: milliseconds */
        snprintf(buf, len, "%" PRIu64 ".%03" PRIu64 " s", us / 1000000, (us / 1000) % 1000);
    else if (us < 1000000000)
        snprintf(buf, len, "%" PRIu64 ".%" PRIu64 " s", us / 1000000, (us / 100000) % 10);
    else
        snprintf(buf, len, "%" PRIu64 " s", us / 1000000);
    return buf;
}

const char *mt_fmt_bytes_exact(char *buf, size_t len, uint64_t v)
{
    char h[32], c[32];
    mt_fmt_bytes(h, sizeof h, v);
    if (v < 1024)
        snprintf(buf, len, "%s", h);
    else
        snprintf(buf, len, "%s (%s B)", h, mt_fmt_count(c, sizeof c, v));
    return buf;
}
