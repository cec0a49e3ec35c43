/*
 * The binary value codec (codec.h): sl_value <-> bytes, lossless for every
 * kind, little-endian, versioned. Encoding measures first and writes into
 * reserved room, so an append is all or nothing; decoding checks a whole
 * value before it allocates, so corrupt input costs no memory and never
 * reads outside the input. Layout: docs/checkpoint-format.md.
 */
#include "core/codec.h"

#include <endian.h>
#include <stdio.h>
#include <string.h>

/* Where an empty composite's items point (never read). */
static const sl_value no_items[1];

/* ------------------------------------------------------ growable buffer */

sl_status sl__buf_reserve(sl__buf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : 64;
    char *p;
    if (n <= b->cap - b->len)
        return SL_OK;
    if (n > SIZE_MAX / 2 - b->len)
        return SL_ENOMEM;
    while (cap - b->len < n)
        cap *= 2;
    p = sl_realloc(b->data, cap);
    if (!p)
        return SL_ENOMEM;
    b->data = p;
    b->cap = cap;
    return SL_OK;
}

sl_status sl__buf_append(sl__buf *b, const void *p, size_t n)
{
    if (n == 0)
        return SL_OK;
    if (sl__buf_reserve(b, n) != SL_OK)
        return SL_ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return SL_OK;
}

void sl__buf_free(sl__buf *b)
{
    sl_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ------------------------------------------------------------- varints */

static size_t uvarint_len(uint64_t x)
{
    size_t n = 1;
    while (x >= 0x80) {
        x >>= 7;
        n++;
    }
    return n;
}

static unsigned char *put_uvarint(unsigned char *p, uint64_t x)
{
    while (x >= 0x80) {
        *p++ = (unsigned char)(x | 0x80);
        x >>= 7;
    }
    *p++ = (unsigned char)x;
    return p;
}

/* Zigzag: small magnitudes of either sign take few bytes. */
static uint64_t zigzag(int64_t i)
{
    uint64_t u = (uint64_t)i;
    return (u << 1) ^ ((uint64_t)0 - (u >> 63));
}

static int64_t unzigzag(uint64_t z)
{
    return (int64_t)((z >> 1) ^ ((uint64_t)0 - (z & 1)));
}

sl_status sl__codec_put_uvarint(sl__buf *b, uint64_t x)
{
    if (sl__buf_reserve(b, SL__VARINT_MAX) != SL_OK)
        return SL_ENOMEM;
    b->len =
        (size_t)((char *)put_uvarint((unsigned char *)b->data + b->len, x) -
                 b->data);
    return SL_OK;
}

/* Minimal encodings only, so every value has exactly one encoding (equal
 * values give equal bytes and equal checksums). */
bool sl__codec_get_uvarint(const unsigned char **p, const unsigned char *end,
                           uint64_t *out)
{
    const unsigned char *s = *p;
    uint64_t x = 0;
    unsigned shift = 0;
    size_t n;
    for (n = 0; s + n < end && n < SL__VARINT_MAX; n++) {
        unsigned char c = s[n];
        if (n == SL__VARINT_MAX - 1 && c > 1)
            return false; /* more than 64 bits */
        x |= (uint64_t)(c & 0x7f) << shift;
        shift += 7;
        if (!(c & 0x80)) {
            if (c == 0 && n > 0)
                return false; /* non-minimal */
            *out = x;
            *p = s + n + 1;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------ encoding */

sl_status sl__codec_begin(sl__buf *b)
{
    unsigned char v = SL__CODEC_VERSION;
    return sl__buf_append(b, &v, 1);
}

static sl_status size_items(const sl_value *v, int depth, size_t *n,
                            sl__errmsg *err);

static sl_status size_of(const sl_value *v, int depth, size_t *n,
                         sl__errmsg *err)
{
    size_t tag = uvarint_len(v->kind);
    switch (v->kind) {
    case SL_KIND_NULL:
        *n += tag;
        return SL_OK;
    case SL_KIND_BOOL:
        *n += tag + 1;
        return SL_OK;
    case SL_KIND_INT:
        *n += tag + uvarint_len(zigzag(v->u.i));
        return SL_OK;
    case SL_KIND_DOUBLE:
        *n += tag + 8;
        return SL_OK;
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        *n += tag + uvarint_len(v->len) + v->len;
        return SL_OK;
    case SL_KIND_PAIR:
        if (v->len != 2)
            return err ? sl__err(err, SL_EINVAL,
                                 "cannot encode a pair of %u items", v->len)
                       : SL_EINVAL;
        *n += tag;
        return size_items(v, depth, n, err);
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        *n += tag + uvarint_len(v->len);
        return size_items(v, depth, n, err);
    }
    return err ? sl__err(err, SL_EINVAL, "cannot encode value kind %u", v->kind)
               : SL_EINVAL;
}

static sl_status size_items(const sl_value *v, int depth, size_t *n,
                            sl__errmsg *err)
{
    uint32_t i;
    sl_status st;
    if (depth >= SL__CODEC_MAX_DEPTH)
        return err ? sl__err(err, SL_ERANGE,
                             "cannot encode a value nested deeper than %d",
                             SL__CODEC_MAX_DEPTH)
                   : SL_ERANGE;
    for (i = 0; i < v->len; i++)
        if ((st = size_of(&v->u.items[i], depth + 1, n, err)) != SL_OK)
            return st;
    return SL_OK;
}

sl_status sl__codec_size(const sl_value *v, size_t *out, sl__errmsg *err)
{
    size_t n = 0;
    sl_status st = size_of(v, 0, &n, err);
    if (st == SL_OK)
        *out = n;
    return st;
}

/* Write v (already measured, so valid) at p; returns the end. */
static unsigned char *write_value(unsigned char *p, const sl_value *v)
{
    uint64_t bits;
    uint32_t i;
    p = put_uvarint(p, v->kind);
    switch (v->kind) {
    case SL_KIND_BOOL:
        *p++ = v->u.b ? 1 : 0;
        break;
    case SL_KIND_INT:
        p = put_uvarint(p, zigzag(v->u.i));
        break;
    case SL_KIND_DOUBLE:
        /* The bit pattern, so NaN payloads and -0.0 survive. */
        memcpy(&bits, &v->u.d, 8);
        bits = htole64(bits);
        memcpy(p, &bits, 8);
        p += 8;
        break;
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        p = put_uvarint(p, v->len);
        if (v->len)
            memcpy(p, v->u.s, v->len);
        p += v->len;
        break;
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        p = put_uvarint(p, v->len);
        /* fall through */
    case SL_KIND_PAIR:
        for (i = 0; i < v->len; i++)
            p = write_value(p, &v->u.items[i]);
        break;
    case SL_KIND_NULL:
        break;
    }
    return p;
}

sl_status sl__codec_encode(sl__buf *b, const sl_value *v, sl__errmsg *err)
{
    size_t n = 0;
    sl_status st = size_of(v, 0, &n, err);
    if (st != SL_OK)
        return st;
    if (sl__buf_reserve(b, n) != SL_OK)
        return err ? sl__err(err, SL_ENOMEM,
                             "out of memory encoding a value of %zu bytes", n)
                   : SL_ENOMEM;
    write_value((unsigned char *)b->data + b->len, v);
    b->len += n;
    return SL_OK;
}

/* ------------------------------------------------------------ decoding */

static void *arena_fn(void *user, size_t size)
{
    return sl__arena_alloc(user, size);
}

sl__codec_alloc sl__codec_arena_alloc(sl__arena *a)
{
    sl__codec_alloc r = {arena_fn, a};
    return r;
}

/*
 * The checking pass: walks one value without allocating, counting the item
 * arrays and string bytes the decode will need.
 */
typedef struct scan {
    const unsigned char *start, *p, *end;
    size_t items, bytes; /* sl_values and string bytes to allocate */
    bool borrow;
    sl__errmsg *err;
} scan;

static sl_status corrupt(scan *s, const unsigned char *at, const char *what)
{
    if (!s->err)
        return SL_ECORRUPT;
    return sl__err(s->err, SL_ECORRUPT,
                   "corrupt value encoding: %s at offset %zu", what,
                   (size_t)(at - s->start));
}

static sl_status scan_varint(scan *s, uint64_t *x, const char *what)
{
    const unsigned char *at = s->p;
    char msg[96];
    if (sl__codec_get_uvarint(&s->p, s->end, x))
        return SL_OK;
    snprintf(msg, sizeof msg, "%s truncated or malformed", what);
    return corrupt(s, at, msg);
}

/* A length or count: at most UINT32_MAX (sl_value.len) and, since every
 * byte or item takes at least one byte, at most what is left. */
static sl_status scan_len(scan *s, uint64_t *n, const char *what)
{
    const unsigned char *at = s->p;
    char msg[128];
    sl_status st = scan_varint(s, n, what);
    if (st != SL_OK)
        return st;
    if (*n > UINT32_MAX || *n > (uint64_t)(s->end - s->p)) {
        snprintf(msg, sizeof msg, "%s %llu exceeds the %zu bytes left", what,
                 (unsigned long long)*n, (size_t)(s->end - s->p));
        return corrupt(s, at, msg);
    }
    return SL_OK;
}

static sl_status scan_value(scan *s, int depth);

static sl_status scan_items(scan *s, uint64_t n, int depth)
{
    sl_status st;
    if (depth >= SL__CODEC_MAX_DEPTH)
        return corrupt(s, s->p, "values nested too deep");
    s->items += (size_t)n;
    while (n--)
        if ((st = scan_value(s, depth + 1)) != SL_OK)
            return st;
    return SL_OK;
}

static sl_status scan_scalar(scan *s, uint64_t kind, const unsigned char *at)
{
    uint64_t x;
    char msg[64];
    switch (kind) {
    case SL_KIND_NULL:
        return SL_OK;
    case SL_KIND_BOOL:
        if (s->p >= s->end)
            return corrupt(s, at, "bool truncated");
        if (*s->p > 1)
            return corrupt(s, s->p, "bool neither 0 nor 1");
        s->p++;
        return SL_OK;
    case SL_KIND_INT:
        return scan_varint(s, &x, "int");
    case SL_KIND_DOUBLE:
        if (s->end - s->p < 8)
            return corrupt(s, at, "double truncated");
        s->p += 8;
        return SL_OK;
    }
    snprintf(msg, sizeof msg, "unknown value kind %llu",
             (unsigned long long)kind);
    return corrupt(s, at, msg);
}

static sl_status scan_value(scan *s, int depth)
{
    const unsigned char *at = s->p;
    uint64_t kind, n;
    sl_status st;
    if (s->p >= s->end)
        return corrupt(s, at, "value truncated");
    if ((st = scan_varint(s, &kind, "value kind")) != SL_OK)
        return st;
    switch (kind) {
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        if ((st = scan_len(s, &n, "string length")) != SL_OK)
            return st;
        s->p += n;
        if (!s->borrow)
            s->bytes += (size_t)n;
        return SL_OK;
    case SL_KIND_PAIR:
        return scan_items(s, 2, depth);
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        if ((st = scan_len(s, &n, "item count")) != SL_OK)
            return st;
        return scan_items(s, n, depth);
    }
    return scan_scalar(s, kind, at);
}

/* The building pass over input scan_value accepted: no checks needed. */
typedef struct build {
    const unsigned char *p;
    sl_value *items;
    char *bytes;
    bool borrow;
} build;

static uint64_t take_varint(build *b)
{
    uint64_t x = 0;
    unsigned shift = 0;
    unsigned char c;
    do {
        c = *b->p++;
        x |= (uint64_t)(c & 0x7f) << shift;
        shift += 7;
    } while (c & 0x80);
    return x;
}

static void build_value(build *b, sl_value *out);

static void build_items(build *b, sl_value *out, sl_kind kind, uint32_t n)
{
    sl_value *items = b->items;
    uint32_t i;
    if (n == 0) { /* nothing was allocated when all composites are empty */
        *out = sl_composite(kind, no_items, 0);
        return;
    }
    b->items += n;
    for (i = 0; i < n; i++)
        build_value(b, &items[i]);
    *out = sl_composite(kind, items, n);
}

static void build_string(build *b, sl_value *out, uint32_t kind)
{
    uint32_t n = (uint32_t)take_varint(b);
    const char *s = "";
    if (n && b->borrow) {
        s = (const char *)b->p;
    } else if (n) {
        memcpy(b->bytes, b->p, n);
        s = b->bytes;
        b->bytes += n;
    }
    b->p += n;
    *out = kind == SL_KIND_STR ? sl_str(s, n) : sl_bytes(s, n);
}

static void build_value(build *b, sl_value *out)
{
    uint32_t kind = (uint32_t)take_varint(b);
    uint64_t bits;
    switch (kind) {
    case SL_KIND_NULL:
        *out = sl_null();
        return;
    case SL_KIND_BOOL:
        *out = sl_bool(*b->p++ != 0);
        return;
    case SL_KIND_INT:
        *out = sl_int(unzigzag(take_varint(b)));
        return;
    case SL_KIND_DOUBLE:
        memcpy(&bits, b->p, 8);
        bits = le64toh(bits);
        b->p += 8;
        *out = sl_double(0);
        memcpy(&out->u.d, &bits, 8);
        return;
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        build_string(b, out, kind);
        return;
    case SL_KIND_PAIR:
        build_items(b, out, SL_KIND_PAIR, 2);
        return;
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        build_items(b, out, (sl_kind)kind, (uint32_t)take_varint(b));
        return;
    }
}

/* Check, allocate once, build: p is where the value starts within the
 * input that begins at start (for offsets in messages). */
static sl_status decode_at(const unsigned char *start, const unsigned char *p,
                           const unsigned char *end, const sl__codec_alloc *a,
                           unsigned flags, sl_value *out, size_t *used,
                           sl__errmsg *err)
{
    scan s = {start, p, end, 0, 0, (flags & SL__CODEC_BORROW) != 0, err};
    build b = {p, NULL, NULL, s.borrow};
    size_t items_size;
    sl_status st = scan_value(&s, 0);
    if (st != SL_OK)
        return st;
    if (s.items > (SIZE_MAX - s.bytes) / sizeof(sl_value))
        return corrupt(&s, p, "value too large for this machine");
    items_size = s.items * sizeof(sl_value);
    if (items_size + s.bytes) {
        b.items = a->fn(a->user, items_size + s.bytes);
        if (!b.items)
            return err ? sl__err(err, SL_ENOMEM,
                                 "out of memory decoding a value (%zu bytes)",
                                 items_size + s.bytes)
                       : SL_ENOMEM;
        b.bytes = (char *)b.items + items_size;
    }
    build_value(&b, out);
    *used = (size_t)(s.p - p);
    return SL_OK;
}

sl_status sl__codec_decode(const void *p, size_t len, size_t *used,
                           const sl__codec_alloc *a, unsigned flags,
                           sl_value *out, sl__errmsg *err)
{
    const unsigned char *s = p;
    size_t n = 0;
    sl_status st = decode_at(s, s, s + len, a, flags, out, &n, err);
    if (st == SL_OK && used)
        *used = n;
    return st;
}

sl_status sl__codec_reader_init(sl__codec_reader *r, const void *p, size_t len,
                                unsigned flags, sl__errmsg *err)
{
    const unsigned char *s = p;
    r->start = r->pos = s;
    r->end = s + len;
    r->version = 0;
    r->flags = flags;
    if (len == 0)
        return err ? sl__err(err, SL_ECORRUPT,
                             "corrupt value encoding: no format version byte")
                   : SL_ECORRUPT;
    if (s[0] == 0 || s[0] > SL__CODEC_VERSION)
        return err ? sl__err(err, SL_ECORRUPT,
                             "value encoding format version %u is not one "
                             "this build reads (1 to %d)",
                             s[0], SL__CODEC_VERSION)
                   : SL_ECORRUPT;
    r->version = s[0];
    r->pos = s + 1;
    return SL_OK;
}

sl_status sl__codec_read(sl__codec_reader *r, const sl__codec_alloc *a,
                         sl_value *out, sl__errmsg *err)
{
    size_t n = 0;
    sl_status st =
        decode_at(r->start, r->pos, r->end, a, r->flags, out, &n, err);
    if (st == SL_OK)
        r->pos += n;
    return st;
}
