// SPDX-License-Identifier: MIT
// A minimal protocol-buffers encoder (wire types 0 and 2 only): varints, length-delimited
// bytes and strings, packed repeated varints, and nested messages built in their own buffer.
// Enough for pprof's profile.proto without a protobuf library. Errors stick (like ferror):
// after an allocation failure every call is a no-op and mt_pb_error() says -ENOMEM.
#ifndef MT_PROTOBUF_WRITER_H
#define MT_PROTOBUF_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct mt_pb {
    uint8_t *buf;
    size_t len, cap;
    int err; /* 0 or -ENOMEM */
} mt_pb_t;

void mt_pb_init(mt_pb_t *pb);
void mt_pb_destroy(mt_pb_t *pb);
/* Empties the buffer, keeping its memory (and a sticky error). */
void mt_pb_reset(mt_pb_t *pb);
int mt_pb_error(const mt_pb_t *pb);

/* Raw varint (no tag). */
void mt_pb_raw_varint(mt_pb_t *pb, uint64_t v);
/* Field with wire type 0. Negative int64 values take 10 bytes, as protobuf specifies. */
void mt_pb_varint(mt_pb_t *pb, uint32_t field, uint64_t v);
/* Field with wire type 2. */
void mt_pb_bytes(mt_pb_t *pb, uint32_t field, const void *data, size_t n);
void mt_pb_string(mt_pb_t *pb, uint32_t field, const char *s);
/* Packed repeated uint64/int64 (wire type 2); nothing is written for n == 0. */
void mt_pb_packed(mt_pb_t *pb, uint32_t field, const uint64_t *v, size_t n);
/* A nested message: sub's bytes as a length-delimited field (sub's error is carried over). */
void mt_pb_message(mt_pb_t *pb, uint32_t field, const mt_pb_t *sub);

/* Bytes of a varint (1..10). */
size_t mt_pb_varint_size(uint64_t v);

#endif
