/*
 * sl_value operations: equality, the seedless hash, the total order,
 * Spark-style and JSON formatting, and deep copies into arenas (how a value
 * moves from a short lifetime into a longer one).
 */
#include "core/core.h"

#include <endian.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sl_value sl_cstr(const char *s)
{
    return sl_str(s, s ? strlen(s) : 0);
}

/* ------------------------------------------------------------ equality */

static bool double_equal(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

bool sl__value_identical(const sl_value *a, const sl_value *b)
{
    uint32_t i;
    if (a->kind != b->kind || a->len != b->len)
        return false;
    switch (a->kind) {
    case SL_KIND_NULL:
        return true;
    case SL_KIND_BOOL:
        return a->u.b == b->u.b;
    case SL_KIND_INT:
        return a->u.i == b->u.i;
    case SL_KIND_DOUBLE:
        return memcmp(&a->u.d, &b->u.d, sizeof a->u.d) == 0;
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        return a->len == 0 || memcmp(a->u.s, b->u.s, a->len) == 0;
    case SL_KIND_PAIR:
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        for (i = 0; i < a->len; i++)
            if (!sl__value_identical(&a->u.items[i], &b->u.items[i]))
                return false;
        return true;
    }
    return false; /* a kind this build does not know is never the same */
}

bool sl_value_equal(const sl_value *a, const sl_value *b)
{
    uint32_t i;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case SL_KIND_NULL:
        return true;
    case SL_KIND_BOOL:
        return a->u.b == b->u.b;
    case SL_KIND_INT:
        return a->u.i == b->u.i;
    case SL_KIND_DOUBLE:
        return double_equal(a->u.d, b->u.d);
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        return a->len == b->len &&
               (a->len == 0 || memcmp(a->u.s, b->u.s, a->len) == 0);
    case SL_KIND_PAIR:
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        if (a->len != b->len)
            return false;
        for (i = 0; i < a->len; i++)
            if (!sl_value_equal(&a->u.items[i], &b->u.items[i]))
                return false;
        return true;
    }
    /* A kind this code does not know: nothing of it is read, so two of the
     * same kind are equal rather than dereferenced as something else. */
    return true;
}

/* ---------------------------------------------------------------- hash */

/*
 * The value hash is fixed and seedless so that state sharding (key hash mod
 * S) is the same on every run and machine; docs/architecture.md gives the
 * algorithm. Bytes are folded 8 at a time with a multiply-rotate step and
 * the result is finished with MurmurHash3's 64-bit finaliser.
 */
#define H_K1 0x9E3779B97F4A7C15ULL
#define H_K2 0xC2B2AE3D27D4EB4FULL

static uint64_t fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

uint64_t sl__hash_bytes(const void *p, size_t len, uint64_t h)
{
    const unsigned char *s = p;
    uint64_t w;
    h ^= (uint64_t)len * H_K1;
    while (len >= 8) {
        memcpy(&w, s, 8);
        w = le64toh(w); /* the same hash on machines of either byte order */
        h = rotl64(h ^ (w * H_K2), 29) * H_K1;
        s += 8;
        len -= 8;
    }
    if (len) {
        w = 0;
        memcpy(&w, s, len);
        w = le64toh(w);
        h = rotl64(h ^ (w * H_K2), 29) * H_K1;
    }
    return fmix64(h);
}

uint64_t sl_value_hash(const sl_value *v)
{
    uint64_t h = (uint64_t)(v->kind + 1) * H_K2, bits;
    uint32_t i;
    double d;
    switch (v->kind) {
    case SL_KIND_NULL:
        return fmix64(h);
    case SL_KIND_BOOL:
        return fmix64(h ^ (uint64_t)v->u.b);
    case SL_KIND_INT:
        return fmix64(h ^ ((uint64_t)v->u.i * H_K1));
    case SL_KIND_DOUBLE:
        d = v->u.d == 0.0 ? 0.0 : v->u.d; /* -0.0 == 0.0 */
        if (isnan(d))
            d = NAN;
        /* Hash the bit pattern in little-endian order, as strings are. */
        memcpy(&bits, &d, sizeof bits);
        bits = htole64(bits);
        return sl__hash_bytes(&bits, sizeof bits, h);
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        return sl__hash_bytes(v->u.s, v->len, h);
    case SL_KIND_PAIR:
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        for (i = 0; i < v->len; i++)
            h = rotl64(h ^ sl_value_hash(&v->u.items[i]), 27) * H_K1;
        return fmix64(h ^ v->len);
    }
    return fmix64(h); /* an unknown kind: by kind alone, as sl_value_equal */
}

/* --------------------------------------------------------------- order */

static int cmp_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b); /* NaN sorts last */
    return (a > b) - (a < b);
}

int sl_value_compare(const sl_value *a, const sl_value *b)
{
    uint32_t i, n;
    int c;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    switch (a->kind) {
    case SL_KIND_NULL:
        return 0;
    case SL_KIND_BOOL:
        return (int)a->u.b - (int)b->u.b;
    case SL_KIND_INT:
        return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    case SL_KIND_DOUBLE:
        return cmp_double(a->u.d, b->u.d);
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        n = a->len < b->len ? a->len : b->len;
        c = n ? memcmp(a->u.s, b->u.s, n) : 0;
        if (c)
            return c < 0 ? -1 : 1;
        return (a->len > b->len) - (a->len < b->len);
    case SL_KIND_PAIR:
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        n = a->len < b->len ? a->len : b->len;
        for (i = 0; i < n; i++) {
            c = sl_value_compare(&a->u.items[i], &b->u.items[i]);
            if (c)
                return c;
        }
        return (a->len > b->len) - (a->len < b->len);
    }
    return 0; /* an unknown kind: by kind alone, as sl_value_equal */
}

/* ---------------------------------------------------------- formatting */

/* A bounded output buffer that keeps counting past its end, so callers
 * learn the full length as snprintf reports it. */
typedef struct writer {
    char *buf;
    size_t cap, len;
    size_t *replaced; /* JSON: ill-formed UTF-8 sequences replaced */
} writer;

static void w_put(writer *w, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (w->len < w->cap) {
        size_t room = w->cap - w->len;
        memcpy(w->buf + w->len, s, n < room ? n : room);
    }
    w->len += n;
}

static void w_str(writer *w, const char *s)
{
    w_put(w, s, strlen(s));
}

/* Prints d with precision prec into tmp; true when the text reads back as
 * d. */
static bool round_trips(char *tmp, size_t cap, const char *fmt, int prec,
                        double d)
{
    snprintf(tmp, cap, fmt, prec, d);
    return strtod(tmp, NULL) == d;
}

/*
 * The shortest "%.*<conv>" text of d that reads back as d (precision 17
 * when none does). Searching precisions one by one cost up to 17
 * snprintf/strtod pairs per double, most of the console's time for
 * averages. Whether precision p reads back is monotone in p unless d is
 * a power of two: the nearest (p+1)-digit decimal is no farther from d
 * than the nearest p-digit one, and the set of decimals that read back
 * as d is symmetric around d (same half-width, same tie rule on both
 * sides) except at a power of two, whose lower neighbour is half as far.
 * So a binary search finds the same precision as the linear search,
 * which powers of two keep. The first probe is the precision that gives
 * 16 significant digits: an average fails it and needs 17.
 */
static void shortest(char *tmp, size_t cap, char conv, double d)
{
    char fmt[8] = {'%', '.', '*', conv, 0};
    int lo = conv == 'f' ? 1 : 0, hi = 17, last = -1, exp2, mid;
    if (d == 0.0 || fabs(frexp(d, &exp2)) == 0.5) {
        while (lo < hi && !round_trips(tmp, cap, fmt, lo, d))
            lo++;
        if (lo == hi)
            snprintf(tmp, cap, fmt, hi, d);
        return;
    }
    /* digits before the point (negative: zeros after it) */
    mid = conv == 'f' ? 16 - ((int)floor(log10(fabs(d))) + 1) : 15;
    if (mid >= hi) /* below 0.1, 17 fraction digits are 16 digits or less */
        mid = hi - 1;
    while (lo < hi) {
        if (mid < lo || mid >= hi)
            mid = lo + (hi - lo) / 2;
        last = mid;
        if (round_trips(tmp, cap, fmt, mid, d))
            hi = mid;
        else
            lo = mid + 1;
        mid = -1;
    }
    if (last != lo)
        snprintf(tmp, cap, fmt, lo, d);
}

/* Java's Double.toString, which Spark prints: plain decimals with at least
 * one fractional digit in [1e-3, 1e7), else "1.0E7" style. */
static void w_double(writer *w, double d)
{
    char tmp[64], *e;
    double mag = fabs(d);
    if (isnan(d)) {
        w_str(w, "NaN");
        return;
    }
    if (isinf(d)) {
        w_str(w, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    if (mag == 0.0 || (mag >= 1e-3 && mag < 1e7)) {
        shortest(tmp, sizeof tmp, 'f', d);
        w_str(w, tmp);
        return;
    }
    shortest(tmp, sizeof tmp, 'E', d);
    e = strchr(tmp, 'E');
    w_put(w, tmp, (size_t)(e - tmp));
    if (!memchr(tmp, '.', (size_t)(e - tmp)))
        w_str(w, ".0");
    w_str(w, "E");
    e++;
    if (*e == '-')
        w_put(w, e++, 1);
    else if (*e == '+')
        e++;
    while (*e == '0' && e[1])
        e++;
    w_str(w, e);
}

static void w_scalar(writer *w, const sl_value *v)
{
    char tmp[32];
    switch (v->kind) {
    case SL_KIND_NULL:
        w_str(w, "null");
        break;
    case SL_KIND_BOOL:
        w_str(w, v->u.b ? "true" : "false");
        break;
    case SL_KIND_INT:
        snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i);
        w_str(w, tmp);
        break;
    case SL_KIND_DOUBLE:
        w_double(w, v->u.d);
        break;
    }
}

static void w_spark(writer *w, const sl_value *v)
{
    uint32_t i;
    bool list = v->kind == SL_KIND_LIST;
    switch (v->kind) {
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        w_put(w, v->u.s, v->len);
        return;
    case SL_KIND_PAIR:
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        w_str(w, list ? "[" : "(");
        for (i = 0; i < v->len; i++) {
            if (i)
                w_str(w, list ? ", " : ",");
            w_spark(w, &v->u.items[i]);
        }
        w_str(w, list ? "]" : ")");
        return;
    case SL_KIND_NULL:
    case SL_KIND_BOOL:
    case SL_KIND_INT:
    case SL_KIND_DOUBLE:
        w_scalar(w, v);
        return;
    }
}

static size_t w_finish(writer *w)
{
    if (w->cap)
        w->buf[w->len < w->cap ? w->len : w->cap - 1] = '\0';
    return w->len;
}

size_t sl_value_format(const sl_value *v, char *buf, size_t cap)
{
    writer w = {buf, cap, 0, NULL};
    w_spark(&w, v);
    return w_finish(&w);
}

static void w_emit(void *user, const char *s, size_t n)
{
    w_put(user, s, n);
}

/* Strings through the one JSON escaper (json_out.c): always valid UTF-8. */
static void w_json_string(writer *w, const char *s, size_t n)
{
    w_str(w, "\"");
    sl__json_escape_emit(w_emit, w, s, n, w->replaced);
    w_str(w, "\"");
}

/* Bytes are binary: JSON has no such type, so they are base64 text. */
static void w_json_bytes(writer *w, const char *s, size_t n)
{
    char chunk[4 * 64];
    size_t i;
    w_str(w, "\"");
    for (i = 0; i < n; i += 3 * 64)
        w_put(w, chunk, sl__base64(chunk, s + i, n - i < 192 ? n - i : 192));
    w_str(w, "\"");
}

static void w_json(writer *w, const sl_value *v)
{
    uint32_t i;
    switch (v->kind) {
    case SL_KIND_STR:
        w_json_string(w, v->u.s, v->len);
        return;
    case SL_KIND_BYTES:
        w_json_bytes(w, v->u.s, v->len);
        return;
    case SL_KIND_DOUBLE:
        if (isnan(v->u.d) || isinf(v->u.d))
            w_str(w, "null");
        else
            w_double(w, v->u.d);
        return;
    case SL_KIND_PAIR:
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        w_str(w, "[");
        for (i = 0; i < v->len; i++) {
            if (i)
                w_str(w, ",");
            w_json(w, &v->u.items[i]);
        }
        w_str(w, "]");
        return;
    case SL_KIND_NULL:
    case SL_KIND_BOOL:
    case SL_KIND_INT:
        w_scalar(w, v);
        return;
    }
}

size_t sl__value_format_json(const sl_value *v, char *buf, size_t cap,
                             size_t *replaced)
{
    writer w = {buf, cap, 0, replaced};
    w_json(&w, v);
    return w_finish(&w);
}

size_t sl_value_format_json(const sl_value *v, char *buf, size_t cap)
{
    return sl__value_format_json(v, buf, cap, NULL);
}

/* --------------------------------------------------------------- copies */

static bool needs_copy(const sl__arena *from, const void *p)
{
    return from == NULL || sl__arena_owns(from, p);
}

static bool refs_arena(const sl__arena *a, const sl_value *v)
{
    uint32_t i;
    if (!sl__kind_has_refs(v->kind) || v->len == 0)
        return false;
    if (sl__arena_owns(a, v->u.s))
        return true;
    if (v->kind == SL_KIND_STR || v->kind == SL_KIND_BYTES)
        return false;
    for (i = 0; i < v->len; i++)
        if (refs_arena(a, &v->u.items[i]))
            return true;
    return false;
}

size_t sl__value_deep_size(const sl_value *v)
{
    size_t n = 0;
    uint32_t i;
    switch (v->kind) {
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        return SL__ALIGN_UP((size_t)v->len, 8);
    case SL_KIND_PAIR:
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        n = (size_t)v->len * sizeof(sl_value);
        for (i = 0; i < v->len; i++)
            n += sl__value_deep_size(&v->u.items[i]);
        return n;
    }
    return 0; /* scalars (and kinds unknown here) point to nothing */
}

sl_status sl__value_copy_deep(sl__arena *to, const sl__arena *from,
                              const sl_value *v, sl_value *out)
{
    sl_value *items;
    uint32_t i;
    *out = *v;
    switch (v->kind) {
    case SL_KIND_STR:
    case SL_KIND_BYTES:
        if (v->len == 0 || !needs_copy(from, v->u.s))
            return SL_OK;
        out->u.s = sl__arena_memdup(to, v->u.s, v->len);
        return out->u.s ? SL_OK : SL_ENOMEM;
    case SL_KIND_PAIR:
    case SL_KIND_TUPLE:
    case SL_KIND_LIST:
        if (v->len == 0)
            return SL_OK;
        /* An item array outside the scratch arena may still hold items
         * that point into it (a pair kept from an earlier record holding a
         * string built in this one), so it is shared only when nothing
         * below it is scratch. */
        if (from != NULL && !refs_arena(from, v))
            return SL_OK;
        items = sl__arena_alloc(to, (size_t)v->len * sizeof *items);
        if (!items)
            return SL_ENOMEM;
        for (i = 0; i < v->len; i++)
            if (sl__value_copy(to, from, &v->u.items[i], &items[i]) != SL_OK)
                return SL_ENOMEM;
        out->u.items = items;
        return SL_OK;
    }
    return SL_OK; /* scalars (and kinds unknown here) point to nothing */
}

void sl__value_flatten(const sl_value *v, sl_value *out, char **mem)
{
    uint32_t i;
    *out = *v;
    if ((v->kind == SL_KIND_STR || v->kind == SL_KIND_BYTES) && v->len) {
        memcpy(*mem, v->u.s, v->len);
        out->u.s = *mem;
        *mem += SL__ALIGN_UP((size_t)v->len, 8);
    } else if (sl_kind_is_composite(v->kind) && v->len) {
        sl_value *items = (sl_value *)(void *)*mem;
        *mem += (size_t)v->len * sizeof(sl_value);
        for (i = 0; i < v->len; i++)
            sl__value_flatten(&v->u.items[i], &items[i], mem);
        out->u.items = items;
    }
}
