/*
 * The binary value codec: a versioned, little-endian, lossless encoding of
 * every sl_value kind, for state deltas and snapshots, the WAL and retained
 * window data. docs/checkpoint-format.md ("Value encoding") gives the exact
 * byte layout; this header is the interface for the layers above src/core.
 */
#ifndef SL_CORE_CODEC_H
#define SL_CORE_CODEC_H

#include "core/core.h"

/*
 * The format version a stream or record batch starts with. A reader accepts
 * every version up to this one; a newer version is refused by number, never
 * guessed at. Bump it only with a reader for the old layout kept.
 */
#define SL__CODEC_VERSION 1

/*
 * Composites nest at most this deep (a scalar at the top is depth 0, a list
 * of scalars depth 1). The JSON record reader makes at most 2 * 64 + 1
 * levels (an object is a list of pairs), so whatever the engine reads
 * encodes; deeper values are refused on encode (SL_ERANGE) so that nothing
 * is ever written that cannot be read back, and on decode (SL_ECORRUPT)
 * so that garbage cannot exhaust the stack.
 */
#define SL__CODEC_MAX_DEPTH 256

/* Largest encoding of one varint (a 64-bit number, 7 bits a byte). */
#define SL__VARINT_MAX 10

/* ------------------------------------------------------ growable buffer */

/*
 * A growable byte buffer through the allocation hook. Zero-initialise it
 * ({0}) to start; sl__buf_free releases it and leaves it empty.
 */
typedef struct sl__buf {
    char *data;
    size_t len, cap;
} sl__buf;

/** Make room for n more bytes past len; SL_ENOMEM leaves b intact. */
sl_status sl__buf_reserve(sl__buf *b, size_t n);
/** Append n bytes; SL_ENOMEM leaves b intact. */
sl_status sl__buf_append(sl__buf *b, const void *p, size_t n);
/** Release the memory; b is empty and usable again. */
void sl__buf_free(sl__buf *b);

/* ------------------------------------------------------------ encoding */

/*
 * Unsigned LEB128 varints, the codec's lengths and counts, for the file
 * formats built on it (record counts, batch ids). put appends (SL_ENOMEM
 * leaves b intact); get reads a minimal encoding from [*p, end), advancing
 * *p, and returns false for a truncated, over-long or non-minimal one.
 */
sl_status sl__codec_put_uvarint(sl__buf *b, uint64_t x);
bool sl__codec_get_uvarint(const unsigned char **p, const unsigned char *end,
                           uint64_t *out);

/** Append the format version byte that opens a stream or record batch. */
sl_status sl__codec_begin(sl__buf *b);

/**
 * Exact number of bytes sl__codec_encode appends for v. SL_ERANGE when v
 * nests deeper than SL__CODEC_MAX_DEPTH, SL_EINVAL for a pair of other
 * than 2 items or a kind this build does not know (err says which; may be
 * NULL).
 */
sl_status sl__codec_size(const sl_value *v, size_t *out, sl__errmsg *err);

/**
 * Append the encoding of v to b. All or nothing: on any error b is as it
 * was. Errors as sl__codec_size, and SL_ENOMEM.
 */
sl_status sl__codec_encode(sl__buf *b, const sl_value *v, sl__errmsg *err);

/* ------------------------------------------------------------ decoding */

/*
 * Where decoded item arrays and string bytes go: fn returns size bytes,
 * 8-aligned, or NULL when out of memory. sl__codec_arena_alloc wraps an
 * arena; a caller with its own heap (the state store) passes its own fn.
 */
typedef struct sl__codec_alloc {
    void *(*fn)(void *user, size_t size);
    void *user;
} sl__codec_alloc;

/** An sl__codec_alloc that allocates from arena a. */
sl__codec_alloc sl__codec_arena_alloc(sl__arena *a);

/*
 * Decode flags. BORROW: string and bytes values point into the input
 * instead of being copied (the input must then outlive the values; item
 * arrays are still allocated).
 */
#define SL__CODEC_BORROW 1u

/*
 * A reader over one stream or record batch: the version byte, then values
 * one after the other. The reader never reads outside [start, end).
 */
typedef struct sl__codec_reader {
    const unsigned char *start, *pos, *end;
    int version;
    unsigned flags;
} sl__codec_reader;

/**
 * Start reading p[0, len): checks the version byte. SL_ECORRUPT (err names
 * the version) for an empty input, version 0 or one newer than
 * SL__CODEC_VERSION.
 */
sl_status sl__codec_reader_init(sl__codec_reader *r, const void *p, size_t len,
                                unsigned flags, sl__errmsg *err);

/** True when every byte has been read. */
static inline bool sl__codec_reader_done(const sl__codec_reader *r)
{
    return r->pos >= r->end;
}

/**
 * Decode the next value into *out, with memory from a. The whole value is
 * checked before anything is allocated: corrupt input allocates nothing
 * and leaves the reader where it was. SL_ECORRUPT (err gives the offset
 * and reason, e.g. "unknown value kind 9 at offset 12") for truncated or
 * malformed input, including reading past the end; SL_ENOMEM.
 */
sl_status sl__codec_read(sl__codec_reader *r, const sl__codec_alloc *a,
                         sl_value *out, sl__errmsg *err);

/**
 * Decode one value (no version byte) from p[0, len) at the current
 * version; *used gets the bytes it took (may be NULL). Same contract as
 * sl__codec_read.
 */
sl_status sl__codec_decode(const void *p, size_t len, size_t *used,
                           const sl__codec_alloc *a, unsigned flags,
                           sl_value *out, sl__errmsg *err);

#endif /* SL_CORE_CODEC_H */
