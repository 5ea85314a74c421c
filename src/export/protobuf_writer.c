// SPDX-License-Identifier: MIT
// Protocol-buffers encoding (see protobuf_writer.h): the wire format of
// https://protobuf.dev/programming-guides/encoding/, little-endian base-128 varints and
// length prefixes. Grows its buffer geometrically; never writes past it.
#include "protobuf_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void mt_pb_init(mt_pb_t *pb)
{
    memset(pb, 0, sizeof *pb);
}

void mt_pb_destroy(mt_pb_t *pb)
{
    free(pb->buf);
    memset(pb, 0, sizeof *pb);
}

void mt_pb_reset(mt_pb_t *pb)
{
    pb->len = 0;
}

int mt_pb_error(const mt_pb_t *pb)
{
    return pb->err;
}

static int mt_pb_reserve(mt_pb_t *pb, size_t n)
{
    if (pb->err)
        return -1;
    if (pb->cap - pb->len >= n)
        return 0;
    size_t cap = pb->cap ? pb->cap : 256;
    while (cap - pb->len < n) {
        if (cap > SIZE_MAX / 2) {
            pb->err = -ENOMEM;
            return -1;
        }
        cap *= 2;
    }
    uint8_t *nb = realloc(pb->buf, cap);
    if (!nb) {
        pb->err = -ENOMEM;
        return -1;
    }
    pb->buf = nb;
    pb->cap = cap;
    return 0;
}

size_t mt_pb_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

void mt_pb_raw_varint(mt_pb_t *pb, uint64_t v)
{
    if (mt_pb_reserve(pb, 10) < 0)
        return;
    while (v >= 0x80) {
        pb->buf[pb->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    pb->buf[pb->len++] = (uint8_t)v;
}

static void mt_pb_tag(mt_pb_t *pb, uint32_t field, unsigned wire)
{
    mt_pb_raw_varint(pb, ((uint64_t)field << 3) | wire);
}

void mt_pb_varint(mt_pb_t *pb, uint32_t field, uint64_t v)
{
    mt_pb_tag(pb, field, 0);
    mt_pb_raw_varint(pb, v);
}

void mt_pb_bytes(mt_pb_t *pb, uint32_t field, const void *data, size_t n)
{
    mt_pb_tag(pb, field, 2);
    mt_pb_raw_varint(pb, n);
    if (n && mt_pb_reserve(pb, n) == 0) {
        memcpy(pb->buf + pb->len, data, n);
        pb->len += n;
    }
}

void mt_pb_string(mt_pb_t *pb, uint32_t field, const char *s)
{
    mt_pb_bytes(pb, field, s ? s : "", s ? strlen(s) : 0);
}

void mt_pb_packed(mt_pb_t *pb, uint32_t field, const uint64_t *v, size_t n)
{
    if (!n)
        return;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += mt_pb_varint_size(v[i]);
    mt_pb_tag(pb, field, 2);
    mt_pb_raw_varint(pb, len);
    for (size_t i = 0; i < n; i++)
        mt_pb_raw_varint(pb, v[i]);
}

void mt_pb_message(mt_pb_t *pb, uint32_t field, const mt_pb_t *sub)
{
    if (sub->err) {
        if (!pb->err)
            pb->err = sub->err;
        return;
    }
    mt_pb_bytes(pb, field, sub->buf, sub->len);
}
